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
        let data: Value = reqwest::get(format!("{}/moto-api/data.json", self.endpoint))
            .await
            .expect("emulator answers")
            .bytes()
            .await
            .map(|b| serde_json::from_slice(&b).expect("data.json is JSON"))
            .expect("data.json reads");
        data["ses"]["Message"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|m| m["source"] == self.sender.as_str())
            .map(|m| SentMail {
                to: m["destinations"]["ToAddresses"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect(),
                subject: m["subject"].as_str().unwrap_or_default().to_owned(),
                body: m["body"].as_str().unwrap_or_default().to_owned(),
            })
            .collect()
    }
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
    /// The HTML part (the emulator keeps only that one when both are sent).
    pub body: String,
}

pub async fn ses_client(endpoint: &str) -> aws_sdk_sesv2::Client {
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .empty_test_environment()
        .test_credentials()
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .load()
        .await;
    aws_sdk_sesv2::Client::new(&sdk)
}

/// The AWS SDK configuration for the emulator, with fixed test credentials.
pub async fn moto_sdk() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .empty_test_environment()
        .test_credentials()
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(&moto().endpoint)
        .load()
        .await
}
