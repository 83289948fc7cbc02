//! Secrets read once at start-up: from the environment for local use, or from AWS Secrets Manager by name or ARN
//! (the Lambda way, so that no secret is a plain template parameter or environment value).

use aws_sdk_secretsmanager::error::ProvideErrorMetadata;
use secrecy::SecretString;
use serde_json::{Map, Value};

/// A secret given either in the environment (local use) or as a Secrets Manager secret read once at start-up.
#[derive(Debug, Clone)]
pub enum SecretSource {
    Inline(SecretString),
    /// The name or ARN of a Secrets Manager secret whose `SecretString` is the value.
    SecretsManager {
        id: String,
        /// The variable that named the secret, for error lines.
        var: &'static str,
    },
}

#[derive(Debug, thiserror::Error)]
#[error("{var}: {problem}")]
pub struct SecretError {
    pub var: &'static str,
    pub problem: String,
}

/// Reads secrets; the Secrets Manager client exists only when some secret lives there.
pub struct SecretReader {
    client: Option<aws_sdk_secretsmanager::Client>,
}

impl SecretReader {
    pub fn new(client: Option<aws_sdk_secretsmanager::Client>) -> Self {
        SecretReader { client }
    }

    /// Reads `source` when it is set; a Secrets Manager value is read in the shapes `kind` allows.
    pub async fn read_if_set(
        &self,
        source: Option<&SecretSource>,
        kind: SecretKind,
    ) -> Result<Option<SecretString>, SecretError> {
        match source {
            Some(source) => self.read(source, kind).await.map(Some),
            None => Ok(None),
        }
    }

    /// Reads one secret. An inline value is used as it is given; a Secrets Manager value may also be stored as
    /// JSON (see `parse_secret`).
    pub async fn read(
        &self,
        source: &SecretSource,
        kind: SecretKind,
    ) -> Result<SecretString, SecretError> {
        match source {
            SecretSource::Inline(value) => Ok(value.clone()),
            SecretSource::SecretsManager { id, var } => {
                let Some(client) = &self.client else {
                    return Err(SecretError {
                        var,
                        problem: "no Secrets Manager client is configured".into(),
                    });
                };
                let out = client
                    .get_secret_value()
                    .secret_id(id)
                    .send()
                    .await
                    .map_err(|e| {
                        let code = e
                            .code()
                            .unwrap_or("unreachable or unreadable answer")
                            .to_owned();
                        SecretError {
                            var,
                            problem: format!(
                                "secret {id:?} could not be read from Secrets Manager ({code})"
                            ),
                        }
                    })?;
                match out.secret_string() {
                    Some(s) if !s.trim().is_empty() => {
                        parse_secret(s, kind).map_err(|problem| SecretError { var, problem })
                    }
                    _ => Err(SecretError {
                        var,
                        problem: format!("secret {id:?} has no SecretString value"),
                    }),
                }
            }
        }
    }
}

/// Whether any of `sources` must be read from Secrets Manager.
pub fn needs_secrets_manager<'a>(
    sources: impl IntoIterator<Item = Option<&'a SecretSource>>,
) -> bool {
    sources
        .into_iter()
        .flatten()
        .any(|s| matches!(s, SecretSource::SecretsManager { .. }))
}

/// What a secret holds, which decides the shapes it may be stored in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretKind {
    /// A basic-auth credential: `user:password`, or JSON `{"username": …, "password": …}`.
    BasicCredential,
    /// One value (a token, an API key, a webhook URL): a plain string, or JSON with exactly one key.
    Single,
}

/// The problem for a plain basic-auth secret without a colon (the same words as for `AUTH_CREDENTIAL`).
const NOT_USER_PASSWORD: &str = "the secret must be user:password with AUTH_MODE=basic";

/// Reads a stored secret in the shapes people keep in Secrets Manager. A text that does not start with `{` is the
/// value itself, trimmed (as before); one that does is JSON and must have the shape `kind` allows (the console's
/// key/value editor stores secrets that way). The problem returned never quotes the secret, its keys or values.
pub fn parse_secret(text: &str, kind: SecretKind) -> Result<SecretString, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("the secret is empty".into());
    }
    if !text.starts_with('{') {
        if kind == SecretKind::BasicCredential && !text.contains(':') {
            return Err(NOT_USER_PASSWORD.into());
        }
        return Ok(SecretString::from(text.to_owned()));
    }
    let Ok(Value::Object(object)) = serde_json::from_str::<Value>(text) else {
        // A token that happens to start with `{` is far less likely than a JSON secret with a typo.
        return Err("the secret starts with '{' but is not a JSON object".into());
    };
    match kind {
        SecretKind::BasicCredential => basic_from_json(&object),
        SecretKind::Single => single_from_json(&object),
    }
}

/// `{"username", "password"}` → `username:password`. Other keys are ignored (some tools store a host or a note
/// alongside); the two values are used exactly as stored, since a password may end in a space.
fn basic_from_json(object: &Map<String, Value>) -> Result<SecretString, String> {
    let field = |name: &str| match object.get(name) {
        None => Err(format!(
            "the JSON secret has no \"{name}\" (AUTH_MODE=basic needs \"username\" and \"password\")"
        )),
        Some(Value::String(s)) if s.is_empty() => Err(format!("\"{name}\" is empty")),
        Some(Value::String(s)) => Ok(s.as_str()),
        Some(_) => Err(format!("\"{name}\" is not a string")),
    };
    let username = field("username")?;
    let password = field("password")?;
    if username.contains(':') {
        return Err("\"username\" contains ':', which basic authentication cannot carry".into());
    }
    Ok(SecretString::from(format!("{username}:{password}")))
}

