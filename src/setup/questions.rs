//! What `make configure` asks, as data: the scenario first (sources, alert channels, notice channels), then only
//! the parameters that scenario needs, each with its template parameter, its local variable and a default.

/// What an answer must look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Text,
    Email,
    /// Comma-separated e-mail addresses.
    Emails,
    /// The full ARN of a Secrets Manager secret.
    SecretArn,
    /// An https URL (http to loopback for a local stub).
    Url,
    OneOf(&'static [&'static str]),
}

/// One question about one setting.
#[derive(Debug, Clone, Copy)]
pub struct Ask {
    /// The template parameter (`samconfig.toml`); empty when the setting is local only.
    pub param: &'static str,
    /// The variable in `.env` for `make run` / `make check`; empty when it has none.
    pub env: &'static str,
    pub question: &'static str,
    /// Used when the answer is empty; `None` makes an answer required.
    pub default: Option<&'static str>,
    pub shape: Shape,
}

pub(super) const fn ask(
    param: &'static str,
    env: &'static str,
    question: &'static str,
    default: Option<&'static str>,
    shape: Shape,
) -> Ask {
    Ask {
        param,
        env,
        question,
        default,
        shape,
    }
}

/// The scenario: which sources, which channels.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scenario {
    pub action: bool,
    pub webhooks: bool,
    pub okta: bool,
    pub alert_email: bool,
    pub alert_slack: bool,
    pub alert_teams: bool,
    pub notice_email: bool,
    pub notice_slack: bool,
    /// Notices after WSO2 confirms the change (`UserNoticeWhen=commit`).
    pub after_commit: bool,
}

impl Scenario {
    pub fn notice(&self) -> bool {
        self.notice_email || self.notice_slack
    }

    fn email(&self) -> bool {
        self.alert_email || self.notice_email
    }
}

pub const SOURCES: &str = "Where do profile changes come from? wso2-action (the Pre-Update Profile action), \
wso2-webhooks (notices after WSO2 / Asgardeo stores a change), okta-hook (an Okta Event Hook); comma-separated";
pub const ALERTS: &str = "Where do security alerts go? email, slack, teams; comma-separated";
pub const NOTICES: &str =
    "How is the person whose profile changes told? email, slack (a direct message), both, or off";
pub const WHEN: &str = "When is the person told? update (as the change is made) or commit (once WSO2 confirms it \
was stored; needs the webhooks and the once-per-change table)";

/// Always asked.
pub const STACK: Ask = ask("", "", "Stack name", Some("profile-guard"), Shape::Text);
pub const REGION: Ask = ask(
    "",
    "AWS_REGION",
    "AWS region to deploy to",
    Some("us-east-1"),
    Shape::Text,
);
const ARCHITECTURE: Ask = ask(
    "Architecture",
    "",
    "Lambda architecture: arm64 (cheaper) or x86_64",
    Some("arm64"),
    Shape::OneOf(&["arm64", "x86_64"]),
);

const AUTH_MODE: Ask = ask(
    "AuthMode",
    "AUTH_MODE",
    "How WSO2 authenticates calls to the action route (as in the action's settings): basic, bearer, api-key or jwt (an OAuth2 client credential)",
    Some("bearer"),
    Shape::OneOf(&["basic", "bearer", "api-key", "jwt"]),
);

pub(super) const AUTH_CREDENTIAL: Ask = ask(
    "AuthCredentialSecretArn",
    "AUTH_CREDENTIAL_SECRET",
    "ARN of the secret holding that credential",
    None,
    Shape::SecretArn,
);

