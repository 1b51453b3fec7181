//! Email address normalisation and a deliberately modest syntax check: the real check is that
//! mail arrives.

pub const MAX_EMAIL_LEN: usize = 254;

/// Trims and lower-cases an address, or says why it cannot be one.
pub fn normalize(raw: &str) -> Result<String, &'static str> {
    let email = raw.trim().to_lowercase();
    if email.is_empty() {
        return Err("Enter your email address.");
    }
    if email.len() > MAX_EMAIL_LEN {
        return Err("That email address is too long.");
    }
    let Some((local, domain)) = email.split_once('@') else {
        return Err("Enter an email address like name@example.com.");
    };
    let bad_char = |c: char| c.is_whitespace() || c.is_control() || c == '@' || c == '<' || c == '>';
    if local.is_empty()
        || domain.len() < 3
        || !domain.contains('.')
        || domain.starts_with('.')
        || domain.ends_with('.')
        || email.chars().filter(|c| *c == '@').count() != 1
        || email.chars().any(|c| c != '@' && bad_char(c))
    {
        return Err("Enter an email address like name@example.com.");
    }
    Ok(email)
}

/// The mailbox an address delivers to, for limits on how much mail one person can be sent:
/// `Ada+x@Example.com` and `ada@example.com` are one mailbox, and so are Gmail's dotted
/// spellings. Identity stays the exact (normalised) address; this only groups limits.
pub fn mailbox(normalized: &str) -> String {
    let Some((local, domain)) = normalized.split_once('@') else {
        return normalized.to_string();
    };
    let local = local.split('+').next().unwrap_or(local);
    match domain {
        "gmail.com" | "googlemail.com" => format!("{}@gmail.com", local.replace('.', "")),
        _ => format!("{local}@{domain}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_case_and_space() {
        assert_eq!(normalize("  Ada@Example.COM ").unwrap(), "ada@example.com");
    }

    #[test]
    fn plus_and_dot_variants_share_a_mailbox() {
        let one = |raw: &str| mailbox(&normalize(raw).unwrap());
        assert_eq!(one("Ada+news@Example.com"), "ada@example.com");
        assert_eq!(one("ada+a+b@example.com"), "ada@example.com");
        assert_eq!(one("A.D.A+x@googlemail.com"), "ada@gmail.com");
        assert_eq!(one("a.da@gmail.com"), one("ada@gmail.com"));
        assert_ne!(one("a.da@example.com"), one("ada@example.com"), "dots matter elsewhere");
        assert_ne!(one("ada@example.com"), one("ada@example.org"));
    }

    #[test]
    fn rejects_non_addresses() {
        for bad in ["", "ada", "ada@", "@example.com", "ada@example", "a b@example.com", "a@@example.com", "a@.com."] {
            assert!(normalize(bad).is_err(), "{bad:?} should be rejected");
        }
        assert!(normalize(&format!("{}@example.com", "a".repeat(250))).is_err());
    }
}
