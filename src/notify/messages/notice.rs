//! The notice to the person whose profile changes: at the address they had before the change, worded by who
//! made it.

use serde::{Deserialize, Serialize};

use super::slack_text;
use super::templates::{RenderError, Templates};
use super::{ChangeReport, Email, one_line, subject_line};
use crate::action::{ActionRequest, ClaimValue, Initiator};
use crate::claims::{EMAIL_CLAIM, EmailAddress, GIVEN_NAME_CLAIM, USERNAME_CLAIM};
use crate::notify::messages::mask::ValueDisplay;
use crate::policy::Change;

pub use crate::notify::outcome::NoNotice;
use crate::notify::settings::{NoticeMode, NoticeSettings};

/// Where the notice goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticePlan {
    pub to: Vec<EmailAddress>,
    pub email_changed: bool,
}

fn single(value: &ClaimValue) -> Option<&str> {
    value.values().next()
}

/// Decides whether and where to send a notice. The address is the one the person has now (before the change):
/// when the e-mail address itself changes, the new one may belong to whoever is taking the account over.
pub fn plan(
    req: &ActionRequest,
    watched: &[Change<'_>],
    settings: &NoticeSettings,
) -> Result<NoticePlan, NoNotice> {
    // A self-made e-mail change is told all the same: it is exactly what an account takeover looks like.
    let email_change = watched.iter().any(|c| c.uri == EMAIL_CLAIM);
    match settings.mode {
        NoticeMode::Off => return Err(NoNotice::Off),
        NoticeMode::Others
            if req.event.initiator_type == Some(Initiator::User) && !email_change =>
        {
            return Err(NoNotice::MadeByThePerson);
        }
        _ => {}
    }
    if watched.is_empty() {
        return Err(NoNotice::NothingWatched);
    }
    let current_claims = req.event.current_claims();
    let current = |uri: &str| {
        current_claims
            .iter()
            .find(|c| c.uri == uri)
            .and_then(|c| single(&c.value))
            .and_then(|v| EmailAddress::parse(v).ok())
    };
    let address = current(EMAIL_CLAIM)
        .or_else(|| current(USERNAME_CLAIM))
        .ok_or(NoNotice::NoAddress)?;
    let written_email = req
        .event
        .request
        .as_ref()
        .and_then(|r| r.claims.iter().find(|c| c.uri == EMAIL_CLAIM));
    let new_address = written_email.and_then(|c| single(&c.value));
    let email_changed = written_email.is_some() && new_address != Some(address.as_str());
    let mut to = vec![address];
    if settings.new_address
        && email_changed
        && let Some(new) = new_address.and_then(|a| EmailAddress::parse(a).ok())
    {
        to.push(new);
    }
    Ok(NoticePlan { to, email_changed })
}

/// What a notice template is given: plain data, values already shown as configured. It can wait for the change
/// to be committed (`USER_NOTICE_WHEN=commit`), so it is stored as it is and rendered when sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeContext {
    given_name: Option<String>,
    tenant_name: String,
    initiator: String,
    time: String,
    request_id: String,
    attributes: Vec<NoticeLine>,
    email_changed: bool,
    support_contact: Option<String>,
    values_masked: bool,
    /// Where the change came from, when the commit event says (after commit only).
    #[serde(default)]
    pub initiator_ip: Option<String>,
    /// The "This wasn't me" link, when reports are on (`REPORT_URL_BASE`).
    #[serde(default)]
    pub report_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct NoticeLine {
    name: String,
    new: String,
}

/// Renders the notice e-mail. `report` carries the watched changes, values shown as configured.
pub fn user_notice(
    templates: &Templates,
    req: &ActionRequest,
    report: &ChangeReport,
    plan: &NoticePlan,
    support_contact: Option<&str>,
) -> Result<Email, RenderError> {
    render_email(
        templates,
        &context_of(req, report, plan, support_contact),
        plan.to.clone(),
    )
}

/// The notice e-mail from its context.
pub fn render_email(
    templates: &Templates,
    context: &NoticeContext,
    to: Vec<EmailAddress>,
) -> Result<Email, RenderError> {
    Ok(Email {
        to,
        subject: subject_line(&templates.render("notice.subject.txt", context)?),
        text: templates.render("notice.txt", context)?,
        html: templates.render("notice.html", context)?,
        attachments: Vec::new(),
        high_priority: false,
    })
}

/// Renders the notice as a Slack direct message: the same context as the e-mail, every value Slack-escaped by
/// the template, the text kept within what Slack shows.
pub fn slack_notice(
    templates: &Templates,
    req: &ActionRequest,
    report: &ChangeReport,
    plan: &NoticePlan,
    support_contact: Option<&str>,
) -> Result<String, RenderError> {
    render_slack(templates, &context_of(req, report, plan, support_contact))
}

/// The notice as a Slack direct message from its context.
pub fn render_slack(templates: &Templates, context: &NoticeContext) -> Result<String, RenderError> {
    let text = templates.render("notice.slack.txt", context)?;
    Ok(slack_text::cap_text(
        text.trim(),
        slack_text::MAX_TEXT_CHARS,
    ))
}

/// The context of the notice about `report` (the watched changes of `req`).
pub fn context_of(
    req: &ActionRequest,
    report: &ChangeReport,
    plan: &NoticePlan,
    support_contact: Option<&str>,
) -> NoticeContext {
    let given_name = req
        .event
        .current_claims()
        .iter()
        .find(|c| c.uri == GIVEN_NAME_CLAIM)
        .and_then(|c| single(&c.value))
        .map(|n| one_line(n, 60));
    let tenant_name = req
        .event
        .tenant
        .as_ref()
        .and_then(|t| t.name_or_id())
        .map(|t| one_line(t, 100))
        .unwrap_or_else(|| "organization".into());
    notice_context(
        given_name,
        tenant_name,
        report,
        plan.email_changed,
        support_contact,
    )
}

fn notice_context(
    given_name: Option<String>,
    tenant_name: String,
    report: &ChangeReport,
    email_changed: bool,
    support_contact: Option<&str>,
) -> NoticeContext {
    NoticeContext {
        given_name,
        tenant_name,
        initiator: match &report.initiator {
            Some(Initiator::User) => "USER",
            Some(Initiator::Admin) => "ADMIN",
            Some(Initiator::Application) => "APPLICATION",
            _ => "UNKNOWN",
        }
        .to_owned(),
        time: humantime::format_rfc3339_seconds(report.at).to_string(),
        request_id: report.request_id.clone(),
        attributes: report
            .attributes
            .iter()
            .map(|a| NoticeLine {
                name: one_line(&a.name, 120),
                new: one_line(&a.new, 300),
            })
            .collect(),
        email_changed,
        support_contact: support_contact.map(str::to_owned),
        values_masked: report.values == ValueDisplay::Masked,
        initiator_ip: None,
        report_url: None,
    }
}

/// Notice contexts that together reach every part of a notice template: each initiator's wording, with every
/// optional fact present and with every one missing.
pub(super) fn sample_contexts() -> Vec<minijinja::Value> {
    let initiators = [
        Some(Initiator::User),
        Some(Initiator::Admin),
        Some(Initiator::Application),
        None,
    ];
    let mut samples = Vec::new();
    for initiator in initiators {
        for full in [true, false] {
            let report = ChangeReport::sample(full, initiator.clone());
            let mut context = notice_context(
                full.then(|| "Sample".to_owned()),
                "sample.example".to_owned(),
                &report,
                full,
                full.then_some("help@sample.example"),
            );
            context.initiator_ip = full.then(|| "203.0.113.10".to_owned());
            context.report_url = full.then(|| "https://guard.example/report?t=sample".to_owned());
            samples.push(minijinja::Value::from(minijinja::value::Serde(context)));
        }
    }
    samples
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::parse_request;
    use crate::claims::ClaimSet;
    use crate::notify::settings::{DEFAULT_API_URL, NoticeChannels, NoticeWhen, SlackApiUrl};
    use crate::policy::update_of;
    use std::time::{Duration, UNIX_EPOCH};

    fn config(mode: NoticeMode, new_address: bool) -> NoticeSettings {
        NoticeSettings {
            mode,
            when: NoticeWhen::Update,
            pending_ttl: std::time::Duration::from_secs(600),
            claims: ClaimSet::defaults(),
            new_address,
            support_contact: Some("help@bar.com".into()),
            channels: NoticeChannels {
                email: true,
                slack: false,
            },
            slack_bot_token: None,
            slack_api_url: SlackApiUrl::parse(DEFAULT_API_URL).unwrap(),
        }
    }

    fn body(initiator: &str, claims: &str, current: &str) -> String {
        format!(
            r#"{{"actionType":"PRE_UPDATE_PROFILE","requestId":"r-42","event":{{
            "request":{{"claims":[{claims}]}},
            "tenant":{{"id":"12402","name":"bar.com"}},
            "user":{{"id":"u-1","claims":[{current}]}},
            "initiatorType":"{initiator}"}}}}"#
        )
    }

    const MOBILE: &str = r#"{"uri":"http://wso2.org/claims/mobile","value":"+94771223448"}"#;
    const CURRENT: &str = r#"{"uri":"http://wso2.org/claims/emailaddress","value":"emily@aol.com"},
        {"uri":"http://wso2.org/claims/givenname","value":"Emily"}"#;

    fn planned(raw: &str, cfg: &NoticeSettings) -> Result<NoticePlan, NoNotice> {
        let req = parse_request(raw.as_bytes()).unwrap();
        let update = update_of(&req).unwrap();
        plan(&req, &update.changes_in(&cfg.claims), cfg)
    }

    fn render(initiator: &str) -> Email {
        let raw = body(initiator, MOBILE, CURRENT);
        let req = parse_request(raw.as_bytes()).unwrap();
        let update = update_of(&req).unwrap();
        let cfg = config(NoticeMode::All, false);
        let watched = update.changes_in(&cfg.claims);
        let plan = plan(&req, &watched, &cfg).unwrap();
        let report = ChangeReport::new(
            &req,
            "r-42",
            &watched,
            ValueDisplay::Masked,
            UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        );
        user_notice(
            &crate::notify::load_templates(None).unwrap(),
            &req,
            &report,
            &plan,
            cfg.support_contact.as_deref(),
        )
        .unwrap()
    }

    #[test]
    fn the_slack_notice_escapes_every_value() {
        let current = r#"{"uri":"http://wso2.org/claims/emailaddress","value":"emily@aol.com"},
            {"uri":"http://wso2.org/claims/givenname","value":"<!channel> & <@U1>"}"#;
        let raw = body("ADMIN", MOBILE, current);
        let req = parse_request(raw.as_bytes()).unwrap();
        let update = update_of(&req).unwrap();
        let cfg = config(NoticeMode::All, false);
        let watched = update.changes_in(&cfg.claims);
        let plan = plan(&req, &watched, &cfg).unwrap();
        let report = ChangeReport::new(&req, "r-42", &watched, ValueDisplay::Masked, UNIX_EPOCH);
        let templates = crate::notify::load_templates(None).unwrap();
        let text = slack_notice(&templates, &req, &report, &plan, Some("<https://x|y>")).unwrap();
        assert!(
            text.starts_with("Hello &lt;!channel&gt; &amp; &lt;@U1&gt;,"),
            "{text}"
        );
        assert!(text.contains("An administrator changed"), "{text}");
        assert!(text.contains("• *Mobile number*: +9477*****48"), "{text}");
        assert!(text.contains("contact &lt;https://x|y&gt;"), "{text}");
        assert!(!text.contains('<') && !text.contains("+94771223448"));
    }

    #[test]
    fn goes_to_the_current_address_and_the_old_one_when_email_changes() {
        let cfg = config(NoticeMode::All, false);
        let p = planned(&body("USER", MOBILE, CURRENT), &cfg).unwrap();
        assert_eq!(p.to, ["emily@aol.com"]);
        assert!(!p.email_changed);
        let change =
            r#"{"uri":"http://wso2.org/claims/emailaddress","value":"attacker@evil.example"}"#;
        let p = planned(&body("ADMIN", change, CURRENT), &cfg).unwrap();
        assert_eq!(p.to, ["emily@aol.com"], "never only the new address");
        assert!(p.email_changed);
        let p = planned(
            &body("ADMIN", change, CURRENT),
            &config(NoticeMode::All, true),
        )
        .unwrap();
        assert_eq!(p.to, ["emily@aol.com", "attacker@evil.example"]);
    }

    #[test]
    fn falls_back_to_a_username_that_is_an_address() {
        let cfg = config(NoticeMode::All, false);
        let current = r#"{"uri":"http://wso2.org/claims/username","value":"testuser@wso2.com"}"#;
        assert_eq!(
            planned(&body("ADMIN", MOBILE, current), &cfg).unwrap().to,
            ["testuser@wso2.com"]
        );
        let current = r#"{"uri":"http://wso2.org/claims/username","value":"testuser"}"#;
        assert_eq!(
            planned(&body("ADMIN", MOBILE, current), &cfg),
            Err(NoNotice::NoAddress)
        );
    }

    #[test]
    fn switchable() {
        let raw = body("USER", MOBILE, CURRENT);
        assert_eq!(
            planned(&raw, &config(NoticeMode::Off, false)),
            Err(NoNotice::Off)
        );
        assert_eq!(
            planned(&raw, &config(NoticeMode::Others, false)),
            Err(NoNotice::MadeByThePerson)
        );
        assert!(
            planned(
                &body("ADMIN", MOBILE, CURRENT),
                &config(NoticeMode::Others, false)
            )
            .is_ok()
        );
        let country = r#"{"uri":"http://wso2.org/claims/country","value":"LK"}"#;
        assert_eq!(
            planned(
                &body("ADMIN", country, CURRENT),
                &config(NoticeMode::All, false)
            ),
            Err(NoNotice::NothingWatched)
        );
    }

    #[test]
    fn wording_follows_the_initiator() {
        assert_eq!(render("USER").subject, "You updated your bar.com profile");
        assert_eq!(
            render("ADMIN").subject,
            "An administrator updated your bar.com profile"
        );
        assert_eq!(
            render("APPLICATION").subject,
            "An application updated your bar.com profile"
        );
        assert!(render("USER").text.contains("You changed these details"));
        assert!(render("ADMIN").html.contains("An administrator changed"));
    }

    #[test]
    fn rendered_default_notice_self_service() {
        let email = render("USER");
        insta::assert_snapshot!(format!("Subject: {}\n\n{}", email.subject, email.text));
    }

    #[test]
    fn rendered_default_notice_admin() {
        let email = render("ADMIN");
        insta::assert_snapshot!(format!("Subject: {}\n\n{}", email.subject, email.text));
    }

    #[test]
    fn rendered_default_notice_application() {
        let email = render("APPLICATION");
        insta::assert_snapshot!(format!("Subject: {}\n\n{}", email.subject, email.text));
    }

    #[test]
    fn rendered_default_notice_html_admin() {
        insta::assert_snapshot!(render("ADMIN").html);
    }
}
