//! Outgoing mail: SMTP through lettre when `SMTP_URL` is set; otherwise each message is
//! written as an RFC 5322 `.eml` file to the outbox folder and the log says where (never what:
//! mails carry sign-in codes).
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("SMTP_URL is not usable: {0}")]
    BadUrl(String),
    #[error("not a deliverable address")]
    BadAddress,
    #[error("could not build the message: {0}")]
    Build(String),
    #[error("SMTP delivery failed: {0}")]
    Smtp(String),
    #[error("could not write to the outbox {0}: {1}")]
    Outbox(String, std::io::Error),
}

/// A plain-text message to one person.
#[derive(Clone, Debug)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
}

#[derive(Clone)]
enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Outbox(PathBuf),
}

#[derive(Clone)]
pub struct Mailer {
    transport: Transport,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.transport {
            Transport::Smtp(_) => f.write_str("Mailer(smtp)"),
            Transport::Outbox(dir) => write!(f, "Mailer(outbox {})", dir.display()),
        }
    }
}

impl Mailer {
    /// `from` is the sender address, e.g. "Memory Passport <no-reply@localhost>".
    pub fn new(smtp_url: Option<&str>, outbox: PathBuf, from: &str) -> Result<Mailer, MailError> {
        let from: Mailbox = from.parse().map_err(|_| MailError::BadUrl(format!("bad sender address {from:?}")))?;
        let transport = match smtp_url {
            Some(url) => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| MailError::BadUrl(e.to_string()))?
                    .build(),
            ),
            None => Transport::Outbox(outbox),
        };
        Ok(Mailer { transport, from })
    }

    pub async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let to: Mailbox = mail.to.parse().map_err(|_| MailError::BadAddress)?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .header(ContentType::TEXT_PLAIN)
            .body(mail.text.clone())
            .map_err(|e| MailError::Build(e.to_string()))?;
        match &self.transport {
            Transport::Smtp(smtp) => {
                smtp.send(message).await.map_err(|e| MailError::Smtp(e.to_string()))?;
                // Subjects can carry sign-in codes: never logged.
                tracing::info!("mail sent over SMTP");
            }
            Transport::Outbox(dir) => {
                let fail = |e| MailError::Outbox(dir.display().to_string(), e);
                tokio::fs::create_dir_all(dir).await.map_err(fail)?;
                let name = format!("{}-{}.eml", crate::store::now_ms(), uuid::Uuid::new_v4().simple());
                let path = dir.join(&name);
                // Written under a hidden name, then renamed: a reader of the outbox never sees
                // half a message.
                let partial = dir.join(format!(".{name}.partial"));
                tokio::fs::write(&partial, message.formatted()).await.map_err(fail)?;
                tokio::fs::rename(&partial, &path).await.map_err(fail)?;
                tracing::info!(file = %path.display(), "mail written to the outbox");
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn outbox_holds_one_rfc5322_file_per_mail() {
        let dir = std::env::temp_dir().join(format!("mp-outbox-{}", uuid::Uuid::new_v4().simple()));
        let mailer = Mailer::new(None, dir.clone(), "Memory Passport <no-reply@localhost>").unwrap();
        let link = format!("https://mp.example/manage?revoke={}", "x".repeat(80));
        let mail = Mail { to: "ada@example.com".into(), subject: "Your code".into(), text: format!("Code: 123456\n{link}\n") };
        mailer.send(&mail).await.unwrap();
        let files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
        assert_eq!(files.len(), 1);
        let text = std::fs::read_to_string(&files[0]).unwrap();
        assert!(text.contains("To: ada@example.com") && text.contains("Subject: Your code") && text.contains("Code: 123456"));
        // Long lines travel quoted-printable (tests/common decodes it to find links).
        assert!(text.contains("Content-Transfer-Encoding: quoted-printable") && text.contains("revoke=3D"));
        assert!(text.contains("\r\n"), "RFC 5322 line endings");
        assert!(matches!(mailer.send(&Mail { to: "not an address".into(), ..mail }).await, Err(MailError::BadAddress)));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn bad_smtp_urls_are_refused_at_start() {
        assert!(Mailer::new(Some("ftp://nope"), PathBuf::from("x"), "a@b.example").is_err());
        assert!(Mailer::new(Some("smtp://localhost:2525"), PathBuf::from("x"), "Memory Passport <a@b.example>").is_ok());
    }
}
