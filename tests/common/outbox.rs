//! The mail the server sent: without an SMTP server it writes each mail as an `.eml` file to
//! the test's outbox folder. `app.outbox()` is the one reader of that folder, for every test.
use super::app::TestApp;
use std::path::PathBuf;
use std::time::Duration;

/// The test app's outbox folder.
pub struct Outbox {
    dir: PathBuf,
}

impl TestApp {
    /// The mail this app has sent.
    pub fn outbox(&self) -> Outbox {
        Outbox { dir: self.dir.path().join("outbox") }
    }
}

impl Outbox {
    /// The finished mails' files (`.eml`), in no order.
    fn eml_files(&self) -> Vec<PathBuf> {
        std::fs::read_dir(&self.dir)
            .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "eml")).collect())
            .unwrap_or_default()
    }

    /// Every mail in the outbox now, oldest first (no waiting).
    pub fn all(&self) -> Vec<String> {
        let mut files = self.eml_files();
        files.sort();
        files.iter().map(|f| decode_quoted_printable(&std::fs::read_to_string(f).unwrap())).collect()
    }

    /// Every mail in the outbox so far, oldest first, waiting up to two seconds for at least `n`.
    pub async fn wait_for(&self, n: usize) -> Vec<String> {
        for _ in 0..40 {
            let mut files = self.eml_files();
            if files.len() >= n {
                files.sort();
                return files.iter().map(|f| decode_quoted_printable(&std::fs::read_to_string(f).unwrap())).collect();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("expected {n} mails in the outbox");
    }

    /// Waits until the outbox holds `n` mails, then a little longer, and returns how many it holds.
    pub async fn settled_count(&self, n: usize) -> usize {
        for _ in 0..200 {
            if self.all().len() >= n {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        self.all().len()
    }

    /// How many files the outbox folder holds now, a mail still being written included (0
    /// before the first mail).
    pub fn files(&self) -> usize {
        std::fs::read_dir(&self.dir).map(|d| d.count()).unwrap_or(0)
    }

    /// The mails addressed to exactly `email` so far, oldest first (no waiting).
    pub fn to(&self, email: &str) -> Vec<String> {
        self.all().into_iter().filter(|m| is_to(m, email)).collect()
    }

    /// The sign-in codes mailed to exactly `email` so far, oldest first (no waiting).
    pub fn codes_to(&self, email: &str) -> Vec<String> {
        self.to(email).iter().filter(|m| is_code_mail(m)).map(|m| code_in(m)).collect()
    }

    /// The newest of the first `n` mails (waiting for them) whose text has `To: {email}`: its
    /// code and its one-click sign-in link.
    pub async fn code_and_link(&self, email: &str, n: usize) -> (String, String) {
        let mails = self.wait_for(n).await;
        let mail = mails.iter().rev().find(|m| m.contains(&format!("To: {email}"))).expect("a mail to the address");
        let code = code_in(mail);
        let link = mail.lines().find(|l| l.contains("/passport/link?")).expect("a one-click link").trim().to_string();
        (code, link)
    }
}

/// True if `mail` is addressed to exactly `email`.
pub fn is_to(mail: &str, email: &str) -> bool {
    mail.lines().any(|l| l.trim_end() == format!("To: {email}"))
}

/// True if `mail` is a sign-in code.
pub fn is_code_mail(mail: &str) -> bool {
    mail.contains("is your Memory Passport code")
}

/// The code in a sign-in mail (the subject starts with it).
pub fn code_in(mail: &str) -> String {
    let subject = mail.lines().find(|l| l.starts_with("Subject: ")).expect("a subject");
    let code: String = subject["Subject: ".len()..].chars().take(6).collect();
    assert!(code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()), "{subject}");
    code
}

/// Undoes quoted-printable (long lines in mail bodies), leaving everything else alone.
pub fn decode_quoted_printable(s: &str) -> String {
    let s = s.replace("=\r\n", "");
    let (b, mut out, mut i) = (s.as_bytes(), Vec::new(), 0);
    while i < b.len() {
        if b[i] == b'=' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
