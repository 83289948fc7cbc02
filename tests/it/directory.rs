//! The department check against a real HTTP server on loopback: known, unknown, failing, slow, refused, garbage.

use std::time::{Duration, Instant};

use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{TestApp, closed_port, department_body, garbage_directory, success};

/// The same update as a distinct change (its own requestId), so the answer is not a replay.
fn distinct(value: &str, id: usize) -> String {
    department_body(value).replacen('{', &format!(r#"{{"requestId":"call-{id}","#), 1)
}

async fn app_for(server: &MockServer, extra: &[(&str, &str)]) -> TestApp {
    let url = format!("{}/departments/{{department}}", server.uri());
    let mut vars = vec![
        ("DEPARTMENT_API_URL", url.as_str()),
        ("DEPARTMENT_API_TIMEOUT_MS", "300"),
    ];
    vars.extend_from_slice(extra);
    TestApp::new(&vars).await
}

fn server_error(description: &str) -> serde_json::Value {
    json!({"actionStatus": "ERROR", "errorMessage": "directory_unavailable", "errorDescription": description})
}

#[tokio::test]
async fn a_known_department_is_allowed_and_the_value_is_percent_encoded_with_the_token() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/departments/R%26D%20Ops"))
        .and(header("authorization", "Bearer dir-token-123"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"name": "R&D Ops"})))
        .expect(1)
        .mount(&server)
        .await;
    let app = app_for(&server, &[("DEPARTMENT_API_TOKEN", "dir-token-123")]).await;
    let answer = app.post(department_body("R&D Ops")).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body, success());
}

#[tokio::test]
async fn an_unknown_department_is_rejected() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/departments/Legal"))
        .respond_with(ResponseTemplate::new(404))
        .expect(1)
        .mount(&server)
        .await;
    let answer = app_for(&server, &[])
        .await
        .post(department_body("Legal"))
        .await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.body,
        json!({"actionStatus": "FAILED", "failureReason": "invalid_department_input",
               "failureDescription": "Provided user department value is invalid."})
    );
}

#[tokio::test]
async fn a_failing_directory_is_a_server_error() {
    for status in [500, 503, 401, 302] {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(status))
            .mount(&server)
            .await;
        let answer = app_for(&server, &[])
            .await
            .post(department_body("HR"))
            .await;
        assert_eq!(answer.status, 500, "directory status {status}");
        assert_eq!(answer.content_type.as_deref(), Some("application/json"));
        assert_eq!(
            answer.body,
            server_error("The department directory gave an unexpected answer.")
        );
    }
}

#[tokio::test]
async fn a_slow_directory_times_out_instead_of_hanging() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let app = app_for(&server, &[]).await;
    let started = Instant::now();
    let answer = app.post(department_body("HR")).await;
    let took = started.elapsed();
    assert_eq!(answer.status, 500);
    assert_eq!(
        answer.body,
        server_error("The department directory did not answer in time.")
    );
    assert!(
        took < Duration::from_millis(1000),
        "took {took:?} with a 300 ms timeout"
    );
}

#[tokio::test]
async fn a_refused_connection_is_a_server_error() {
    let url = format!(
        "http://127.0.0.1:{}/departments/{{department}}",
        closed_port()
    );
    let app = TestApp::new(&[("DEPARTMENT_API_URL", url.as_str())]).await;
    let answer = app.post(department_body("HR")).await;
    assert_eq!(answer.status, 500);
    assert_eq!(
        answer.body,
        server_error("The department directory could not be reached.")
    );
}

#[tokio::test]
async fn a_garbage_answer_is_a_server_error() {
    // Not HTTP at all: bytes, then the connection closes.
    let base = garbage_directory().await;
    let url = format!("{base}/departments/{{department}}");
    let app = TestApp::new(&[("DEPARTMENT_API_URL", url.as_str())]).await;
    let answer = app.post(department_body("HR")).await;
    assert_eq!(answer.status, 500);
    assert_eq!(answer.body["actionStatus"], "ERROR");
    assert_eq!(answer.body["errorMessage"], "directory_unavailable");
}

#[tokio::test]
async fn a_garbage_body_with_200_still_means_known() {
    // The contract is the status code; a body the directory sends is not read.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>not json</html>"))
        .mount(&server)
        .await;
    let answer = app_for(&server, &[])
        .await
        .post(department_body("HR"))
        .await;
    assert_eq!(answer.body, success());
}

#[tokio::test]
async fn a_cleared_department_or_no_department_makes_no_directory_call() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;
    let app = app_for(&server, &[]).await;
    assert_eq!(app.post(department_body("")).await.body, success());
    let no_department = json!({"actionType": "PRE_UPDATE_PROFILE", "event": {"request": {"claims": [
        {"uri": "http://wso2.org/claims/country", "value": "LK"}]}}});
    assert_eq!(app.post(no_department.to_string()).await.body, success());
}

#[tokio::test]
async fn the_embedded_list_is_used_without_a_directory_url() {
    let app = TestApp::new(&[("DEPARTMENTS", "Research, Legal")]).await;
    assert_eq!(app.post(department_body("Legal")).await.body, success());
    assert_eq!(
        app.post(department_body("HR")).await.body["failureReason"],
        "invalid_department_input"
    );
}

#[tokio::test]
async fn a_second_identical_call_within_the_ttl_makes_no_network_call() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/departments/HR"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/departments/Legal"))
        .respond_with(ResponseTemplate::new(404))
        .expect(1)
        .mount(&server)
        .await;
    let app = app_for(&server, &[]).await;
    for i in 0..3 {
        assert_eq!(app.post(distinct("HR", i)).await.body, success());
        let rejected = app.post(distinct("Legal", 100 + i)).await;
        assert_eq!(rejected.body["failureReason"], "invalid_department_input");
    }
    // Concurrent misses for one department are one upstream call too.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_millis(100)))
        .expect(1)
        .mount(&server)
        .await;
    let app = app_for(&server, &[]).await;
    let (a, b, c) = tokio::join!(
        app.post(distinct("Sales", 1)),
        app.post(distinct("Sales", 2)),
        app.post(distinct("Sales", 3))
    );
    assert!([a, b, c].iter().all(|x| x.body == success()));
}

#[tokio::test]
async fn the_cache_can_be_switched_off() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200))
        .expect(2)
        .mount(&server)
        .await;
    let app = app_for(&server, &[("DEPARTMENT_CACHE_TTL", "0")]).await;
    assert_eq!(app.post(distinct("HR", 1)).await.body, success());
    assert_eq!(app.post(distinct("HR", 2)).await.body, success());
}
