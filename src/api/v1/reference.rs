//! Turns the OpenAPI document into the reader's view of `/docs/api`: operations grouped by
//! tag, with their credentials, parameters, body fields and answers in words.
use crate::model::{ApiReference, Field, Operation, OperationGroup, ResponseDoc};
use serde_json::Value;
use std::sync::OnceLock;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// The reference of this server's own document, made once.
pub fn reference() -> &'static ApiReference {
    static REFERENCE: OnceLock<ApiReference> = OnceLock::new();
    REFERENCE.get_or_init(|| from_document(&serde_json::to_value(super::openapi()).unwrap_or_default()))
}

pub fn from_document(doc: &Value) -> ApiReference {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let mut groups: Vec<OperationGroup> = doc["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| OperationGroup { name: text(&t["name"]), description: text(&t["description"]), operations: Vec::new() })
        .collect();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let tag = op["tags"][0].as_str().unwrap_or("other");
            let operation = operation(doc, method, path, op);
            match groups.iter_mut().find(|g| g.name == tag) {
                Some(g) => g.operations.push(operation),
                None => groups.push(OperationGroup { name: tag.into(), description: String::new(), operations: vec![operation] }),
            }
        }
    }
    ApiReference {
        title: text(&doc["info"]["title"]),
        version: text(&doc["info"]["version"]),
        description: text(&doc["info"]["description"]),
        groups,
    }
}

fn operation(doc: &Value, method: &str, path: &str, op: &Value) -> Operation {
    let credentials = op["security"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .flat_map(|alternative| alternative.keys())
        .map(|name| {
            let scheme = &doc["components"]["securitySchemes"][name];
            format!("{} {}", scheme["name"].as_str().unwrap_or(name), scheme["in"].as_str().unwrap_or_default())
        })
        .collect();
    let params = op["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| Field {
            name: p["name"].as_str().unwrap_or_default().into(),
            location: p["in"].as_str().unwrap_or_default().into(),
            kind: kind(doc, &p["schema"]),
            required: p["required"].as_bool().unwrap_or(false),
            description: p["description"].as_str().unwrap_or_default().into(),
        })
        .collect();
    let body_schema = resolve(doc, &op["requestBody"]["content"]["application/json"]["schema"]);
    let required: Vec<&str> = body_schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    let body = body_schema["properties"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, schema)| Field {
            name: name.clone(),
            location: "body".into(),
            kind: kind(doc, schema),
            required: required.contains(&name.as_str()),
            description: schema["description"].as_str().unwrap_or_default().into(),
        })
        .collect();
    let responses = op["responses"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(status, r)| {
            let schema = r["content"].as_object().and_then(|c| c.values().next()).map(|c| kind(doc, &c["schema"])).unwrap_or_default();
            ResponseDoc { status: status.clone(), description: r["description"].as_str().unwrap_or_default().into(), schema }
        })
        .collect();
    Operation {
        method: method.to_uppercase(),
        path: path.into(),
        summary: op["summary"].as_str().unwrap_or_default().into(),
        description: op["description"].as_str().unwrap_or_default().into(),
        credentials,
        params,
        body,
        responses,
    }
}

/// The schema a `$ref` points to (one level), or the schema itself.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str().and_then(|r| r.strip_prefix("#/components/schemas/")) {
        Some(name) => &doc["components"]["schemas"][name],
        None => schema,
    }
}

/// A type in words: "string", "list of CategoryName (one of …)", "integer or null".
fn kind(doc: &Value, schema: &Value) -> String {
    if let Some(name) = schema["$ref"].as_str().and_then(|r| r.rsplit('/').next()) {
        let target = resolve(doc, schema);
        return match target["enum"].as_array() {
            Some(values) => one_of(values),
            None => match name.strip_prefix("Envelope_") {
                Some(inner) => format!("data: {}", inner.replace("Vec_", "list of ")),
                None => name.to_string(),
            },
        };
    }
    if let Some(values) = schema["enum"].as_array() {
        return one_of(values);
    }
    if let Some(alternatives) = schema["oneOf"].as_array().or_else(|| schema["anyOf"].as_array()) {
        return alternatives.iter().map(|a| kind(doc, a)).collect::<Vec<_>>().join(" or ");
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let words: Vec<String> = types
        .iter()
        .map(|t| match *t {
            "array" => format!("list of {}", kind(doc, &schema["items"])),
            "string" if schema["format"] == "date-time" => "time (RFC 3339)".into(),
            other => other.into(),
        })
        .collect();
    if words.is_empty() {
        "any JSON".into()
    } else {
        words.join(" or ")
    }
}

fn one_of(values: &[Value]) -> String {
    let names: Vec<&str> = values.iter().filter_map(Value::as_str).collect();
    format!("one of {}", names.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_on_the_page_with_its_fields_in_words() {
        let doc = serde_json::to_value(crate::api::v1::openapi()).unwrap();
        let r = from_document(&doc);
        let ops: Vec<&Operation> = r.groups.iter().flat_map(|g| &g.operations).collect();
        let documented: usize = doc["paths"].as_object().unwrap().values().map(|i| i.as_object().unwrap().keys().filter(|k| METHODS.contains(&k.as_str())).count()).sum();
        assert_eq!(ops.len(), documented);
        assert_eq!(r.groups.iter().map(|g| g.name.as_str()).collect::<Vec<_>>(), ["agents", "universal", "me"]);

        let add = ops.iter().find(|o| o.path == "/v1/universal/memories/add").unwrap();
        assert_eq!(add.method, "POST");
        assert_eq!(add.credentials, ["Authorization header", "X-MemoryOS-UUI header"]);
        let messages = add.body.iter().find(|f| f.name == "messages").unwrap();
        assert!(messages.required && messages.kind == "list of MessageBody", "{messages:?}");
        let job = ops.iter().find(|o| o.path == "/v1/universal/memories/jobs/{job_id}").unwrap();
        assert_eq!(job.responses[0].schema, "data: JobStatus");
        assert!(add.responses.iter().any(|r| r.status == "403" && r.schema == "ErrorBody"));

        let retrieve = ops.iter().find(|o| o.path == "/v1/universal/memories/retrieve").unwrap();
        let format = retrieve.body.iter().find(|f| f.name == "format").unwrap();
        assert!(format.kind.contains("one of bullets, json, xml"), "{format:?}");

        let page = ops.iter().find(|o| o.path == "/v1/uui/me/memories").unwrap();
        assert!(page.params.iter().any(|p| p.name == "q" && p.location == "query"));
        assert_eq!(page.credentials, ["mp_passport cookie"]);
    }
}
