//! The page a person sees after following a report link: what changed and when, one button, and then what was
//! done. Plain HTML that works without JavaScript on any phone: no script, no external asset, one small style
//! sheet allowed by its hash in the Content-Security-Policy. Every text that came from a change is escaped.

use std::sync::LazyLock;
use std::time::SystemTime;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};

use crate::notify::report_link::{ChangeSource, ChangedBy, LinkedChange};

use super::lock::LockNote;

/// The page's one style sheet; the Content-Security-Policy allows exactly this text.
const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;\
background:#f5f5f5;color:#1c1b1f;line-height:1.5}main{max-width:34rem;margin:0 auto;padding:1.5rem 1rem}\
h1{font-size:1.5rem;margin:0 0 1rem}ul{padding-left:1.25rem}li{margin:.25rem 0}\
button{display:block;width:100%;padding:.9rem 1rem;margin:1.25rem 0;font-size:1.1rem;font-weight:700;\
color:#fff;background:#b3261e;border:0;border-radius:.5rem;cursor:pointer}\
button:focus{outline:3px solid #1c1b1f;outline-offset:2px}.small{color:#49454f;font-size:.9rem}\
.done{border-left:4px solid #146c2e;padding-left:.75rem}.warn{border-left:4px solid #b3261e;padding-left:.75rem}";

/// The Content-Security-Policy of every report page: nothing may load or run, the style sheet above excepted;
/// the form posts only to this service; no site may frame the page.
pub static CONTENT_SECURITY_POLICY: LazyLock<String> = LazyLock::new(|| {
    let hash = STANDARD.encode(Sha256::digest(STYLE.as_bytes()));
    format!(
        "default-src 'none'; style-src 'sha256-{hash}'; form-action 'self'; frame-ancestors 'none'; \
         base-uri 'none'"
    )
});

/// What a page says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Page {
    /// The change, and the button (a form posting the token).
    Confirm {
        change: LinkedChange,
        token: String,
        /// `REPORT_ACTION=lock`: the page says the account will be locked.
        locks: bool,
    },
    /// Reported just now; what was done.
    Reported(LockNote),
    /// The report could not be passed on: the button again, to try later.
    NotPassedOn {
        token: String,
    },
    AlreadyReported,
    /// Missing, cut short, altered or foreign.
    Invalid,
    Expired,
}

/// A page ready to answer: its status and its HTML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub status: u16,
    pub html: String,
}

/// Escapes text for HTML content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `2026-11-24 03:17 UTC`.
fn when(at: SystemTime) -> String {
    let text = humantime::format_rfc3339_seconds(at).to_string();
    match (text.get(..10), text.get(11..16)) {
        (Some(day), Some(time)) => format!("{day} {time} UTC"),
        _ => text,
    }
}

fn who(by: ChangedBy) -> &'static str {
    match by {
        ChangedBy::Person => " with your own sign-in",
        ChangedBy::Administrator => " by an administrator",
        ChangedBy::AnotherUser => " by an administrator or another user",
        ChangedBy::Application => " by an application",
        ChangedBy::Unknown => "",
    }
}

fn contact(support: Option<&str>) -> String {
    match support {
        Some(s) => format!("contact {}", escape(s)),
        None => "contact your administrator".to_owned(),
    }
}

fn form(token: &str, label: &str) -> String {
    format!(
        "<form method=\"post\" action=\"report\"><input type=\"hidden\" name=\"t\" value=\"{}\">\
         <button type=\"submit\">{label}</button></form>",
        escape(token)
    )
}

fn confirm(change: &LinkedChange, token: &str, locks: bool) -> String {
    let mut lines = String::new();
    for line in &change.lines {
        lines.push_str(&format!("<li>{}", escape(&line.name)));
        if let Some(value) = &line.value {
            lines.push_str(&format!(": {}", escape(value)));
        }
        lines.push_str("</li>");
    }
    if change.more > 0 {
        lines.push_str(&format!("<li>…and {} more</li>", change.more));
    }
    let then = match locks {
        true => " and your account is locked, so that nobody can use it until they have checked it",
        false => "",
    };
    format!(
        "<h1>Did you make this change?</h1>\
         <p>On {when}, these details of your {tenant} account were changed{who}:</p><ul>{lines}</ul>\
         <p>If you did not make or expect this change, press the button: your security team is told at once{then}.\
         </p>{form}<p class=\"small\">If you made this change, there is nothing to do: you can close this page.</p>",
        when = when(change.at),
        tenant = escape(&change.tenant),
        who = who(change.changed_by),
        form = form(token, "This wasn&#39;t me"),
    )
}

fn reported(note: LockNote, support: Option<&str>) -> String {
    let lock = match note {
        LockNote::NotAsked => String::new(),
        LockNote::Done(ChangeSource::Wso2) => {
            "<p class=\"done\">Your account has been locked: nobody can sign in \
            to it until the security team unlocks it.</p>"
                .to_owned()
        }
        LockNote::Done(ChangeSource::Okta) => {
            "<p class=\"done\">Your account has been suspended and signed out \
            everywhere: nobody can use it until the security team restores it.</p>"
                .to_owned()
        }
        LockNote::Partly => {
            "<p class=\"warn\">Your account could only partly be locked automatically. The \
            security team has been told this too.</p>"
                .to_owned()
        }
        LockNote::Failed => {
            "<p class=\"warn\">Your account could not be locked automatically. The security team \
            has been told this too, and will act on it.</p>"
                .to_owned()
        }
    };
    format!(
        "<h1>Thank you, the security team has been told</h1>\
         <p class=\"done\">We have reported this change as not made by you.</p>{lock}\
         <p>The security team will look into it and may contact you. If you can still sign in, change your \
         password now. For anything urgent, {contact}.</p>",
        contact = contact(support)
    )
}

