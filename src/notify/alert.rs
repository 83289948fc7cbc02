//! The security team's alert: which sensitive attributes of whose profile are changing, who asked, and when.

use std::fmt::Write as _;

use super::{ChangeReport, Email, escape_html, initiator_phrase, one_line};
use crate::notify::mask::ValueDisplay;

const NOT_SENT: &str = "(not sent)";

/// Renders the alert for `report` to `recipients`.
pub fn security_alert(report: &ChangeReport, recipients: &[String]) -> Email {
    let names: Vec<&str> = report.attributes.iter().map(|a| a.name.as_str()).collect();
    let subject = one_line(
        &format!(
            "[profile-guard] Sensitive profile change ({}) for user {} in {}",
            names.join(", "),
            report.user_id,
            report.tenant
        ),
        200,
    );
    let at = humantime::format_rfc3339_seconds(report.at).to_string();
    let who = initiator_phrase(report.initiator.as_ref());
    let initiator_code = report
        .initiator
        .as_ref()
        .map(|i| i.as_str())
        .unwrap_or(NOT_SENT);

    let mut facts: Vec<(&str, String)> = vec![
        ("User id", report.user_id.clone()),
        ("Tenant", report.tenant.clone()),
    ];
    if let Some(org) = &report.organization {
        facts.push(("Organization", org.clone()));
    }
    if let Some(shared) = &report.shared_user_id {
        facts.push(("Shared user id", shared.clone()));
    }
    facts.push(("User store", report.user_store.clone()));
    facts.push(("Changed by", format!("{who} [{initiator_code}]")));
    facts.push(("Request id", report.request_id.clone()));
    facts.push(("Time (UTC)", at));

    let values_note = match report.values {
        ValueDisplay::Masked => "Values are masked (ALERT_VALUES=masked).",
        ValueDisplay::Full => "Values are shown in full (ALERT_VALUES=full).",
        ValueDisplay::None => "Values are hidden (ALERT_VALUES=none).",
    };

    let mut text = String::new();
    let _ = writeln!(
        text,
        "A profile update that changes sensitive attributes passed profile-guard's checks"
    );
    let _ = writeln!(text, "and is being applied now.\n");
    for (label, value) in &facts {
        let _ = writeln!(text, "{:<15} {}", format!("{label}:"), one_line(value, 200));
    }
    let _ = writeln!(text, "\nAttributes changing:");
    for a in &report.attributes {
        let old = a.old.as_deref().unwrap_or(NOT_SENT);
        let _ = writeln!(
            text,
            "  - {}: {} -> {}",
            one_line(&a.name, 120),
            one_line(old, 300),
            one_line(&a.new, 300)
        );
    }
    let _ = writeln!(text, "\n{values_note}");
    let _ = writeln!(
        text,
        "If this change was not expected, check the user's account and the initiator's recent activity."
    );

    let mut html = String::new();
    html.push_str("<!DOCTYPE html><html><body style=\"font-family:sans-serif\">");
    html.push_str("<p>A profile update that changes sensitive attributes passed profile-guard&#39;s checks and is being applied now.</p>");
    html.push_str("<table cellpadding=\"4\">");
    for (label, value) in &facts {
        let _ = write!(
            html,
            "<tr><th align=\"left\">{}</th><td>{}</td></tr>",
            escape_html(label),
            escape_html(&one_line(value, 200))
        );
    }
    html.push_str("</table><p>Attributes changing:</p><table border=\"1\" cellpadding=\"4\" style=\"border-collapse:collapse\">");
    html.push_str("<tr><th>Attribute</th><th>Before</th><th>After</th></tr>");
    for a in &report.attributes {
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape_html(&one_line(&a.name, 120)),
            escape_html(&one_line(a.old.as_deref().unwrap_or(NOT_SENT), 300)),
            escape_html(&one_line(&a.new, 300))
        );
    }
    let _ = write!(
        html,
        "</table><p>{}</p><p>If this change was not expected, check the user&#39;s account and the initiator&#39;s recent activity.</p></body></html>",
        escape_html(values_note)
    );

    Email {
        to: recipients.to_vec(),
        subject,
        text,
        html,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::parse_request;
    use crate::config::ClaimSet;
    use crate::policy::update_of;
    use std::time::{Duration, UNIX_EPOCH};

    fn report(body: &str, values: ValueDisplay) -> ChangeReport {
        let req = parse_request(body.as_bytes()).unwrap();
        let update = update_of(&req).unwrap();
        let sensitive = update.changes_in(&ClaimSet::defaults());
        ChangeReport::new(
            &req,
            "req-1",
            &sensitive,
            values,
            UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        )
    }

    const BODY: &str = r#"{"actionType":"PRE_UPDATE_PROFILE","event":{
        "request":{"claims":[{"uri":"http://wso2.org/claims/mobile","value":"+94771223448"},
                             {"uri":"http://wso2.org/claims/emailaddress","value":"testuser@wso2.com"},
                             {"uri":"http://wso2.org/claims/country","value":"LK"}]},
        "tenant":{"id":"2210","name":"testwso2"},
        "user":{"id":"u-1<script>","claims":[{"uri":"http://wso2.org/claims/emailaddress","value":"old@wso2.com","updatingValue":"testuser@wso2.com"}]},
        "userStore":{"id":"REVGQVVMVA==","name":"DEFAULT"},"initiatorType":"ADMIN","action":"UPDATE"}}"#;

    #[test]
    fn alert_names_everything_the_team_needs_with_masked_values() {
        let email = security_alert(
            &report(BODY, ValueDisplay::Masked),
            &["sec@example.com".into()],
        );
        assert_eq!(email.to, ["sec@example.com"]);
        assert!(
            email.subject.contains("Mobile number, Email address"),
            "{}",
            email.subject
        );
        assert!(email.subject.contains("testwso2 (2210)"));
        for needle in [
            "User id:        u-1<script>",
            "Tenant:         testwso2 (2210)",
            "User store:     DEFAULT",
            "Changed by:     an administrator [ADMIN]",
            "Request id:     req-1",
            "Time (UTC):     2023-11-14T22:13:20Z",
            "  - Mobile number: (not sent) -> +9477*****48",
            "  - Email address: o***@wso2.com -> t***@wso2.com",
        ] {
            assert!(
                email.text.contains(needle),
                "missing {needle:?} in\n{}",
                email.text
            );
        }
        assert!(
            !email.text.contains("Country"),
            "a non-sensitive claim is not in the alert"
        );
        assert!(!email.text.contains("+94771223448"));
        assert!(email.html.contains("u-1&lt;script&gt;"));
        assert!(!email.html.contains("<script>"));
        assert!(email.html.contains("+9477*****48"));
    }

    #[test]
    fn full_and_hidden_values() {
        let full = security_alert(&report(BODY, ValueDisplay::Full), &[]);
        assert!(full.text.contains("old@wso2.com -> testuser@wso2.com"));
        let none = security_alert(&report(BODY, ValueDisplay::None), &[]);
        assert!(none.text.contains("Email address: (hidden) -> (hidden)"));
        assert!(!none.text.contains("wso2.com ->"));
    }

    #[test]
    fn subject_cannot_gain_a_line() {
        let body = BODY.replace("u-1<script>", "u\\r\\nBcc: evil@example.com");
        let email = security_alert(&report(&body, ValueDisplay::Masked), &[]);
        assert!(!email.subject.contains('\n') && !email.subject.contains('\r'));
    }
}
