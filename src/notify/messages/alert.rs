//! The security team's alert: which sensitive attributes of whose profile are changing, who asked, and when.

use serde::Serialize;

use super::templates::{RenderError, Templates};
use super::{
    ChangeReport, Email, NOT_SENT, initiator_phrase, name_summary, one_line, subject_line,
};
use crate::action::Initiator;
use crate::claims::EmailAddress;
use crate::notify::messages::mask::ValueDisplay;

/// About this many characters of attribute names in the subject; the rest are counted.
const SUBJECT_NAMES_CHARS: usize = 60;

#[derive(Serialize)]
struct AlertContext<'a> {
    user_id: String,
    tenant: String,
    organization: Option<String>,
    shared_user_id: Option<String>,
    user_store: String,
    initiator: String,
    initiator_phrase: &'a str,
    request_id: &'a str,
    time: String,
    attributes: Vec<AttributeLine>,
    /// The names for one line: "Mobile number, Email address …and 3 more".
    attribute_names: String,
    values_note: &'a str,
}

#[derive(Serialize)]
struct AttributeLine {
    name: String,
    old: String,
    new: String,
}

/// Renders the alert for `report` to `recipients`.
pub fn security_alert(
    templates: &Templates,
    report: &ChangeReport,
    recipients: &[EmailAddress],
) -> Result<Email, RenderError> {
    let context = alert_context(report);
    Ok(Email {
        to: recipients.to_vec(),
        subject: subject_line(&templates.render("alert.subject.txt", &context)?),
        text: templates.render("alert.txt", &context)?,
        html: templates.render("alert.html", &context)?,
        attachments: Vec::new(),
        high_priority: false,
    })
}

fn alert_context(report: &ChangeReport) -> AlertContext<'_> {
    AlertContext {
        user_id: one_line(&report.user_id, 200),
        tenant: one_line(&report.tenant, 200),
        organization: report.organization.as_deref().map(|o| one_line(o, 200)),
        shared_user_id: report.shared_user_id.as_deref().map(|o| one_line(o, 200)),
        user_store: one_line(&report.user_store, 200),
        initiator: one_line(
            report
                .initiator
                .as_ref()
                .map(|i| i.as_str())
                .unwrap_or(NOT_SENT),
            40,
        ),
        initiator_phrase: initiator_phrase(report.initiator.as_ref()),
        request_id: &report.request_id,
        time: humantime::format_rfc3339_seconds(report.at).to_string(),
        attributes: report
            .attributes
            .iter()
            .map(|a| AttributeLine {
                name: one_line(&a.name, 120),
                old: one_line(a.old.as_deref().unwrap_or(NOT_SENT), 300),
                new: one_line(&a.new, 300),
            })
            .collect(),
        attribute_names: name_summary(
            report.attributes.iter().map(|a| a.name.as_str()),
            SUBJECT_NAMES_CHARS,
        ),
        values_note: match report.values {
            ValueDisplay::Masked => "Values are masked (ALERT_VALUES=masked).",
            ValueDisplay::Full => "Values are shown in full (ALERT_VALUES=full).",
            ValueDisplay::None => "Values are hidden (ALERT_VALUES=none).",
        },
    }
}

/// Alert contexts that together reach every part of an alert template: each optional fact present and missing.
pub(super) fn sample_contexts() -> Vec<minijinja::Value> {
    [
        ChangeReport::sample(true, Some(Initiator::Admin)),
        ChangeReport::sample(false, None),
    ]
    .iter()
    .map(|report| minijinja::Value::from(minijinja::value::Serde(alert_context(report))))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::parse_request;
    use crate::claims::ClaimSet;
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

    fn alert(body: &str, values: ValueDisplay) -> Email {
        security_alert(
            &crate::notify::load_templates(None).unwrap(),
            &report(body, values),
            &[EmailAddress::parse("sec@example.com").unwrap()],
        )
        .unwrap()
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
        let email = alert(BODY, ValueDisplay::Masked);
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
        assert!(
            alert(BODY, ValueDisplay::Full)
                .text
                .contains("old@wso2.com -> testuser@wso2.com")
        );
        let none = alert(BODY, ValueDisplay::None);
        assert!(none.text.contains("Email address: (hidden) -> (hidden)"));
        assert!(!none.text.contains("wso2.com ->"));
    }

    #[test]
    fn subject_cannot_gain_a_line() {
        let body = BODY.replace("u-1<script>", "u\\r\\nBcc: evil@example.com");
        let email = alert(&body, ValueDisplay::Masked);
        assert!(!email.subject.contains('\n') && !email.subject.contains('\r'));
        assert!(
            !email.text.contains("\nBcc:"),
            "a value cannot add a line to the body either"
        );
    }

    #[test]
    fn subject_names_what_fits_and_counts_the_rest() {
        let mut r = report(BODY, ValueDisplay::Masked);
        let template = r.attributes[0].clone();
        r.attributes = (0..100)
            .map(|i| crate::notify::messages::ChangedAttribute {
                name: format!("custom{i:03}"),
                ..template.clone()
            })
            .collect();
        let email = security_alert(&crate::notify::load_templates(None).unwrap(), &r, &[]).unwrap();
        assert!(email.subject.chars().count() <= 200, "{}", email.subject);
        assert!(
            email.subject.starts_with(
                "[profile-guard] Sensitive profile change (custom000, custom001, custom002, custom003, custom004"
            ),
            "{}",
            email.subject
        );
        assert!(
            email
                .subject
                .contains(" more) for user u-1<script> in testwso2 (2210)"),
            "{}",
            email.subject
        );
        assert!(
            email
                .text
                .contains("  - custom099: (not sent) -> +9477*****48"),
            "the body lists every one"
        );
    }

    #[test]
    fn rendered_default_alert() {
        insta::assert_snapshot!(alert(BODY, ValueDisplay::Masked).text);
    }
}
