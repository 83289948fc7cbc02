//! The whole configuration, read once from the environment and validated before the service starts.
//!
//! Every error names the variable and what is wrong with it, so a bad deployment fails at init with a line an
//! admin can act on instead of misbehaving on the first profile update.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::Duration;

use secrecy::SecretString;

use crate::action::WSO2_CLAIM_PREFIX;
use crate::notify::mask::ValueDisplay;

/// The default sensitive set: changes to these claims raise a security alert.
pub const DEFAULT_SENSITIVE_CLAIMS: &[&str] = &[
    "emailaddress",
    "emailAddresses",
    "mobile",
    "mobileNumbers",
    "telephone",
    "department",
];

/// The departments known when no directory API is configured (those of WSO2's published sample).
pub const DEFAULT_DEPARTMENTS: &str = "Engineering,HR,Sales,Finance";

pub const DEFAULT_LISTEN_ADDR: &str = "127.0.0.1:3000";
pub const DEFAULT_DEPARTMENT_API_TIMEOUT_MS: u64 = 1000;
/// WSO2 rejects nothing larger in practice; anything bigger is an attack or a mistake.
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;
pub const DEFAULT_MAX_CLAIMS: usize = 100;
pub const DEFAULT_MAX_VALUE_BYTES: usize = 4096;
/// Below Asgardeo's 3 s read timeout, with room for the network.
pub const DEFAULT_DEADLINE_MS: u64 = 2500;
pub const DEFAULT_SLACK_TIMEOUT_MS: u64 = 1000;
pub const DEFAULT_IDEMPOTENCY_TTL_SECS: u64 = 600;
/// Keys without a `requestId`: WSO2 retries within its read timeout (5 s, 2 attempts; Asgardeo 3 s).
pub const DEFAULT_IDEMPOTENCY_CONTENT_TTL_SECS: u64 = 30;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{var}: {problem}")]
pub struct ConfigError {
    pub var: &'static str,
    pub problem: String,
}

impl ConfigError {
    fn new(var: &'static str, problem: impl Into<String>) -> Self {
        ConfigError {
            var,
            problem: problem.into(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    /// Set when running inside AWS Lambda (`AWS_LAMBDA_RUNTIME_API` is present).
    pub in_lambda: bool,
    pub listen_addr: SocketAddr,
    pub directory: DirectoryConfig,
    pub sensitive_claims: ClaimSet,
    /// How e-mail leaves: SES or the local log outbox. Used by alerts and user notices.
    pub email: EmailTransport,
    pub alert: AlertConfig,
    pub notice: NoticeConfig,
    pub idempotency: IdempotencyConfig,
    pub auth: AuthConfig,
    pub limits: Limits,
    pub failure_modes: FailureModes,
    /// `DEADLINE_MS`: the whole call, upstream calls included, ends within this.
    pub deadline: Duration,
    /// `TEMPLATE_DIR`: message templates that override the built-in ones.
    pub template_dir: Option<std::path::PathBuf>,
    pub aws: AwsSettings,
}

/// Which channels carry the security alert (`ALERT_CHANNELS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlertChannels {
    pub email: bool,
    pub slack: bool,
}

/// `USER_NOTICE`: whether the person whose profile changes is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeMode {
    Off,
    /// Only changes the person did not make themself.
    Others,
    All,
}

#[derive(Debug, Clone)]
pub struct NoticeConfig {
    pub mode: NoticeMode,
    /// `USER_NOTICE_CLAIMS`: the attributes whose change the person is told about.
    pub claims: ClaimSet,
    /// `USER_NOTICE_NEW_ADDRESS`: when the e-mail address changes, also write to the new one.
    pub new_address: bool,
    /// `SUPPORT_CONTACT`: where the person should turn if the change was not expected.
    pub support_contact: Option<String>,
}

#[derive(Debug, Clone)]
pub struct IdempotencyConfig {
    /// `IDEMPOTENCY_TABLE`: a DynamoDB table shared by all instances; without it, a per-instance cache only.
    pub table: Option<String>,
    /// `IDEMPOTENCY_TTL_SECS`: how long a decision on a call with a `requestId` is remembered.
    pub ttl: Duration,
    /// `IDEMPOTENCY_CONTENT_TTL_SECS`: how long a decision on a call without one is remembered.
    pub content_ttl: Duration,
}

/// How the caller (the identity server) must authenticate (`AUTH_MODE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    None,
    Basic,
    Bearer,
    ApiKey,
}

