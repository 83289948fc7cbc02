//! Test harness: the real router built from a configuration, a real SES emulator (moto's server) shared by the
//! test binary, and helpers to post bodies and read answers.

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, header};
use http_body_util::BodyExt;
use profile_guard::config::FunctionRole;
use profile_guard::{Config, Service, build_consumer_with, build_with, router};
use serde_json::Value;
use tower::ServiceExt;

mod jwks;
mod logs;
mod moto;

pub use jwks::{JwksServer, TestKey};
pub use logs::{Captured, capture};
pub use moto::{
    HeldMail, ONCE_PER_CHANGE_KEY, ONCE_PER_CHANGE_TTL, SentMail, SesScope,
    create_once_per_change_table, held_mail, moto, moto_sdk, sdk_for, ses_client, sqs_queue,
};

/// An answer as the identity server sees it.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Value,
}

pub struct TestApp {
    pub router: axum::Router,
    /// The consumer of the alert queue, when the configuration has one.
    pub consumer: Option<Arc<profile_guard::consumer::AlertConsumer>>,
    /// The alert queue, when the configuration has one.
    pub queue: Option<Arc<profile_guard::queue::SqsQueue>>,
    /// The catch-up from Okta's System Log, when the configuration has one; a test runs it itself.
    pub catchup: Option<Arc<profile_guard::catchup::Catchup>>,
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
        let loader = || {
            aws_config::defaults(aws_config::BehaviorVersion::latest())
                .empty_test_environment()
                .test_credentials()
        };
        let Service {
            mut state,
            mut background,
        } = build_with(&config, loader()).await.expect("state builds");
        // The tasks the routes depend on run; a test drives the consumer itself.
        background.start();
        adjust(&mut state);
        let (mut consumer, queue) = background.consumer().unzip();
        if config.queue.role == FunctionRole::AlertConsumer {
            let built = build_consumer_with(&config, loader()).await;
            consumer = Some(built.expect("the consumer builds"));
        }
        TestApp {
            consumer,
            queue,
            catchup: background.catchup(),
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
    Answer {
        status,
        content_type,
        body: body_value(&raw),
    }
}

/// An answer's body as `Answer` holds it: JSON when it is JSON; other text (a WebSub challenge) as a string; no body
/// at all as null.
pub fn body_value(raw: &[u8]) -> Value {
    serde_json::from_slice(raw).unwrap_or_else(|_| match raw.is_empty() {
        true => Value::Null,
        false => Value::String(String::from_utf8_lossy(raw).into_owned()),
    })
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

/// A value that would be a link in Markdown.
pub const LINK_BAIT: &str = "[Verify](https://evil.example)";
/// A value that would notify a whole channel if a chat client parsed it.
pub const MENTION_BAIT: &str = "@channel <!channel>";

/// An administrator changes a mobile number from [`MENTION_BAIT`] to [`LINK_BAIT`]; with `ALERT_VALUES=full` both
/// reach the alert as they are.
pub fn link_bait_change() -> String {
    serde_json::json!({"actionType": "PRE_UPDATE_PROFILE", "event": {
        "request": {"claims": [{"uri": "http://wso2.org/claims/mobile", "value": LINK_BAIT}]},
        "tenant": {"id": "2210", "name": "testwso2"},
        "user": {"id": "u-bait", "claims": [{"uri": "http://wso2.org/claims/mobile", "value": MENTION_BAIT}]},
        "userStore": {"id": "REVGQVVMVA==", "name": "DEFAULT"},
        "initiatorType": "ADMIN", "action": "UPDATE"}})
    .to_string()
}
