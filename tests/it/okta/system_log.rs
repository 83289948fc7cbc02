//! A loopback stand-in for Okta's System Log API that answers the way Okta does: `GET /api/v1/logs` with
//! `Authorization: SSWS <token>` (else a 401 `E0000011`), the profile-update filter (else a 400 `E0000053`),
//! `since` / `sortOrder=ASCENDING` / `limit`, pages linked by `Link: <…>; rel="next"` carrying an opaque `after`
//! (a polling read: there is always a next link, and the end is an empty page), `X-Rate-Limit-*` headers on every
//! answer. A test scripts what the next calls get: a delay, or a fault (a 429 with its reset, a 500, …).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// The API token the stub accepts.
pub const TOKEN: &str = "00okta-catchup-token-4f2a";
const FILTER: &str = "eventType eq \"user.account.update_profile\"";

/// What one call gets, in the order scripted; unscripted calls are answered normally.
pub enum Step {
    /// Answered normally, after this long.
    Delayed(Duration),
    /// Answered with this instead.
    Fault(ResponseTemplate),
    /// Answered normally, saying the rate limit is used up until `reset_in` from now.
    Exhausted { reset_in: Duration },
}

#[derive(Default)]
struct State {
    /// The log, oldest first.
    events: Vec<(SystemTime, Value)>,
    script: VecDeque<Step>,
    page_size: usize,
}

#[derive(Clone)]
pub struct SystemLogStub {
    pub server: Arc<MockServer>,
    state: Arc<Mutex<State>>,
}

impl SystemLogStub {
    /// An empty log that answers at most `page_size` events a page.
    pub async fn start(page_size: usize) -> SystemLogStub {
        Self::on(MockServer::start().await, page_size).await
    }

    /// The same, on a listener of the caller's (a port chosen beforehand).
    pub async fn on(server: MockServer, page_size: usize) -> SystemLogStub {
        let state = Arc::new(Mutex::new(State {
            page_size,
            ..State::default()
        }));
        Mock::given(method("GET"))
            .and(path("/api/v1/logs"))
            .respond_with(Answers {
                state: Arc::clone(&state),
                base: server.uri(),
            })
            .mount(&server)
            .await;
        SystemLogStub {
            server: Arc::new(server),
            state,
        }
    }

    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// Logs events (in any order; the log keeps them by `published`).
    pub fn log(&self, events: impl IntoIterator<Item = Value>) {
        let mut state = self.state.lock().unwrap();
        for event in events {
            let at = event["published"]
                .as_str()
                .and_then(|p| humantime::parse_rfc3339_weak(p).ok())
                .expect("a logged event has a published time");
            state.events.push((at, event));
        }
        state.events.sort_by_key(|(at, _)| *at);
    }

    /// When the log says the event `uuid` was published.
    pub fn published_of(&self, uuid: &str) -> SystemTime {
        let state = self.state.lock().unwrap();
        let found = state.events.iter().find(|(_, e)| e["uuid"] == uuid);
        found.expect("the event is in the log").0
    }

    pub fn script(&self, steps: impl IntoIterator<Item = Step>) {
        self.state.lock().unwrap().script.extend(steps);
    }

    /// The `since` of each first-page call so far.
    pub async fn sinces(&self) -> Vec<String> {
        let requests = self.server.received_requests().await.unwrap_or_default();
        requests
            .iter()
            .filter_map(|r| {
                r.url
                    .query_pairs()
                    .find(|(k, _)| k == "since")
                    .map(|(_, v)| v.into_owned())
            })
            .collect()
    }

    /// Calls the log got.
    pub async fn calls(&self) -> usize {
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .len()
    }
}

/// `published`, `secs` seconds ago, as Okta writes it.
pub fn ago(secs: u64) -> String {
    humantime::format_rfc3339_millis(SystemTime::now() - Duration::from_secs(secs)).to_string()
}

/// A 429 as Okta sends it, the limit resetting `reset_in` from now.
pub fn rate_limited(reset_in: Duration) -> ResponseTemplate {
    with_rate(ResponseTemplate::new(429), 0, reset_in).set_body_json(json!({
        "errorCode": "E0000047", "errorSummary": "API call exceeded rate limit due to too many requests.",
        "errorLink": "E0000047", "errorId": "oae1", "errorCauses": []}))
}

fn with_rate(t: ResponseTemplate, remaining: u64, reset_in: Duration) -> ResponseTemplate {
    let reset = (SystemTime::now() + reset_in)
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
        .ceil();
    t.insert_header("x-rate-limit-limit", "120")
        .insert_header("x-rate-limit-remaining", remaining.to_string().as_str())
        .insert_header("x-rate-limit-reset", format!("{reset}").as_str())
}

fn error(status: u16, code: &str, summary: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(
        json!({"errorCode": code, "errorSummary": summary, "errorId": "oae2", "errorCauses": []}),
    )
}

struct Answers {
    state: Arc<Mutex<State>>,
    base: String,
}

impl Respond for Answers {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let auth = request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok());
        if auth != Some(format!("SSWS {TOKEN}").as_str()) {
            return error(401, "E0000011", "Invalid token provided");
        }
        let mut state = self.state.lock().unwrap();
        let (delay, exhausted) = match state.script.pop_front() {
            Some(Step::Fault(fault)) => return fault,
            Some(Step::Delayed(d)) => (d, None),
            Some(Step::Exhausted { reset_in }) => (Duration::ZERO, Some(reset_in)),
            None => (Duration::ZERO, None),
        };
        let query: Vec<(String, String)> = request.url.query_pairs().into_owned().collect();
        let param = |name: &str| {
            query
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let start = match (param("after"), param("since")) {
            (Some(after), None) => after.parse().unwrap_or(usize::MAX),
            (None, since)
                if param("filter") == Some(FILTER) && param("sortOrder") == Some("ASCENDING") =>
            {
                let since = since.and_then(|s| humantime::parse_rfc3339_weak(s).ok());
                state
                    .events
                    .iter()
                    .take_while(|(at, _)| since.is_some_and(|s| *at < s))
                    .count()
            }
            _ => return error(400, "E0000053", "Invalid parameter"),
        };
        let limit = param("limit").and_then(|l| l.parse().ok()).unwrap_or(100);
        let page: Vec<Value> = state
            .events
            .iter()
            .skip(start)
            .take(limit.min(state.page_size))
            .map(|(_, e)| e.clone())
            .collect();
        let after = start.min(state.events.len()) + page.len();
        let next = format!(
            "<{}/api/v1/logs?after={after}&limit={limit}>; rel=\"next\"",
            self.base
        );
        let answer = ResponseTemplate::new(200)
            .append_header("link", format!("<{}>; rel=\"self\"", request.url).as_str())
            .append_header("link", next.as_str())
            .set_body_json(Value::Array(page))
            .set_delay(delay);
        match exhausted {
            Some(reset_in) => with_rate(answer, 0, reset_in),
            None => with_rate(answer, 119, Duration::from_secs(60)),
        }
    }
}