#[derive(Debug, Clone)]
pub struct AuthConfig {
    pub mode: AuthMode,
    /// `AUTH_API_KEY_HEADER` (default `api-key`), lower-cased.
    pub api_key_header: String,
    /// `AUTH_CREDENTIAL` / `AUTH_CREDENTIAL_SECRET`: the key, the token, or `user:password`.
    pub credential: Option<SecretSource>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_body_bytes: usize,
    /// `MAX_CLAIMS`: claims in `event.request` plus `event.user.claims`.
    pub max_claims: usize,
    /// `MAX_VALUE_BYTES`: bytes of one claim value (all values of a multi-valued claim together).
    pub max_value_bytes: usize,
}

/// What to answer when an upstream fails: the published scenario blocks (`error`, `fail`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailureModes {
    /// `DIRECTORY_UNAVAILABLE=error|allow`.
    pub allow_without_directory: bool,
    /// `ALERT_UNDELIVERED=fail|allow`.
    pub allow_without_alert: bool,
}

/// Where the AWS clients go. Credentials come from the SDK's default chain.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AwsSettings {
    /// `AWS_REGION` (or `AWS_DEFAULT_REGION`).
    pub region: Option<String>,
    /// `AWS_ENDPOINT_URL_SESV2`, else `AWS_ENDPOINT_URL`: an SES-compatible endpoint (an emulator in tests).
    pub ses_endpoint: Option<String>,
    /// `AWS_ENDPOINT_URL_SECRETS_MANAGER`, else `AWS_ENDPOINT_URL`.
    pub secrets_endpoint: Option<String>,
    /// `AWS_ENDPOINT_URL_DYNAMODB`, else `AWS_ENDPOINT_URL`.
    pub dynamodb_endpoint: Option<String>,
}

/// A secret given either in the environment (local use) or as a Secrets Manager secret read once at start-up.
#[derive(Debug, Clone)]
pub enum SecretSource {
    Inline(SecretString),
    /// The name or ARN of a Secrets Manager secret whose `SecretString` is the value.
    SecretsManager {
        id: String,
        var: &'static str,
    },
}

#[derive(Debug, Clone)]
pub enum DirectoryConfig {
    /// The company's directory API.
    Http {
        url: UrlTemplate,
        token: Option<SecretSource>,
        timeout: Duration,
        /// `None` when `DEPARTMENT_CACHE_TTL=0`.
        cache: Option<crate::directory::CachePolicy>,
    },
    /// A fixed list (`DEPARTMENTS`), for trying the service out or for small tenants.
    Embedded { departments: Vec<String> },
}

#[derive(Debug, Clone)]
pub struct AlertConfig {
    pub channels: AlertChannels,
    /// `SECURITY_TEAM_EMAILS`.
    pub recipients: Vec<String>,
    /// `ALERT_VALUES`: how alerts and notices show values.
    pub values: ValueDisplay,
    /// `SLACK_WEBHOOK_URL` / `SLACK_WEBHOOK_URL_SECRET`.
    pub slack_webhook: Option<SecretSource>,
    pub slack_timeout: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmailTransport {
    /// Amazon SES v2, from a verified sender identity.
    Ses { sender: String },
    /// One JSON log line per message, for local use with no AWS account.
    LogOutbox,
}

/// A directory URL with a `{department}` placeholder, checked to be an absolute http(s) URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlTemplate(String);

impl UrlTemplate {
    pub const PLACEHOLDER: &'static str = "{department}";