fn document(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"referrer\" content=\"no-referrer\"><title>{title}</title><style>{STYLE}</style></head>\
         <body><main>{body}</main></body></html>"
    )
}

/// The page as HTML, with its status: 200 for a page about a change, 4xx for a link that cannot be used, 503 when
/// the report could not be passed on yet.
pub fn render(page: &Page, support: Option<&str>) -> Rendered {
    let (status, title, body) = match page {
        Page::Confirm {
            change,
            token,
            locks,
        } => (200, "Did you make this change?", confirm(change, token, *locks)),
        Page::Reported(note) => (200, "Reported", reported(*note, support)),
        Page::NotPassedOn { token } => (
            503,
            "Please try again",
            format!(
                "<h1>Your report could not be passed on yet</h1>\
                 <p class=\"warn\">We could not reach the security team just now. Please press the button again in \
                 a minute. If it keeps failing, {}.</p>{}",
                contact(support),
                form(token, "Try again: this wasn&#39;t me")
            ),
        ),
        Page::AlreadyReported => (
            200,
            "Already reported",
            "<h1>Already reported</h1><p class=\"done\">This change has already been reported as not made by you. \
             The security team has been told; there is nothing more to do here.</p>"
                .to_owned(),
        ),
        Page::Invalid => (
            400,
            "Link not valid",
            format!(
                "<h1>This link is not valid</h1><p>It may have been cut short. Open it again from the message \
                 you received, or copy the whole link. If you did not expect a change to your account, {}.</p>",
                contact(support)
            ),
        ),
        Page::Expired => (
            410,
            "Link expired",
            format!(
                "<h1>This link has expired</h1><p>Links to report a change work for a limited time. If you did not \
                 expect a change to your account, {}.</p>",
                contact(support)
            ),
        ),
    };
    Rendered {
        status,
        html: document(title, &body),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::report_link::LinkedLine;

    fn change() -> LinkedChange {
        LinkedChange {
            source: ChangeSource::Wso2,
            tenant: "<b>testwso2</b>".into(),
            user_id: "u-1".into(),
            reference: "r-1".into(),
            at: SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_764_000_000),
            changed_by: ChangedBy::Administrator,
            lines: vec![LinkedLine {
                name: "Mobile number".into(),
                value: Some("+9477*****48".into()),
            }],
            more: 2,
        }
    }

    #[test]
    fn the_confirmation_states_the_change_and_posts_the_token() {
        let page = Page::Confirm {
            change: change(),
            token: "v1.abc.def".into(),
            locks: true,
        };
        let out = render(&page, Some("it@example.com"));
        assert_eq!(out.status, 200);
        let html = out.html;
        assert!(html.contains("2025-11-24 16:00 UTC"), "{html}");
        assert!(
            html.contains("&lt;b&gt;testwso2&lt;/b&gt;"),
            "escaped: {html}"
        );
        assert!(
            html.contains("<li>Mobile number: +9477*****48</li>"),
            "{html}"
        );
        assert!(html.contains("…and 2 more"), "{html}");
        assert!(html.contains("by an administrator"));
        assert!(html.contains("your account is locked"));
        assert!(html.contains(r#"<form method="post" action="report">"#));
        assert!(html.contains(r#"name="t" value="v1.abc.def""#));
        assert!(html.contains("This wasn&#39;t me</button>"));
        assert!(
            !html.contains("<script") && !html.contains("http"),
            "{html}"
        );
    }

    #[test]
    fn the_style_sheet_is_the_one_the_policy_allows() {
        let html = render(&Page::AlreadyReported, None).html;
        let style = html
            .split("<style>")
            .nth(1)
            .and_then(|s| s.split("</style>").next())
            .unwrap();
        let hash = STANDARD.encode(Sha256::digest(style.as_bytes()));
        assert!(CONTENT_SECURITY_POLICY.contains(&format!("'sha256-{hash}'")));
        assert!(CONTENT_SECURITY_POLICY.starts_with("default-src 'none'"));
        assert!(CONTENT_SECURITY_POLICY.contains("frame-ancestors 'none'"));
    }

    #[test]
    fn unusable_links_get_a_plain_4xx_page() {
        assert_eq!(render(&Page::Invalid, None).status, 400);
        assert_eq!(render(&Page::Expired, None).status, 410);
        let expired = render(&Page::Expired, Some("<it@x>")).html;
        assert!(expired.contains("contact &lt;it@x&gt;"), "{expired}");
        let retry = render(
            &Page::NotPassedOn {
                token: "v1.a.b".into(),
            },
            None,
        );
        assert_eq!(retry.status, 503);
        assert!(retry.html.contains(r#"value="v1.a.b""#));
    }

    #[test]
    fn each_lock_is_said_as_it_went() {
        let said = |note| render(&Page::Reported(note), None).html;
        assert!(said(LockNote::Done(ChangeSource::Wso2)).contains("has been locked"));
        assert!(said(LockNote::Done(ChangeSource::Okta)).contains("suspended and signed out"));
        assert!(said(LockNote::Failed).contains("could not be locked"));
        assert!(said(LockNote::Partly).contains("only partly"));
        assert!(!said(LockNote::NotAsked).contains("locked"));
    }
}
