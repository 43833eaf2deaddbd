//! Scrubbing text before it leaves the computer in a support bundle.
//!
//! Two layers, because neither is enough alone:
//! * the secrets Herald knows — the session's phone numbers and LIDs, the store key, message
//!   texts in the database — are replaced wherever they occur, whatever surrounds them;
//! * shapes that are secrets whatever their value: runs of 7 or more digits (phone numbers,
//!   JID users), long tokens mixing letters and digits (keys, QR payloads, base64, hex), the
//!   values of `text`/`body`/`message`/`caption` fields, and the user's home folder.
//!
//! Unix timestamps (10 digits, or 13 in milliseconds, starting with 1) are kept: the history
//! is useless without its times, and no phone number has that shape (E.164 numbers starting
//! with 1 are North American, 11 digits).

/// What replaces a known secret.
pub const SECRET: &str = "[redacted]";
/// What replaces a phone-number-like digit run.
pub const NUMBER: &str = "[number]";
/// What replaces a key-like token.
pub const TOKEN: &str = "[token]";
/// What replaces a message text.
pub const TEXT: &str = "[text]";

/// Field names whose values are message content.
const TEXT_FIELDS: &[&str] = &["text", "body", "message", "caption", "content"];
/// Shortest mixed letter-and-digit token treated as key material.
const TOKEN_MIN: usize = 24;
/// Shortest digit run treated as a number to hide.
const DIGITS_MIN: usize = 7;

/// A scrubber loaded with the secrets it must find.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    /// Longest first, so a secret that contains another is replaced whole.
    secrets: Vec<String>,
    home: Option<String>,
}

impl Redactor {
    /// A redactor that knows no secrets yet; it still applies the shape rules.
    pub fn new() -> Self {
        Self {
            secrets: Vec::new(),
            home: std::env::var("HOME")
                .ok()
                .filter(|h| h.len() > 1)
                .or_else(|| std::env::var("USERPROFILE").ok()),
        }
    }

    /// Adds a secret to replace wherever it occurs. Very short ones are skipped: replacing
    /// every "a" would destroy the bundle and protect nothing.
    pub fn add_secret(&mut self, secret: &str) {
        let secret = secret.trim();
        if secret.chars().count() < 3 || self.secrets.iter().any(|s| s == secret) {
            return;
        }
        self.secrets.push(secret.to_owned());
        self.secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }

    /// Adds the user part of a JID (`15551234567` of `15551234567:3@s.whatsapp.net`) and the
    /// JID itself.
    pub fn add_jid(&mut self, jid: &str) {
        let user = jid.split(['@', ':', '.']).next().unwrap_or_default();
        self.add_secret(user);
        self.add_secret(jid);
    }

    /// `text` with every secret and secret-shaped run replaced.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), SECRET);
            }
        }
        if let Some(home) = &self.home {
            out = out.replace(home.as_str(), "~");
        }
        let out = redact_text_fields(&out);
        redact_shapes(&out)
    }
}

/// Replaces the values of `text=…`, `text: …` and `"text":"…"` fields (up to the end of the
/// quoted value, or of the word when unquoted).
fn redact_text_fields(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    'scan: while !rest.is_empty() {
        // A key starts a word: `context=` is not a `text=` field.
        let at_word_start = !out
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        if at_word_start {
            for field in TEXT_FIELDS {
                if let Some(value) = field_value_start(rest, field) {
                    out.push_str(&rest[..rest.len() - value.len()]);
                    out.push_str(TEXT);
                    rest = skip_value(value);
                    continue 'scan;
                }
            }
        }
        let mut chars = rest.chars();
        if let Some(c) = chars.next() {
            out.push(c);
        }
        rest = chars.as_str();
    }
    out
}

/// When `s` starts with `field` used as a key (`text=`, `text: `, `"text":`), what follows
/// the separator.
fn field_value_start<'a>(s: &'a str, field: &str) -> Option<&'a str> {
    let after_name = match s.strip_prefix('"') {
        Some(r) => r.strip_prefix(field)?.strip_prefix('"')?,
        None => s.strip_prefix(field)?,
    };
    let after_name = after_name.trim_start_matches(' ');
    let after_sep = after_name
        .strip_prefix('=')
        .or_else(|| after_name.strip_prefix(':'))?;
    Some(after_sep.trim_start_matches(' '))
}

