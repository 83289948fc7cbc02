//! Test harness: the real router built from a configuration, a real SES emulator (moto's server) shared by the
//! test binary, and helpers to post bodies and read answers.

use std::collections::HashMap;
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, header};
use http_body_util::BodyExt;
use profile_guard::{Config, build_state_with, router};
use serde_json::Value;
use tower::ServiceExt;

/// An answer as the identity server sees it.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Value,
}

pub struct TestApp {
    pub router: axum::Router,
}

impl TestApp {
    /// The router built from exactly these variables (nothing from the process environment), with fixed test
    /// credentials for any AWS client.
    pub async fn new(vars: &[(&str, &str)]) -> TestApp {
        Self::with(vars, |_| {}).await
    }

    /// As `new`, with a chance to replace parts of the state (e.g. a component that fails on purpose).
    pub async fn with(
        vars: &[(&str, &str)],
        adjust: impl FnOnce(&mut profile_guard::AppState),
    ) -> TestApp {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let config =
            Config::from_lookup(|k| map.get(k).cloned()).expect("test configuration is valid");
        let loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .empty_test_environment()
            .test_credentials();
        let mut state = build_state_with(&config, loader)
            .await
            .expect("state builds");
        adjust(&mut state);
        TestApp {
            router: router(Arc::new(state)),
        }
    }

    pub async fn post(&self, body: impl Into<Body>) -> Answer {
        self.request(
            Request::post("/pre-update-profile")
                .header(header::CONTENT_TYPE, "application/json")
                .body(body.into())
                .expect("request builds"),
        )
        .await
    }

    pub async fn request(&self, request: Request<Body>) -> Answer {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("router answers");
        answer_of(response).await
    }
}

pub async fn answer_of(response: axum::response::Response) -> Answer {
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let raw = response
        .into_body()
        .collect()
        .await
        .expect("body reads")
        .to_bytes()
        .to_vec();
    let body = serde_json::from_slice(&raw).unwrap_or(Value::Null);
    Answer {
        status,
        content_type,
        body,
    }
}

/// Asserts an answer is one the identity server accepts: status, content type, body shape, character set.
pub fn assert_contract_valid(a: &Answer, what: &str) {
    assert_eq!(
        a.content_type.as_deref(),
        Some("application/json"),
        "{what}"
    );
    let status = a.body["actionStatus"]
        .as_str()
        .unwrap_or_else(|| panic!("{what}: no actionStatus in {:?}", a.body));
    match (a.status, status) {
        (200, "SUCCESS") => assert_eq!(a.body.as_object().unwrap().len(), 1, "{what}"),
        (200, "FAILED") => {
            let r = a.body["failureReason"].as_str().unwrap();
            let d = a.body["failureDescription"].as_str().unwrap();
            assert!(
                profile_guard::action::is_contract_text(r, 100)
                    && profile_guard::action::is_contract_text(d, 300)
            );
        }
        (400 | 401 | 500, "ERROR") => {
            let m = a.body["errorMessage"].as_str().unwrap();
            let d = a.body["errorDescription"].as_str().unwrap();
            assert!(
                profile_guard::action::is_contract_text(m, 100)
                    && profile_guard::action::is_contract_text(d, 300)
            );
        }
        other => panic!("{what}: not a contract answer {other:?}"),
    }
}

pub fn repo_file(path: &str) -> String {
    let full = format!("{}/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

/// WSO2's conformance data, copied into `tests/fixtures/wso2/` (origin in its README).
pub fn conformance_file(name: &str) -> String {
    repo_file(&format!("tests/fixtures/wso2/{name}"))
}

pub fn tutorial() -> String {
    conformance_file("tutorial-request.json")
}

pub fn success() -> Value {
    serde_json::json!({"actionStatus": "SUCCESS"})
}

/// A loopback port nothing listens on.
pub fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    drop(l);
    port
}

// ---------------------------------------------------------------------------------------------------------------
// SES emulator
// ---------------------------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------------------------
// Logs
// ---------------------------------------------------------------------------------------------------------------

/// What the service logged while the guard lives (this thread only), as the JSON lines an operator reads.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    pub fn lines(&self) -> Vec<Value> {
        String::from_utf8(self.0.lock().unwrap().clone())
            .unwrap()
            .lines()
            .map(|l| {
                serde_json::from_str(l)
                    .unwrap_or_else(|e| panic!("log line is not JSON ({e}): {l}"))
            })
            .collect()
    }
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

pub fn capture() -> (Captured, tracing::subscriber::DefaultGuard) {
    // While only one subscriber exists, tracing caches a log statement's interest from the subscriber of the
    // thread that reaches it first: a statement first reached by a test without a subscriber would never be
    // logged here. With a second (idle) subscriber alive it asks all of them.
    static IDLE: OnceLock<tracing::Dispatch> = OnceLock::new();
    IDLE.get_or_init(|| tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default()));
    let captured = Captured::default();
    let writer = captured.clone();
    // The service's own format, so the tests read the lines users get.
    let filter = tracing_subscriber::filter::Targets::new().with_default(tracing::Level::DEBUG);
    let subscriber = profile_guard::telemetry::json_subscriber(filter, move || writer.clone());
    (captured, tracing::subscriber::set_default(subscriber))
}

impl Captured {
    /// The audit lines written so far, oldest first (and forgets them).
    pub fn take_audits(&self) -> Vec<Value> {
        let audits = self.audits();
        self.0.lock().unwrap().clear();
        audits
    }

    /// The audit lines, one per decision.
    pub fn audits(&self) -> Vec<Value> {
        self.lines()
            .into_iter()
            .filter(|l| l["target"] == "profile_guard::audit")
            .collect()
    }
}

/// A directory client with a bug: it panics on every lookup.
pub struct Exploding;

#[async_trait::async_trait]
impl profile_guard::directory::Directory for Exploding {
    async fn lookup(
        &self,
        _: &str,
    ) -> Result<profile_guard::policy::Membership, profile_guard::directory::DirectoryError> {
        panic!("a bug in a directory client");
    }
    fn describe(&self) -> String {
        "exploding".into()
    }
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

/// A request that writes only `department`.
pub fn department_body(value: &str) -> String {
    serde_json::json!({
        "actionType": "PRE_UPDATE_PROFILE",
        "event": {
            "request": {"claims": [{"uri": "http://wso2.org/claims/department", "value": value}]},
            "tenant": {"id": "2210", "name": "testwso2"},
            "user": {"id": "u-1"},
            "initiatorType": "ADMIN"
        }
    })
    .to_string()
}

/// A directory that answers with bytes that are not HTTP, then closes the connection.
pub async fn garbage_directory() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buf = [0u8; 1024];
            let _ = socket.read(&mut buf).await;
            let _ = socket.write_all(b"\x00\xffNOT HTTP\r\n\r\ngarbage").await;
        }
    });
    format!("http://127.0.0.1:{port}")
}
