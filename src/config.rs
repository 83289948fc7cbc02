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
    pub max_body_bytes: usize,
    pub directory: DirectoryConfig,
    pub sensitive_claims: ClaimSet,
    pub alert: AlertConfig,
    pub aws: AwsSettings,
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
    },
    /// A fixed list (`DEPARTMENTS`), for trying the service out or for small tenants.
    Embedded { departments: Vec<String> },
}

#[derive(Debug, Clone)]
pub struct AlertConfig {
    pub transport: AlertTransport,
    pub recipients: Vec<String>,
    pub values: ValueDisplay,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlertTransport {
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

        let max_body_bytes = match get("MAX_BODY_BYTES") {
            Some(v) => match v.parse::<usize>() {
                Ok(n) if (1024..=1024 * 1024).contains(&n) => n,
                _ => {
                    return Err(ConfigError::new(
                        "MAX_BODY_BYTES",
                        "must be a number of bytes from 1024 to 1048576",
                    ));
                }
            },
            None => DEFAULT_MAX_BODY_BYTES,
        };

        let directory = match get("DEPARTMENT_API_URL") {
            Some(url) => {
                let url = UrlTemplate::parse(&url)
                    .map_err(|p| ConfigError::new("DEPARTMENT_API_URL", p))?;
                let timeout_ms = match get("DEPARTMENT_API_TIMEOUT_MS") {
                    Some(v) => match v.parse::<u64>() {
                        Ok(n) if (1..=10_000).contains(&n) => n,
                        _ => {
                            return Err(ConfigError::new(
                                "DEPARTMENT_API_TIMEOUT_MS",
                                "must be a whole number of milliseconds from 1 to 10000",
                            ));
                        }
                    },
                    None => DEFAULT_DEPARTMENT_API_TIMEOUT_MS,
                };
                DirectoryConfig::Http {
                    url,
                    token: secret_source(
                        &get,
                        "DEPARTMENT_API_TOKEN",
                        "DEPARTMENT_API_TOKEN_SECRET",
                    )?,
                    timeout: Duration::from_millis(timeout_ms),
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

        let values = match get("ALERT_VALUES") {
            Some(v) => v.parse().map_err(|_| {
                ConfigError::new(
                    "ALERT_VALUES",
                    format!("{v:?} is not one of masked, full, none"),
                )
            })?,
            None => ValueDisplay::Masked,
        };

        let recipients = match get("SECURITY_TEAM_EMAILS") {
            Some(v) => parse_email_list("SECURITY_TEAM_EMAILS", &v)?,
            None if in_lambda => {
                return Err(ConfigError::new(
                    "SECURITY_TEAM_EMAILS",
                    "is required in Lambda: the comma-separated addresses that receive security alerts",
                ));
            }
            None => Vec::new(),
        };

        let transport = match get("ALERT_SENDER") {
            Some(sender) => {
                if !is_plausible_email(&sender) {
                    return Err(ConfigError::new(
                        "ALERT_SENDER",
                        format!("{sender:?} is not an e-mail address"),
                    ));
                }
                if recipients.is_empty() {
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
                AlertTransport::Ses { sender }
            }
            None if in_lambda => {
                return Err(ConfigError::new(
                    "ALERT_SENDER",
                    "is required in Lambda: a sender address or domain verified in Amazon SES",
                ));
            }
            None => AlertTransport::LogOutbox,
        };

        let endpoint = get("AWS_ENDPOINT_URL");
        let aws = AwsSettings {
            region: get("AWS_REGION").or_else(|| get("AWS_DEFAULT_REGION")),
            ses_endpoint: get("AWS_ENDPOINT_URL_SESV2").or_else(|| endpoint.clone()),
            secrets_endpoint: get("AWS_ENDPOINT_URL_SECRETS_MANAGER").or(endpoint),
        };
        for (var, url) in [
            ("AWS_ENDPOINT_URL_SESV2", &aws.ses_endpoint),
            ("AWS_ENDPOINT_URL_SECRETS_MANAGER", &aws.secrets_endpoint),
        ] {
            if let Some(url) = url {
                reqwest::Url::parse(url)
                    .map_err(|e| ConfigError::new(var, format!("is not a URL ({e})")))?;
            }
        }

        Ok(Config {
            aws,
            in_lambda,
            listen_addr,
            max_body_bytes,
            directory,
            sensitive_claims,
            alert: AlertConfig {
                transport,
                recipients,
                values,
            },
        })
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
        assert_eq!(c.alert.transport, AlertTransport::LogOutbox);
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