/// Skips one value: a quoted string (with `\"` escapes) or a run up to whitespace, a comma or
/// a closing brace.
fn skip_value(s: &str) -> &str {
    if let Some(body) = s.strip_prefix('"') {
        let mut escaped = false;
        for (i, c) in body.char_indices() {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => return &body[i + 1..],
                _ => {}
            }
        }
        return "";
    }
    let end = s
        .find(|c: char| c.is_whitespace() || c == ',' || c == '}')
        .unwrap_or(s.len());
    &s[end..]
}

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=' | '_' | '-')
}

/// Replaces long mixed tokens and long digit runs.
fn redact_shapes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut token = String::new();
    for c in text.chars() {
        if is_token_char(c) {
            token.push(c);
        } else {
            flush_token(&mut out, &token);
            token.clear();
            out.push(c);
        }
    }
    flush_token(&mut out, &token);
    out
}

fn flush_token(out: &mut String, token: &str) {
    if token.is_empty() {
        return;
    }
    let letters = token.chars().any(|c| c.is_ascii_alphabetic());
    let digits = token.chars().filter(char::is_ascii_digit).count();
    if token.len() >= TOKEN_MIN && letters && digits > 0 {
        out.push_str(TOKEN);
        return;
    }
    // Digit runs inside the token (a phone number glued to a word or a JID's `:device`).
    let mut run = String::new();
    for c in token.chars() {
        if c.is_ascii_digit() {
            run.push(c);
        } else {
            flush_digits(out, &run);
            run.clear();
            out.push(c);
        }
    }
    flush_digits(out, &run);
}

fn flush_digits(out: &mut String, run: &str) {
    let timestamp = (run.len() == 10 || run.len() == 13) && run.starts_with('1');
    if run.len() >= DIGITS_MIN && !timestamp {
        out.push_str(NUMBER);
    } else {
        out.push_str(run);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bare() -> Redactor {
        Redactor {
            secrets: Vec::new(),
            home: Some("/home/alice".into()),
        }
    }

    #[test]
    fn phone_numbers_and_jids_go_and_timestamps_stay() {
        let r = bare();
        let line = "paired jid=15557654321:7@s.whatsapp.net lid=100000000000042:7@lid +4915112345678 at_ms=1796116414741 t=1796116414 attempt=3 delay_ms=2000";
        let out = r.redact(line);
        for gone in ["15557654321", "100000000000042", "4915112345678"] {
            assert!(!out.contains(gone), "{gone} left in {out}");
        }
        for kept in [
            "at_ms=1796116414741",
            "t=1796116414",
            "attempt=3",
            "delay_ms=2000",
        ] {
            assert!(out.contains(kept), "{kept} lost from {out}");
        }
        assert!(out.contains("[number]:7@s.whatsapp.net"), "{out}");
    }

    #[test]
    fn keys_and_qr_payloads_become_tokens() {
        let r = bare();
        let hex = "9f".repeat(32);
        let qr = "2@AbCdEf0123456789xyzXYZ==,noiseKEY0123456789abcdefABCDEF+/=,id";
        let out = r.redact(&format!("key {hex} qr {qr} word supercalifragilistic"));
        assert!(!out.contains(&hex), "{out}");
        assert!(!out.contains("AbCdEf0123456789xyzXYZ"), "{out}");
        assert!(
            out.contains("supercalifragilistic"),
            "plain words stay: {out}"
        );
    }

    #[test]
    fn known_secrets_go_wherever_they_are() {
        let mut r = bare();
        r.add_secret("meet at the harbour");
        r.add_jid("15557654321:7@s.whatsapp.net");
        r.add_secret("a");
        let out = r.redact("sent \"meet at the harbour\" to 15557654321 (ok)");
        assert_eq!(out, "sent \"[redacted]\" to [redacted] (ok)");
    }

    #[test]
    fn message_fields_are_blanked_in_logs_and_json() {
        let r = bare();
        let out = r.redact(
            r#"send text="hi \"there\" bob" to=x {"body":"secret plan","n":1} message: hello"#,
        );
        assert!(!out.contains("there") && !out.contains("bob"), "{out}");
        assert!(!out.contains("secret plan"), "{out}");
        assert!(!out.contains("hello"), "{out}");
        assert!(out.contains("to=x") && out.contains("\"n\":1"), "{out}");
        assert_eq!(r.redact("context=kept"), "context=kept");
    }

    #[test]
    fn the_home_folder_is_shortened() {
        assert_eq!(
            bare().redact("log at /home/alice/.local/share/herald"),
            "log at ~/.local/share/herald"
        );
    }
}
