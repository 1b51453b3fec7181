//! Session cookies: HttpOnly, SameSite=Lax, Secure behind https, one name per account kind.
pub use cookie::SameSite;
use cookie::Cookie;
use http::HeaderMap;

pub const TENANT_COOKIE: &str = "mp_tenant";
pub const OPERATOR_COOKIE: &str = "mp_operator";
pub const PASSPORT_COOKIE: &str = "mp_passport";
/// The `sessions.kind` of a person signed in to their Passport.
pub const PASSPORT_SESSION: &str = "passport";
/// The address a sign-in code was just sent to, so that the page (with or without its
/// script) shows the code step after a reload or a plain form post.
pub const CODE_SENT_COOKIE: &str = "mp_code_to";
/// A sentence for the next page view after a plain form post (an error, or "code sent").
pub const NOTICE_COOKIE: &str = "mp_notice";
/// The hosted completion page's token, read once by that page.
pub const COMPLETION_COOKIE: &str = "mp_completion";

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

/// A short-lived HttpOnly cookie holding text (percent-encoded), for one page or all.
pub fn text_cookie(base: &str, text: &str, secure: bool, max_age_secs: i64, path: &str, same_site: SameSite) -> String {
    let value: String = form_urlencoded::byte_serialize(text.as_bytes()).collect();
    Cookie::build((name(base, secure), value))
        .http_only(true)
        .same_site(same_site)
        .secure(secure)
        .path(path.to_string())
        .max_age(cookie::time::Duration::seconds(max_age_secs))
        .build()
        .to_string()
}

/// Removes a `text_cookie` set on `path`.
pub fn expired_text_cookie(base: &str, secure: bool, path: &str) -> String {
    text_cookie(base, "", secure, 0, path, SameSite::Lax)
}

/// The text of a `text_cookie`, if present.
pub fn read_text(headers: &HeaderMap, base: &str, secure: bool) -> Option<String> {
    let raw = read(headers, base, secure)?;
    let bytes: Vec<u8> = form_urlencoded::parse(format!("v={raw}").as_bytes()).next().map(|(_, v)| v.into_owned().into_bytes())?;
    String::from_utf8(bytes).ok().filter(|t| !t.is_empty())
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

    #[test]
    fn text_cookies_round_trip_any_text() {
        let text = "Zoë+x@example.com; a=b, \"c\" ✓";
        let c = text_cookie(NOTICE_COOKIE, text, false, 60, "/", SameSite::Lax);
        let pair = c.split(';').next().unwrap();
        assert!(!pair[NOTICE_COOKIE.len() + 1..].contains([' ', ';', ',', '"']), "{pair}");
        let mut h = HeaderMap::new();
        h.insert(http::header::COOKIE, pair.parse().unwrap());
        assert_eq!(read_text(&h, NOTICE_COOKIE, false).as_deref(), Some(text));
        assert!(expired_text_cookie(NOTICE_COOKIE, false, "/").contains("Max-Age=0"));
    }
}
