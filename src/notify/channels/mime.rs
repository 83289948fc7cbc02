//! A message with attachments as raw MIME (RFC 5322 / 2045 / 2047), for SES's `Raw` content: SES's simple
//! content has no attachments an emulator can show, and raw MIME is what every mail service accepts.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::notify::messages::{Attachment, Email};

const CRLF: &str = "\r\n";

/// The whole message: headers, the text and HTML parts as alternatives, then each attachment.
pub fn raw_message(from: &str, email: &Email) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let (mixed, alternative) = (format!("pg-mixed-{id}"), format!("pg-alt-{id}"));
    let to: Vec<&str> = email.to.iter().map(|a| a.as_str()).collect();
    let mut out = String::new();
    for (name, value) in [
        ("From", from.to_owned()),
        ("To", to.join(", ")),
        ("Subject", encode_header(&email.subject)),
        ("MIME-Version", "1.0".to_owned()),
        (
            "Content-Type",
            format!("multipart/mixed; boundary=\"{mixed}\""),
        ),
    ] {
        out.push_str(&format!("{name}: {value}{CRLF}"));
    }
    if email.high_priority {
        for (name, value) in super::HIGH_PRIORITY_HEADERS {
            out.push_str(&format!("{name}: {value}{CRLF}"));
        }
    }
    out.push_str(&format!("{CRLF}--{mixed}{CRLF}"));
    out.push_str(&format!(
        "Content-Type: multipart/alternative; boundary=\"{alternative}\"{CRLF}{CRLF}"
    ));
    for (kind, body) in [("text/plain", &email.text), ("text/html", &email.html)] {
        out.push_str(&format!("--{alternative}{CRLF}"));
        out.push_str(&part_headers(&format!("{kind}; charset=utf-8"), None));
        out.push_str(&wrapped_base64(body.as_bytes()));
    }
    out.push_str(&format!("--{alternative}--{CRLF}"));
    for attachment in &email.attachments {
        out.push_str(&format!("--{mixed}{CRLF}"));
        out.push_str(&attachment_part(attachment));
    }
    out.push_str(&format!("--{mixed}--{CRLF}"));
    out
}

fn part_headers(content_type: &str, filename: Option<&str>) -> String {
    let mut h =
        format!("Content-Type: {content_type}{CRLF}Content-Transfer-Encoding: base64{CRLF}");
    if let Some(name) = filename {
        h.push_str(&format!(
            "Content-Disposition: attachment; filename=\"{name}\"{CRLF}"
        ));
    }
    h.push_str(CRLF);
    h
}

fn attachment_part(attachment: &Attachment) -> String {
    let name = safe_filename(&attachment.filename);
    let content_type = format!("{}; name=\"{name}\"", attachment.content_type);
    part_headers(&content_type, Some(&name)) + &wrapped_base64(&attachment.data)
}

/// A file name that needs no quoting or encoding: letters, digits, `.`, `-` and `_`.
fn safe_filename(name: &str) -> String {
    let clean: String = name
        .chars()
        .map(|c| match c {
            c if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') => c,
            _ => '_',
        })
        .take(100)
        .collect();
    if clean.is_empty() {
        "attachment".to_owned()
    } else {
        clean
    }
}

/// Base64 in lines of 76 characters, each ending in CRLF.
fn wrapped_base64(data: &[u8]) -> String {
    let encoded = STANDARD.encode(data);
    let mut out = String::with_capacity(encoded.len() + encoded.len() / 76 * 2 + 2);
    for chunk in encoded.as_bytes().chunks(76) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push_str(CRLF);
    }
    out
}

/// A header value as is when it is plain printable ASCII, else as RFC 2047 encoded words (at most 75 characters
/// each, folded onto continuation lines).
fn encode_header(value: &str) -> String {
    let plain = value.chars().all(|c| c.is_ascii() && !c.is_ascii_control());
    if plain {
        return value.to_owned();
    }
    let chars: Vec<char> = value.chars().filter(|c| !c.is_control()).collect();
    chars
        .chunks(12)
        .map(|chunk| {
            let piece: String = chunk.iter().collect();
            format!("=?UTF-8?B?{}?=", STANDARD.encode(piece.as_bytes()))
        })
        .collect::<Vec<_>>()
        .join(&format!("{CRLF} "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::EmailAddress;

    #[test]
    fn a_message_with_a_csv_reads_back_as_sent() {
        let email = Email {
            to: vec![EmailAddress::parse("sec@example.com").unwrap()],
            subject: "Digest — 3 changes".into(),
            text: "plain".into(),
            html: "<p>html</p>".into(),
            attachments: vec![Attachment {
                filename: "changes 2026/11.csv".into(),
                content_type: "text/csv; charset=utf-8",
                data: b"a,b\n1,2\n".to_vec(),
            }],
            high_priority: false,
        };
        let raw = raw_message("guard@example.com", &email);
        assert!(raw.contains("To: sec@example.com\r\n"));
        assert!(raw.contains("Subject: =?UTF-8?B?"));
        assert!(raw.contains("filename=\"changes_2026_11.csv\""));
        assert!(raw.contains(&STANDARD.encode(b"a,b\n1,2\n")));
        assert!(
            raw.lines().all(|l| l.len() <= 998),
            "no line over the RFC 5322 limit"
        );
        let subject_words: Vec<&str> = raw.lines().filter(|l| l.contains("=?UTF-8?B?")).collect();
        assert!(subject_words.iter().all(|w| w.trim().len() <= 75 + 9));
    }
}
