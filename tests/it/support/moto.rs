//! moto's server on loopback, one per test binary: SES (read back what was sent), DynamoDB and Secrets Manager.

use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::closed_port;

/// One moto server for the whole test binary. It stops when the test process ends: a small shell watchdog kills
/// it once its parent (this process) is gone.
pub struct Moto {
    pub endpoint: String,
    /// The watchdog shell; kept so the handle lives as long as the server.
    _watchdog: std::sync::Mutex<std::process::Child>,
}

static MOTO: OnceLock<Moto> = OnceLock::new();

pub fn moto() -> &'static Moto {
    MOTO.get_or_init(|| {
        let bin = std::env::var("MOTO_SERVER").unwrap_or_else(|_| format!("{}/.venv/bin/moto_server", env!("CARGO_MANIFEST_DIR")));
        assert!(
            std::path::Path::new(&bin).exists(),
            "moto_server not found at {bin}: run `make test` (it installs the SES emulator into .venv) or set MOTO_SERVER"
        );
        let port = closed_port();
        let script = format!(
            "\"$0\" -H 127.0.0.1 -p {port} >/dev/null 2>&1 & child=$!; \
             while kill -0 {parent} 2>/dev/null; do sleep 1; done; kill $child",
            parent = std::process::id()
        );
        let watchdog = Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg(&bin)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server starts");
        let endpoint = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
                && ureq_get(&format!("{endpoint}/moto-api/")).is_some();
            if ready {
                break;
            }
            assert!(Instant::now() < deadline, "moto_server did not start on port {port} within 30 s");
            std::thread::sleep(Duration::from_millis(100));
        }
        Moto {
            endpoint,
            _watchdog: std::sync::Mutex::new(watchdog),
        }
    })
}

/// A blocking GET on loopback with std only (used before any runtime exists).
fn ureq_get(url: &str) -> Option<String> {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://")?;
    let (host, path) = rest.split_once('/')?;
    let mut s = std::net::TcpStream::connect(host).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(s, "GET /{path} HTTP/1.0\r\nHost: {host}\r\n\r\n").ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    out.starts_with("HTTP/1.").then_some(out)
}

/// A sender domain of its own for one test, verified in the emulator, so parallel tests never see each other's
/// mail.
pub struct SesScope {
    pub sender: String,
    pub security_team: String,
    pub endpoint: String,
}

impl SesScope {
    pub async fn new() -> SesScope {
        let moto = moto();
        let domain = format!("t{}.example.com", uuid::Uuid::new_v4().simple());
        let client = ses_client(&moto.endpoint).await;
        client
            .create_email_identity()
            .email_identity(&domain)
            .send()
            .await
            .expect("the emulator verifies the sender domain");
        SesScope {
            sender: format!("profile-guard@{domain}"),
            security_team: format!("security@{domain}"),
            endpoint: moto.endpoint.clone(),
        }
    }

    /// The variables that point profile-guard's alerts at this scope.
    pub fn vars(&self) -> Vec<(&str, &str)> {
        vec![
            ("ALERT_SENDER", self.sender.as_str()),
            ("SECURITY_TEAM_EMAILS", self.security_team.as_str()),
            ("AWS_REGION", "us-east-1"),
            ("AWS_ENDPOINT_URL_SESV2", self.endpoint.as_str()),
        ]
    }

    /// Every message the emulator holds from this scope's sender.
    pub async fn sent(&self) -> Vec<SentMail> {
        held_mail(&self.endpoint)
            .await
            .into_iter()
            .filter(|m| m.source == self.sender)
            .map(|m| m.mail)
            .collect()
    }
}

/// One message the emulator holds: its id, its sender, the message.
pub struct HeldMail {
    pub id: String,
    pub source: String,
    pub mail: SentMail,
}

/// Every message the emulator at `endpoint` holds, from anyone.
pub async fn held_mail(endpoint: &str) -> Vec<HeldMail> {
    let data: Value = reqwest::get(format!("{endpoint}/moto-api/data.json"))
        .await
        .expect("emulator answers")
        .bytes()
        .await
        .map(|b| serde_json::from_slice(&b).expect("data.json is JSON"))
        .expect("data.json reads");
    // Simple messages and raw ones (with attachments) are kept apart.
    ["Message", "RawMessage"]
        .iter()
        .flat_map(|kind| data["ses"][kind].as_array().cloned().unwrap_or_default())
        .map(|m| HeldMail {
            id: m["id"].as_str().unwrap_or_default().to_owned(),
            source: m["source"].as_str().unwrap_or_default().to_owned(),
            mail: sent_mail(&m),
        })
        .collect()
}

impl SesScope {
    /// Messages to the security team.
    pub async fn alerts(&self) -> Vec<SentMail> {
        self.sent()
            .await
            .into_iter()
            .filter(|m| m.to.contains(&self.security_team))
            .collect()
    }

    /// Messages to anybody else (the person whose profile changes).
    pub async fn notices(&self) -> Vec<SentMail> {
        self.sent()
            .await
            .into_iter()
            .filter(|m| !m.to.contains(&self.security_team))
            .collect()
    }
}