/// A one-key object → its value, whatever the key is called (`token`, `apiKey`, `url`, …), trimmed like a plain
/// secret.
fn single_from_json(object: &Map<String, Value>) -> Result<SecretString, String> {
    let mut values = object.values();
    match (values.next(), object.len()) {
        (Some(Value::String(s)), 1) if !s.trim().is_empty() => {
            Ok(SecretString::from(s.trim().to_owned()))
        }
        (Some(Value::String(_)), 1) => Err("the JSON secret's value is empty".into()),
        (Some(_), 1) => Err("the JSON secret's value is not a string".into()),
        (_, n) => Err(format!(
            "the JSON secret has {n} keys: a token, API key or webhook URL is stored as a plain string \
             or as JSON with exactly one key"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use secrecy::ExposeSecret;
    use serde_json::json;

    use SecretKind::{BasicCredential as Basic, Single};

    fn read(text: &str, kind: SecretKind) -> Result<String, String> {
        parse_secret(text, kind).map(|s| s.expose_secret().to_owned())
    }

    #[test]
    fn the_shapes_people_store_secrets_in() {
        let ok: &[(&str, SecretKind, &str)] = &[
            ("tok-1", Single, "tok-1"),
            ("  tok-1\n", Single, "tok-1"),
            ("12345", Single, "12345"),
            ("\"quoted\"", Single, "\"quoted\""),
            (r#"{"token": "tok-1"}"#, Single, "tok-1"),
            (r#"{"apiKey": " key-2 "}"#, Single, "key-2"),
            (
                r#"{"url": "https://hooks.example/x"}"#,
                Single,
                "https://hooks.example/x",
            ),
            ("wso2:pw", Basic, "wso2:pw"),
            (
                r#"{"username": "wso2", "password": "p:w "}"#,
                Basic,
                "wso2:p:w ",
            ),
            (
                r#"{"username": "u", "password": "p", "host": "h"}"#,
                Basic,
                "u:p",
            ),
        ];
        for (text, kind, want) in ok {
            assert_eq!(read(text, *kind).as_deref(), Ok(*want), "{text}");
        }
        let refused: &[(&str, SecretKind, &str)] = &[
            ("   ", Single, "the secret is empty"),
            ("no-colon", Basic, NOT_USER_PASSWORD),
            (r#"{"token": "t""#, Single, "not a JSON object"),
            ("{}", Single, "has 0 keys"),
            (r#"{"a": "x", "b": "y"}"#, Single, "has 2 keys"),
            (r#"{"token": ""}"#, Single, "value is empty"),
            (r#"{"token": " "}"#, Single, "value is empty"),
            (r#"{"token": 7}"#, Single, "value is not a string"),
            (r#"{"token": null}"#, Single, "value is not a string"),
            (r#"{"username": "u"}"#, Basic, "no \"password\""),
            (r#"{"password": "p"}"#, Basic, "no \"username\""),
            (r#"{"user": "u", "pass": "p"}"#, Basic, "no \"username\""),
            (
                r#"{"username": "u", "password": ""}"#,
                Basic,
                "\"password\" is empty",
            ),
            (
                r#"{"username": "u", "password": 7}"#,
                Basic,
                "\"password\" is not a string",
            ),
            (
                r#"{"username": "a:b", "password": "p"}"#,
                Basic,
                "contains ':'",
            ),
            (r#"{"token": "u:p"}"#, Basic, "no \"username\""),
        ];
        for (text, kind, problem) in refused {
            let err = read(text, *kind).unwrap_err();
            assert!(err.contains(problem), "{text}: {err}");
        }
    }

    proptest! {
        #[test]
        fn a_pair_becomes_user_colon_password(user in "[^:]{1,20}", password in "\\PC{1,30}") {
            let text = json!({"username": user, "password": password}).to_string();
            prop_assert_eq!(read(&text, Basic), Ok(format!("{user}:{password}")));
        }

        #[test]
        fn any_one_key_object_gives_its_trimmed_value(key in "\\PC{0,12}", value in "\\PC{1,40}") {
            prop_assume!(!value.trim().is_empty());
            let text = json!({ key: value }).to_string();
            prop_assert_eq!(read(&text, Single), Ok(value.trim().to_owned()));
        }

        #[test]
        fn a_plain_string_is_used_as_before(text in "[^{\\s]\\PC{0,40}") {
            prop_assert_eq!(read(&text, Single), Ok(text.trim().to_owned()));
        }

        #[test]
        fn a_refusal_never_quotes_the_secret(key in "k-[a-z0-9]{6}", value in "v-[a-z0-9]{6}", n in 2usize..5) {
            let object: Map<String, Value> =
                (0..n).map(|i| (format!("{key}{i}"), json!(format!("{value}{i}")))).collect();
            let text = Value::Object(object).to_string();
            for kind in [Single, Basic] {
                let err = read(&text, kind).unwrap_err();
                prop_assert!(!err.contains(&key) && !err.contains(&value), "{}", err);
            }
        }
    }
}
