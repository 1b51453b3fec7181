//! `/docs/api`: the API reference, rendered from the same OpenAPI document that
//! `/v1/openapi.json` serves (so the page cannot describe a route that does not exist).
use super::components::PageTitle;
use leptos::prelude::*;
pub use crate::model::{ApiReference, Field, Operation, OperationGroup, ResponseDoc};

#[server(endpoint = "docs/api", input = leptos::server_fn::codec::GetUrl)]
pub async fn load_api_reference() -> Result<ApiReference, ServerFnError> {
    Ok(crate::api::v1::reference::reference().clone())
}

#[component]
pub fn ApiDocsPage() -> impl IntoView {
    let reference = Resource::new(|| (), |_| load_api_reference());
    view! {
        <PageTitle text="API reference"/>
        <header class="site-header">
            <a class="brand" href="/">"Memory Passport"</a>
            <nav aria-label="Documentation">
                <a href="/v1/openapi.json">"OpenAPI JSON"</a>
            </nav>
        </header>
        <main id="main" class="api-docs">
            <Suspense fallback=|| view! { <p>"Loading the reference…"</p> }>
                {move || reference.get().map(|r| match r {
                    Ok(r) => view! { <Reference r/> }.into_any(),
                    Err(_) => view! { <p role="alert">"The reference could not be loaded. Reload the page to try again."</p> }.into_any(),
                })}
            </Suspense>
        </main>
    }
}

#[component]
fn Reference(r: ApiReference) -> impl IntoView {
    let toc = r
        .groups
        .iter()
        .map(|g| {
            let ops = g
                .operations
                .iter()
                .map(|op| {
                    let href = format!("#{}", anchor(op));
                    view! { <li><a href=href><code>{op.method.clone()}" "{op.path.clone()}</code></a></li> }
                })
                .collect_view();
            view! { <li><a href=format!("#group-{}", g.name)>{g.name.clone()}</a><ul>{ops}</ul></li> }
        })
        .collect_view();
    view! {
        <h1>{r.title.clone()}" "<span class="muted small">"v"{r.version.clone()}</span></h1>
        <p class="lead"><Prose text=r.description.clone()/></p>
        <p>"Every call is JSON over HTTPS. Errors are "<code>"{\"error\", \"code\", \"request_id\", \"details\"}"</code>
           " with the HTTP status below. The machine-readable document is "<a href="/v1/openapi.json">"/v1/openapi.json"</a>"."</p>
        <nav class="card api-toc" aria-label="Endpoints"><ul>{toc}</ul></nav>
        {r.groups.into_iter().map(|g| view! {
            <section class="api-group" aria-labelledby=format!("group-{}", g.name)>
                <h2 id=format!("group-{}", g.name)>{g.name.clone()}</h2>
                <p><Prose text=g.description.clone()/></p>
                {g.operations.into_iter().map(|op| view! { <OperationCard op/> }).collect_view()}
            </section>
        }).collect_view()}
    }
}

/// Text with `code` spans, as the document's descriptions write them.
#[component]
fn Prose(#[prop(into)] text: String) -> impl IntoView {
    text.split('`')
        .enumerate()
        .map(|(i, part)| if i % 2 == 1 { view! { <code>{part.to_string()}</code> }.into_any() } else { part.to_string().into_any() })
        .collect_view()
}

fn anchor(op: &Operation) -> String {
    let slug: String = op.path.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    format!("{}{}", op.method.to_lowercase(), slug)
}

#[component]
fn OperationCard(op: Operation) -> impl IntoView {
    let id = anchor(&op);
    let method_class = format!("method method-{}", op.method.to_lowercase());
    let credentials = (!op.credentials.is_empty()).then(|| {
        let needs = op.credentials.iter().enumerate().map(|(i, c)| view! { {(i > 0).then_some(" and ")}<code>{c.clone()}</code> }).collect_view();
        view! { <p class="small">"Needs: "{needs}</p> }
    });
    let fields = |title: &'static str, fields: Vec<Field>| {
        (!fields.is_empty()).then(|| {
            view! {
                <table class="api-fields">
                    <caption>{title}</caption>
                    <thead><tr><th scope="col">"Name"</th><th scope="col">"Type"</th><th scope="col">"Description"</th></tr></thead>
                    <tbody>
                        {fields.into_iter().map(|f| view! {
                            <tr>
                                <td><code>{f.name}</code>{f.required.then_some(view! { <span class="required">" required"</span> })}</td>
                                <td>{f.kind}</td>
                                <td><Prose text=f.description/></td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            }
        })
    };
    view! {
        <article class="card api-op" id=id.clone() aria-labelledby=format!("{id}-title") tabindex="0">
            <h3 id=format!("{id}-title")><span class=method_class>{op.method.clone()}</span>" "<code>{op.path.clone()}</code></h3>
            <p><Prose text=op.summary/></p>
            {(!op.description.is_empty()).then(|| view! { <p class="muted"><Prose text=op.description/></p> })}
            {credentials}
            {fields("Parameters", op.params)}
            {fields("JSON body", op.body)}
            <table class="api-fields">
                <caption>"Answers"</caption>
                <thead><tr><th scope="col">"Status"</th><th scope="col">"When"</th><th scope="col">"Body"</th></tr></thead>
                <tbody>
                    {op.responses.into_iter().map(|r| view! {
                        <tr><td><code>{r.status}</code></td><td><Prose text=r.description/></td><td>{r.schema}</td></tr>
                    }).collect_view()}
                </tbody>
            </table>
        </article>
    }
}