#[derive(Debug, Clone)]
pub struct SentMail {
    pub to: Vec<String>,
    pub subject: String,
    /// The HTML part (the emulator keeps only that one when both are sent); a raw message's whole MIME text.
    pub body: String,
    /// A raw message's attachments, decoded: file name and content.
    pub attachments: Vec<(String, String)>,
}

/// One message as the emulator keeps it: simple (subject, body) or raw (the MIME text, read here).
fn sent_mail(m: &Value) -> SentMail {
    let to = m["destinations"]["ToAddresses"]
        .as_array()
        .or(m["destinations"].as_array())
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    match m["raw_data"].as_str() {
        Some(raw) => SentMail {
            to,
            subject: header(raw, "Subject"),
            body: raw.to_owned(),
            attachments: attachments(raw),
        },
        None => SentMail {
            to,
            subject: m["subject"].as_str().unwrap_or_default().to_owned(),
            body: m["body"].as_str().unwrap_or_default().to_owned(),
            attachments: Vec::new(),
        },
    }
}

/// A header of a raw message, RFC 2047 words decoded.
fn header(raw: &str, name: &str) -> String {
    use base64::Engine;
    let mut value = String::new();
    let mut lines = raw.split("\r\n");
    let prefix = format!("{name}: ");
    while let Some(line) = lines.next() {
        if let Some(first) = line.strip_prefix(&prefix) {
            value.push_str(first);
            for more in lines.by_ref() {
                match more.strip_prefix(' ') {
                    Some(cont) => value.push_str(cont),
                    None => break,
                }
            }
            break;
        }
    }
    let words: Vec<&str> = value.split("?==?").collect();
    if !value.starts_with("=?UTF-8?B?") {
        return value;
    }
    words
        .iter()
        .map(|w| {
            w.trim_start_matches("=?UTF-8?B?")
                .trim_end_matches("?=")
                .trim_start_matches("UTF-8?B?")
        })
        .filter_map(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .collect()
}

/// The attachments of a raw message: each part with a file name, its base64 body decoded.
fn attachments(raw: &str) -> Vec<(String, String)> {
    use base64::Engine;
    raw.split("\r\n--")
        .filter_map(|part| {
            let (head, body) = part.split_once("\r\n\r\n")?;
            let name = head
                .split("filename=\"")
                .nth(1)?
                .split('"')
                .next()?
                .to_owned();
            let data: String = body
                .split("\r\n")
                .take_while(|l| !l.starts_with("--"))
                .collect();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(data.trim())
                .ok()?;
            Some((name, String::from_utf8_lossy(&bytes).into_owned()))
        })
        .collect()
}

pub async fn ses_client(endpoint: &str) -> aws_sdk_sesv2::Client {
    aws_sdk_sesv2::Client::new(&sdk_for(endpoint).await)
}

/// The AWS SDK configuration for the emulator, with fixed test credentials.
pub async fn moto_sdk() -> aws_config::SdkConfig {
    sdk_for(&moto().endpoint).await
}

/// The AWS SDK configuration for an emulator at `endpoint`, with fixed test credentials.
pub async fn sdk_for(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .empty_test_environment()
        .test_credentials()
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .load()
        .await
}

/// The once-per-change table's schema, the one place the tests and `make smoke` take it from; template.yaml
/// declares the deployed one (`OncePerChangeStore`), and `the_table_schema_is_the_templates` keeps them alike.
pub const ONCE_PER_CHANGE_KEY: &str = "id";
/// The attribute DynamoDB's TTL removes a record by (epoch seconds).
pub const ONCE_PER_CHANGE_TTL: &str = "expiration";

/// Creates a once-per-change table named `name`: partition key `id` (a string), TTL on `expiration`, on demand.
pub async fn create_once_per_change_table(client: &aws_sdk_dynamodb::Client, name: &str) {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
        TimeToLiveSpecification,
    };
    client
        .create_table()
        .table_name(name)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(ONCE_PER_CHANGE_KEY)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("a complete attribute definition"),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name(ONCE_PER_CHANGE_KEY)
                .key_type(KeyType::Hash)
                .build()
                .expect("a complete key schema"),
        )
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .expect("table created in the emulator");
    client
        .update_time_to_live()
        .table_name(name)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name(ONCE_PER_CHANGE_TTL)
                .enabled(true)
                .build()
                .expect("a complete TTL specification"),
        )
        .send()
        .await
        .expect("TTL set in the emulator");
}

/// A fresh queue in the emulator, with a short visibility timeout so that tests see redeliveries.
pub async fn sqs_queue(visibility_secs: u32) -> String {
    let sdk = moto_sdk().await;
    let client = aws_sdk_sqs::Client::new(&sdk);
    let name = format!("pg-alerts-{}", uuid::Uuid::new_v4().simple());
    client
        .create_queue()
        .queue_name(&name)
        .attributes(
            aws_sdk_sqs::types::QueueAttributeName::VisibilityTimeout,
            visibility_secs.to_string(),
        )
        .send()
        .await
        .expect("queue created in the emulator")
        .queue_url()
        .expect("the emulator names the queue's URL")
        .to_owned()
}