/// The settings `scenario` needs, in the order they are asked.
pub fn settings_for(scenario: &Scenario) -> Vec<Ask> {
    // The action's route is deployed whatever the sources, so its caller authentication is always asked.
    let mut asks = vec![ARCHITECTURE, AUTH_MODE];
    if scenario.email() {
        asks.push(ask(
            "AlertSender",
            "ALERT_SENDER",
            "The From address of alerts and notices (verified in SES)",
            None,
            Shape::Email,
        ));
    }
    if scenario.alert_email {
        asks.push(ask(
            "SecurityTeamEmails",
            "SECURITY_TEAM_EMAILS",
            "The security team's addresses, comma-separated",
            None,
            Shape::Emails,
        ));
    }
    if scenario.alert_slack {
        asks.push(ask(
            "SlackWebhookSecretArn",
            "SLACK_WEBHOOK_URL_SECRET",
            "ARN of the secret holding the Slack incoming-webhook URL",
            None,
            Shape::SecretArn,
        ));
    }
    if scenario.alert_teams {
        asks.push(ask(
            "TeamsWebhookSecretArn",
            "TEAMS_WEBHOOK_URL_SECRET",
            "ARN of the secret holding the Teams Workflows webhook URL",
            None,
            Shape::SecretArn,
        ));
    }
    if scenario.notice_slack {
        asks.push(ask(
            "SlackBotTokenSecretArn",
            "SLACK_BOT_TOKEN_SECRET",
            "ARN of the secret holding the Slack bot token (xoxb-…)",
            None,
            Shape::SecretArn,
        ));
    }
    if scenario.notice() {
        asks.push(ask(
            "SupportContact",
            "SUPPORT_CONTACT",
            "Where a person should turn if the change was not theirs (empty: no line)",
            Some(""),
            Shape::Text,
        ));
        asks.push(ask(
            "ReportUrlBase",
            "REPORT_URL_BASE",
            "Where browsers reach this stack, for a \"This wasn't me\" link in every notice (empty: no link; set it after the first deploy from the ApiBaseUrl output)",
            Some(""),
            Shape::Url,
        ));
    }
    asks.extend(source_settings(scenario));
    asks.push(ask(
        "AlarmEmail",
        "",
        "An address for CloudWatch alarms (empty: no alarm e-mails)",
        Some(""),
        Shape::Text,
    ));
    asks
}

fn source_settings(scenario: &Scenario) -> Vec<Ask> {
    let mut asks = Vec::new();
    if scenario.action {
        asks.push(ask(
            "DepartmentApiUrl",
            "DEPARTMENT_API_URL",
            "Your directory's URL with {department} in it (empty: a fixed list)",
            Some(""),
            Shape::Url,
        ));
    }
    if scenario.webhooks {
        asks.push(ask(
            "Wso2WebhookSecretArn",
            "WSO2_WEBHOOK_SECRET_SECRET",
            "ARN of the secret holding the webhook signing secret",
            None,
            Shape::SecretArn,
        ));
    }
    if scenario.okta {
        asks.push(ask(
            "OktaHookAuthSecretArn",
            "OKTA_HOOK_AUTH_SECRET",
            "ARN of the secret holding the Event Hook's authorization value",
            None,
            Shape::SecretArn,
        ));
        asks.push(ask(
            "OktaOrgUrl",
            "OKTA_ORG_URL",
            "Your Okta org's URL, to look up addresses (empty: logins only)",
            Some(""),
            Shape::Url,
        ));
    }
    asks
}

/// The settings the scenario decides without asking (`sender` is the From address, when e-mail is used).
pub fn derived(
    scenario: &Scenario,
    sender: Option<&str>,
) -> Vec<(&'static str, &'static str, String)> {
    let alerts: Vec<&str> = [
        (scenario.alert_email, "email"),
        (scenario.alert_slack, "slack"),
        (scenario.alert_teams, "teams"),
    ]
    .into_iter()
    .filter_map(|(on, name)| on.then_some(name))
    .collect();
    let notice_channels = match (scenario.notice_email, scenario.notice_slack) {
        (true, true) => "email,slack",
        (false, true) => "slack",
        _ => "email",
    };
    // The SES identity that scopes the send permission: the sender's domain.
    let identity = sender
        .and_then(|s| s.rsplit_once('@'))
        .map(|(_, d)| d.to_owned());
    let mut derived = vec![
        ("AlertChannels", "ALERT_CHANNELS", alerts.join(",")),
        (
            "UserNotice",
            "USER_NOTICE",
            if scenario.notice() { "all" } else { "off" }.to_owned(),
        ),
        (
            "UserNoticeChannels",
            "USER_NOTICE_CHANNELS",
            notice_channels.to_owned(),
        ),
        (
            "UserNoticeWhen",
            "USER_NOTICE_WHEN",
            if scenario.after_commit {
                "commit"
            } else {
                "update"
            }
            .to_owned(),
        ),
    ];
    derived.extend(identity.map(|d| ("SenderIdentity", "", d)));
    derived
}
