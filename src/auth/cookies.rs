//! Session cookies: HttpOnly, SameSite=Lax, Secure behind https, one name per account kind.
use cookie::{Cookie, SameSite};
use http::HeaderMap;

pub const TENANT_COOKIE: &str = "mp_tenant";
pub const OPERATOR_COOKIE: &str = "mp_operator";
pub const PASSPORT_COOKIE: &str = "mp_passport";
/// The `sessions.kind` of a person signed in to their Passport.
pub const PASSPORT_SESSION: &str = "passport";

/// The cookie's name: with the `__Host-` prefix when Secure, so that no other host (a sibling
/// subdomain) can set or overwrite it.
pub fn name(base: &str, secure: bool) -> String {
    if secure {
        format!("__Host-{base}")
    } else {
        base.to_string()
    }
}

pub fn session_cookie(base: &str, token: &str, secure: bool, max_age_secs: i64) -> String {
    Cookie::build((name(base, secure), token.to_string()))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .path("/")
        .max_age(cookie::time::Duration::seconds(max_age_secs))
        .build()
        .to_string()
}

pub fn expired_cookie(base: &str, secure: bool) -> String {
    session_cookie(base, "", secure, 0)
}

/// The value of session cookie `base` (as named by `name`) in the request headers, if any.
pub fn read(headers: &HeaderMap, base: &str, secure: bool) -> Option<String> {
    let name = name(base, secure);
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| Cookie::split_parse(v.to_string()))
        .filter_map(Result::ok)
        .find(|c| c.name() == name.as_str() && !c.value().is_empty())
        .map(|c| c.value().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_and_reads() {
        let c = session_cookie(TENANT_COOKIE, "abc", true, 60);
        assert!(c.starts_with("__Host-mp_tenant=abc"));
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Lax") && c.contains("Secure") && c.contains("Path=/"));
        assert!(!c.contains("Domain"));
        assert!(session_cookie(TENANT_COOKIE, "abc", false, 60).starts_with("mp_tenant=abc"));
        let mut h = HeaderMap::new();
        h.insert(http::header::COOKIE, "x=1; mp_tenant=abc; y=2".parse().unwrap());
        assert_eq!(read(&h, TENANT_COOKIE, false).as_deref(), Some("abc"));
        assert_eq!(read(&h, TENANT_COOKIE, true), None, "over https only the __Host- cookie counts");
        assert_eq!(read(&h, OPERATOR_COOKIE, false), None);
    }
}