    pub fn parse(s: &str) -> Result<Self, String> {
        if !s.contains(Self::PLACEHOLDER) {
            return Err(format!(
                "must contain the placeholder {}",
                Self::PLACEHOLDER
            ));
        }
        let probe = s.replace(Self::PLACEHOLDER, "x");
        let url = reqwest::Url::parse(&probe).map_err(|e| format!("is not a valid URL ({e})"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err("must be an http:// or https:// URL".into());
        }
        Ok(UrlTemplate(s.to_owned()))
    }

    /// The URL for one department, the value percent-encoded as a path segment or query value.
    pub fn expand(&self, department: &str) -> String {
        let encoded =
            percent_encoding::utf8_percent_encode(department, percent_encoding::NON_ALPHANUMERIC);
        self.0.replace(Self::PLACEHOLDER, &encoded.to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A set of claim URIs, given as full URIs or short names under `http://wso2.org/claims/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimSet(HashSet<String>);

impl ClaimSet {
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut set = HashSet::new();
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            if item.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(format!("claim {item:?} contains white space"));
            }
            set.insert(full_claim_uri(item));
        }
        if set.is_empty() {
            return Err("names no claim".into());
        }
        Ok(ClaimSet(set))
    }

    pub fn defaults() -> Self {
        ClaimSet(
            DEFAULT_SENSITIVE_CLAIMS
                .iter()
                .map(|c| full_claim_uri(c))
                .collect(),
        )
    }

    pub fn contains(&self, uri: &str) -> bool {
        self.0.contains(uri)
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }
}

/// `mobile` → `http://wso2.org/claims/mobile`; a full URI is kept as it is.
pub fn full_claim_uri(name: &str) -> String {
    if name.contains("://") {
        name.to_owned()
    } else {
        format!("{WSO2_CLAIM_PREFIX}{name}")
    }
}

/// A plain check of an e-mail address: one `@`, something either side, no spaces, commas or control characters.
pub fn is_plausible_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !s.chars().any(|c| {
            c.is_whitespace() || c.is_control() || matches!(c, ',' | ';' | '<' | '>' | '"')
        })
}

fn number<T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy>(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: T,
    range: std::ops::RangeInclusive<T>,
    unit: &str,
) -> Result<T, ConfigError> {
    match get(var) {
        None => Ok(default),
        Some(v) => match v.parse::<T>() {
            Ok(n) if range.contains(&n) => Ok(n),
            _ => Err(ConfigError::new(
                var,
                format!(
                    "{v:?} must be a whole number of {unit} from {} to {}",
                    range.start(),
                    range.end()
                ),
            )),
        },
    }
}

fn flag(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: bool,
) -> Result<bool, ConfigError> {
    match get(var).map(|v| v.to_ascii_lowercase()) {
        None => Ok(default),
        Some(v) if matches!(v.as_str(), "true" | "1" | "yes" | "on") => Ok(true),
        Some(v) if matches!(v.as_str(), "false" | "0" | "no" | "off") => Ok(false),
        Some(v) => Err(ConfigError::new(var, format!("{v:?} is not true or false"))),
    }
}

fn choice<T: Copy>(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: T,
    options: &[(&str, T)],
) -> Result<T, ConfigError> {
    let Some(v) = get(var) else {
        return Ok(default);
    };
    let lower = v.to_ascii_lowercase();
    options
        .iter()
        .find(|(name, _)| *name == lower)
        .map(|(_, t)| *t)
        .ok_or_else(|| {
            let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
            ConfigError::new(var, format!("{v:?} is not one of {}", names.join(", ")))
        })
}

/// Reads a secret setting: `inline_var` holds the value itself, `secret_var` the Secrets Manager secret to read
/// it from; setting both is ambiguous and refused.
fn secret_source(
    get: &impl Fn(&str) -> Option<String>,
    inline_var: &'static str,
    secret_var: &'static str,
) -> Result<Option<SecretSource>, ConfigError> {
    match (get(inline_var), get(secret_var)) {
        (Some(_), Some(_)) => Err(ConfigError::new(
            secret_var,
            format!("set either {inline_var} or {secret_var}, not both"),
        )),
        (Some(value), None) => Ok(Some(SecretSource::Inline(SecretString::from(value)))),
        (None, Some(id)) => Ok(Some(SecretSource::SecretsManager {
            id,
            var: secret_var,
        })),
        (None, None) => Ok(None),
    }
}

fn parse_email_list(var: &'static str, raw: &str) -> Result<Vec<String>, ConfigError> {
    let list: Vec<String> = raw
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if list.is_empty() {
        return Err(ConfigError::new(var, "names no e-mail address"));
    }
    if let Some(bad) = list.iter().find(|a| !is_plausible_email(a)) {
        return Err(ConfigError::new(
            var,
            format!("{bad:?} is not an e-mail address"),
        ));
    }
    Ok(list)
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup`; an empty value counts as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };

        let in_lambda = get("AWS_LAMBDA_RUNTIME_API").is_some();

        let listen_addr = match get("LISTEN_ADDR") {
            Some(v) => v.parse().map_err(|_| {
                ConfigError::new(
                    "LISTEN_ADDR",
                    format!("{v:?} is not an address like 127.0.0.1:3000"),
                )
            })?,
            None => DEFAULT_LISTEN_ADDR
                .parse()
                .map_err(|_| ConfigError::new("LISTEN_ADDR", "the built-in default is invalid"))?,
        };

        let limits = Limits {
            max_body_bytes: number(
                &get,
                "MAX_BODY_BYTES",
                DEFAULT_MAX_BODY_BYTES,
                1024..=1024 * 1024,
                "bytes",
            )?,
            max_claims: number(&get, "MAX_CLAIMS", DEFAULT_MAX_CLAIMS, 1..=10_000, "claims")?,
            max_value_bytes: number(
                &get,
                "MAX_VALUE_BYTES",
                DEFAULT_MAX_VALUE_BYTES,
                16..=65_536,
                "bytes",
            )?,
        };
        let deadline_ms = number(
            &get,
            "DEADLINE_MS",
            DEFAULT_DEADLINE_MS,
            100..=29_000,
            "milliseconds",
        )?;

        let directory = match get("DEPARTMENT_API_URL") {
            Some(url) => {
                let url = UrlTemplate::parse(&url)
                    .map_err(|p| ConfigError::new("DEPARTMENT_API_URL", p))?;
                let timeout_ms = number(
                    &get,
                    "DEPARTMENT_API_TIMEOUT_MS",
                    DEFAULT_DEPARTMENT_API_TIMEOUT_MS,
                    1..=10_000,
                    "milliseconds",
                )?;
                let known_ttl =
                    number(&get, "DEPARTMENT_CACHE_TTL", 300u64, 0..=86_400, "seconds")?;
                let unknown_ttl = number(
                    &get,
                    "DEPARTMENT_CACHE_NEGATIVE_TTL",
                    30u64,
                    0..=86_400,
                    "seconds",
                )?;
                let max_entries = number(
                    &get,
                    "DEPARTMENT_CACHE_SIZE",
                    10_000u64,
                    1..=1_000_000,
                    "entries",
                )?;
                DirectoryConfig::Http {
                    url,
                    token: secret_source(
                        &get,
                        "DEPARTMENT_API_TOKEN",
                        "DEPARTMENT_API_TOKEN_SECRET",
                    )?,
                    timeout: Duration::from_millis(timeout_ms),
                    cache: (known_ttl > 0).then_some(crate::directory::CachePolicy {
                        known_ttl: Duration::from_secs(known_ttl),
                        unknown_ttl: Duration::from_secs(unknown_ttl),
                        max_entries,
                    }),
                }
            }
            None => {
                let raw = get("DEPARTMENTS").unwrap_or_else(|| DEFAULT_DEPARTMENTS.to_owned());
                let departments: Vec<String> = raw
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect();
                if departments.is_empty() {
                    return Err(ConfigError::new("DEPARTMENTS", "names no department"));
                }
                DirectoryConfig::Embedded { departments }
            }
        };

        let sensitive_claims = match get("SENSITIVE_CLAIMS") {
            Some(v) => ClaimSet::parse(&v).map_err(|p| ConfigError::new("SENSITIVE_CLAIMS", p))?,
            None => ClaimSet::defaults(),
        };

        let values = choice(
            &get,
            "ALERT_VALUES",
            ValueDisplay::Masked,
            &[
                ("masked", ValueDisplay::Masked),
                ("full", ValueDisplay::Full),
                ("none", ValueDisplay::None),
            ],
        )?;

        // Slack: the webhook URL is a secret (it is the credential).
        let slack_webhook = secret_source(&get, "SLACK_WEBHOOK_URL", "SLACK_WEBHOOK_URL_SECRET")?;
        if let Some(SecretSource::Inline(url)) = &slack_webhook {
            check_webhook_url(secrecy::ExposeSecret::expose_secret(url))
                .map_err(|p| ConfigError::new("SLACK_WEBHOOK_URL", p))?;
        }
        let channels = match get("ALERT_CHANNELS") {
            None => AlertChannels {
                email: true,
                slack: slack_webhook.is_some(),
            },
            Some(v) => {
                let mut c = AlertChannels {
                    email: false,
                    slack: false,
                };
                for item in v
                    .split(',')
                    .map(|s| s.trim().to_ascii_lowercase())
                    .filter(|s| !s.is_empty())
                {
                    match item.as_str() {
                        "email" => c.email = true,
                        "slack" => c.slack = true,
                        other => {
                            return Err(ConfigError::new(
                                "ALERT_CHANNELS",
                                format!("{other:?} is not a channel: use email, slack or both"),
                            ));
                        }
                    }
                }
                if !c.email && !c.slack {
                    return Err(ConfigError::new(
                        "ALERT_CHANNELS",
                        "names no channel: use email, slack or both",
                    ));
                }
                c
            }
        };
        if channels.slack && slack_webhook.is_none() {
            return Err(ConfigError::new(
                "SLACK_WEBHOOK_URL",
                "is required when ALERT_CHANNELS includes slack (or set SLACK_WEBHOOK_URL_SECRET)",
            ));
        }
        let slack_timeout_ms = number(
            &get,
            "SLACK_TIMEOUT_MS",
            DEFAULT_SLACK_TIMEOUT_MS,
            1..=10_000,
            "milliseconds",
        )?;

        let notice = NoticeConfig {
            mode: choice(
                &get,
                "USER_NOTICE",
                NoticeMode::All,
                &[
                    ("off", NoticeMode::Off),
                    ("others", NoticeMode::Others),
                    ("all", NoticeMode::All),
                ],
            )?,
            claims: match get("USER_NOTICE_CLAIMS") {
                Some(v) => {
                    ClaimSet::parse(&v).map_err(|p| ConfigError::new("USER_NOTICE_CLAIMS", p))?
                }
                None => sensitive_claims.clone(),
            },
            new_address: flag(&get, "USER_NOTICE_NEW_ADDRESS", false)?,
            support_contact: match get("SUPPORT_CONTACT") {
                Some(v) if v.chars().any(char::is_control) || v.chars().count() > 200 => {
                    return Err(ConfigError::new(
                        "SUPPORT_CONTACT",
                        "must be one line of at most 200 characters (an address, a phone number or a URL)",
                    ));
                }
                other => other,
            },
        };

        let recipients = match get("SECURITY_TEAM_EMAILS") {
            Some(v) => parse_email_list("SECURITY_TEAM_EMAILS", &v)?,
            None if in_lambda && channels.email => {
                return Err(ConfigError::new(
                    "SECURITY_TEAM_EMAILS",
                    "is required in Lambda: the comma-separated addresses that receive security alerts",
                ));
            }
            None => Vec::new(),
        };

        let needs_email = channels.email || notice.mode != NoticeMode::Off;
        let email = match get("ALERT_SENDER") {
            Some(sender) => {
                if !is_plausible_email(&sender) {
                    return Err(ConfigError::new(
                        "ALERT_SENDER",
                        format!("{sender:?} is not an e-mail address"),
                    ));
                }
                if channels.email && recipients.is_empty() {
                    return Err(ConfigError::new(
                        "SECURITY_TEAM_EMAILS",
                        "is required when ALERT_SENDER is set: the addresses that receive security alerts",
                    ));
                }
                if get("AWS_REGION").is_none() && get("AWS_DEFAULT_REGION").is_none() {
                    return Err(ConfigError::new(
                        "AWS_REGION",
                        "is required when ALERT_SENDER is set: the SES region, e.g. eu-west-1",
                    ));
                }
                EmailTransport::Ses { sender }
            }
            None if in_lambda && needs_email => {
                return Err(ConfigError::new(
                    "ALERT_SENDER",
                    "is required in Lambda: a sender address or domain verified in Amazon SES \
                     (alerts and user notices are sent from it)",
                ));
            }
            None => EmailTransport::LogOutbox,
        };

        let idempotency = IdempotencyConfig {
            table: match get("IDEMPOTENCY_TABLE") {
                Some(t)
                    if t.len() > 1024 || t.chars().any(|c| c.is_whitespace() || c.is_control()) =>
                {
                    return Err(ConfigError::new(
                        "IDEMPOTENCY_TABLE",
                        "is not a DynamoDB table name or ARN",
                    ));
                }
                other => other,
            },
            ttl: Duration::from_secs(number(
                &get,
                "IDEMPOTENCY_TTL_SECS",
                DEFAULT_IDEMPOTENCY_TTL_SECS,
                10..=7 * 24 * 3600,
                "seconds",
            )?),
            content_ttl: Duration::from_secs(number(
                &get,
                "IDEMPOTENCY_CONTENT_TTL_SECS",
                DEFAULT_IDEMPOTENCY_CONTENT_TTL_SECS,
                1..=3600,
                "seconds",
            )?),
        };

        let auth_mode = choice(
            &get,
            "AUTH_MODE",
            AuthMode::None,
            &[
                ("none", AuthMode::None),
                ("basic", AuthMode::Basic),
                ("bearer", AuthMode::Bearer),
                ("api-key", AuthMode::ApiKey),
            ],
        )?;
        let credential = secret_source(&get, "AUTH_CREDENTIAL", "AUTH_CREDENTIAL_SECRET")?;
        if auth_mode != AuthMode::None && credential.is_none() {
            return Err(ConfigError::new(
                "AUTH_CREDENTIAL",
                "is required with AUTH_MODE basic, bearer or api-key (or set AUTH_CREDENTIAL_SECRET)",
            ));
        }
        if in_lambda && auth_mode == AuthMode::None && get("AUTH_MODE").is_none() {
            return Err(ConfigError::new(
                "AUTH_MODE",
                "is required in Lambda: basic, bearer or api-key with AUTH_CREDENTIAL_SECRET, \
                 or none to accept unauthenticated calls deliberately",
            ));
        }
        if let (AuthMode::Basic, Some(SecretSource::Inline(c))) = (auth_mode, &credential)
            && !secrecy::ExposeSecret::expose_secret(c).contains(':')
        {
            return Err(ConfigError::new(
                "AUTH_CREDENTIAL",
                "must be user:password with AUTH_MODE=basic",
            ));
        }
        let api_key_header = get("AUTH_API_KEY_HEADER")
            .unwrap_or_else(|| "api-key".into())
            .to_ascii_lowercase();
        if axum::http::HeaderName::from_bytes(api_key_header.as_bytes()).is_err() {
            return Err(ConfigError::new(
                "AUTH_API_KEY_HEADER",
                "is not a valid HTTP header name",
            ));
        }

        let failure_modes = FailureModes {
            allow_without_directory: choice(
                &get,
                "DIRECTORY_UNAVAILABLE",
                false,
                &[("error", false), ("allow", true)],
            )?,
            allow_without_alert: choice(
                &get,
                "ALERT_UNDELIVERED",
                false,
                &[("fail", false), ("allow", true)],
            )?,
        };

        let endpoint = get("AWS_ENDPOINT_URL");
        let aws = AwsSettings {
            region: get("AWS_REGION").or_else(|| get("AWS_DEFAULT_REGION")),
            ses_endpoint: get("AWS_ENDPOINT_URL_SESV2").or_else(|| endpoint.clone()),
            secrets_endpoint: get("AWS_ENDPOINT_URL_SECRETS_MANAGER").or_else(|| endpoint.clone()),
            dynamodb_endpoint: get("AWS_ENDPOINT_URL_DYNAMODB").or(endpoint),
        };
        for (var, url) in [
            ("AWS_ENDPOINT_URL_SESV2", &aws.ses_endpoint),
            ("AWS_ENDPOINT_URL_SECRETS_MANAGER", &aws.secrets_endpoint),
            ("AWS_ENDPOINT_URL_DYNAMODB", &aws.dynamodb_endpoint),
        ] {
            if let Some(url) = url {
                reqwest::Url::parse(url)
                    .map_err(|e| ConfigError::new(var, format!("is not a URL ({e})")))?;
            }
        }
        if idempotency.table.is_some() && aws.region.is_none() {
            return Err(ConfigError::new(
                "AWS_REGION",
                "is required when IDEMPOTENCY_TABLE is set: the DynamoDB region",
            ));
        }

        Ok(Config {
            in_lambda,
            listen_addr,
            directory,
            sensitive_claims,
            email,
            alert: AlertConfig {
                channels,
                recipients,
                values,
                slack_webhook,
                slack_timeout: Duration::from_millis(slack_timeout_ms),
            },
            notice,
            idempotency,
            auth: AuthConfig {
                mode: auth_mode,
                api_key_header,
                credential,
            },
            limits,
            failure_modes,
            deadline: Duration::from_millis(deadline_ms),
            template_dir: get("TEMPLATE_DIR").map(std::path::PathBuf::from),
            aws,
        })
    }
}

/// A Slack incoming-webhook URL must be https (it carries the credential).
pub fn check_webhook_url(url: &str) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url).map_err(|_| "is not a URL".to_owned())?;
    let loopback = matches!(parsed.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    if parsed.scheme() == "https" || (parsed.scheme() == "http" && loopback) {
        Ok(())
    } else {
        Err("must be an https:// URL".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_run_locally_with_no_aws_account() {
        let c = config(&[]).unwrap();
        assert!(!c.in_lambda);
        assert_eq!(c.listen_addr.to_string(), "127.0.0.1:3000");
        assert_eq!(c.email, EmailTransport::LogOutbox);
        assert_eq!(c.notice.mode, NoticeMode::All);
        assert_eq!(c.auth.mode, AuthMode::None);
        assert_eq!(c.deadline, Duration::from_millis(2500));
        assert!(c.alert.channels.email && !c.alert.channels.slack);
        assert!(c.sensitive_claims.contains("http://wso2.org/claims/mobile"));
        match c.directory {
            DirectoryConfig::Embedded { departments } => {
                assert_eq!(departments, ["Engineering", "HR", "Sales", "Finance"])
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn lambda_requires_sender_and_recipients() {
        let err = config(&[("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001")]).unwrap_err();
        assert_eq!(err.var, "SECURITY_TEAM_EMAILS");
        let err = config(&[
            ("AWS_LAMBDA_RUNTIME_API", "x"),
            ("SECURITY_TEAM_EMAILS", "sec@example.com"),
        ])
        .unwrap_err();
        assert_eq!(err.var, "ALERT_SENDER");
        assert!(err.to_string().starts_with("ALERT_SENDER: "));
        let lambda = [
            ("AWS_LAMBDA_RUNTIME_API", "x"),
            ("SECURITY_TEAM_EMAILS", "sec@example.com"),
            ("ALERT_SENDER", "guard@example.com"),
            ("AWS_REGION", "eu-west-1"),
        ];
        assert_eq!(
            config(&lambda).unwrap_err().var,
            "AUTH_MODE",
            "no silent open endpoint in Lambda"
        );
        let mut open = lambda.to_vec();
        open.push(("AUTH_MODE", "none"));
        assert!(config(&open).is_ok());
        let mut keyed = lambda.to_vec();
        keyed.push(("AUTH_MODE", "api-key"));
        assert_eq!(config(&keyed).unwrap_err().var, "AUTH_CREDENTIAL");
        keyed.push((
            "AUTH_CREDENTIAL_SECRET",
            "arn:aws:secretsmanager:eu-west-1:1:secret:pg",
        ));
        assert!(config(&keyed).is_ok());
    }

    #[test]
    fn slack_channel_and_notice_settings() {
        let c = config(&[(
            "SLACK_WEBHOOK_URL",
            "https://hooks.slack.com/services/T/B/X",
        )])
        .unwrap();
        assert!(c.alert.channels.email && c.alert.channels.slack);
        let c = config(&[
            (
                "SLACK_WEBHOOK_URL",
                "https://hooks.slack.com/services/T/B/X",
            ),
            ("ALERT_CHANNELS", "slack"),
            ("USER_NOTICE", "others"),
            ("USER_NOTICE_CLAIMS", "mobile"),
            ("USER_NOTICE_NEW_ADDRESS", "true"),
        ])
        .unwrap();
        assert!(!c.alert.channels.email && c.alert.channels.slack);
        assert_eq!(c.notice.mode, NoticeMode::Others);
        assert!(c.notice.claims.contains("http://wso2.org/claims/mobile"));
        assert!(
            !c.notice
                .claims
                .contains("http://wso2.org/claims/department")
        );
        assert!(c.notice.new_address);
        assert_eq!(
            config(&[("ALERT_CHANNELS", "slack")]).unwrap_err().var,
            "SLACK_WEBHOOK_URL"
        );
        assert_eq!(
            config(&[("SLACK_WEBHOOK_URL", "http://hooks.slack.com/x")])
                .unwrap_err()
                .var,
            "SLACK_WEBHOOK_URL"
        );
        assert_eq!(
            config(&[
                ("SLACK_WEBHOOK_URL", "https://h/x"),
                ("SLACK_WEBHOOK_URL_SECRET", "s")
            ])
            .unwrap_err()
            .var,
            "SLACK_WEBHOOK_URL_SECRET"
        );
    }

    #[test]
    fn errors_name_the_variable() {
        let cases: &[(&str, &str)] = &[
            ("LISTEN_ADDR", "localhost"),
            ("DEPARTMENT_API_URL", "http://dir.example.com/departments"),
            ("DEPARTMENT_API_URL", "ftp://dir.example.com/{department}"),
            ("SENSITIVE_CLAIMS", " , "),
            ("ALERT_VALUES", "partly"),
            ("SECURITY_TEAM_EMAILS", "not-an-address"),
            ("ALERT_SENDER", "nobody"),
            ("DEPARTMENTS", ","),
            ("MAX_BODY_BYTES", "12"),
            ("MAX_CLAIMS", "0"),
            ("DEADLINE_MS", "50"),
            ("USER_NOTICE", "sometimes"),
            ("USER_NOTICE_NEW_ADDRESS", "maybe"),
            ("ALERT_CHANNELS", "email,pager"),
            ("AUTH_MODE", "digest"),
            ("DIRECTORY_UNAVAILABLE", "ignore"),
            ("ALERT_UNDELIVERED", "skip"),
            ("SUPPORT_CONTACT", "a\nb"),
            ("IDEMPOTENCY_TABLE", "my table"),
        ];
        for (var, value) in cases {
            let err = config(&[(var, value)]).unwrap_err();
            assert_eq!(&err.var, var, "{var}={value} gave {err}");
        }
        let err = config(&[
            ("DEPARTMENT_API_URL", "http://d/{department}"),
            ("DEPARTMENT_API_TIMEOUT_MS", "0"),
        ])
        .unwrap_err();
        assert_eq!(err.var, "DEPARTMENT_API_TIMEOUT_MS");
        let err = config(&[("ALERT_SENDER", "guard@example.com")]).unwrap_err();
        assert_eq!(err.var, "SECURITY_TEAM_EMAILS");
    }

    #[test]
    fn sensitive_claims_take_short_names_and_full_uris() {
        let set = ClaimSet::parse("mobile, http://example.com/claims/x").unwrap();
        assert!(set.contains("http://wso2.org/claims/mobile"));
        assert!(set.contains("http://example.com/claims/x"));
        assert!(!set.contains("http://wso2.org/claims/department"));
    }

    #[test]
    fn url_template_percent_encodes_the_value() {
        let t = UrlTemplate::parse("https://dir.example.com/departments/{department}").unwrap();
        assert_eq!(
            t.expand("R&D / Ops"),
            "https://dir.example.com/departments/R%26D%20%2F%20Ops"
        );
    }
}
