//! A department value only ever names one path segment of the directory URL, and only a real outage of the
//! directory may let a change through with `DIRECTORY_UNAVAILABLE=allow`.

use std::time::Duration;

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{TestApp, closed_port, department_body, garbage_directory, success};

fn invalid_department() -> serde_json::Value {
    json!({"actionStatus": "FAILED", "failureReason": "invalid_department_input",
           "failureDescription": "Provided user department value is invalid."})
}

fn directory_unavailable() -> serde_json::Value {
    json!({"actionStatus": "ERROR", "errorMessage": "directory_unavailable",
           "errorDescription": "The department directory gave an unexpected answer."})
}

/// Values no directory is asked about: dot segments, control characters, and one far over the length limit.
fn junk_values() -> Vec<(&'static str, String)> {
    vec![
        ("dot", ".".to_owned()),
        ("dot-dot", "..".to_owned()),
        ("nul alone", "\u{0}".to_owned()),
        ("nul inside", "HR\u{0}".to_owned()),
        ("line break", "HR\nLegal".to_owned()),
        ("4000 bytes", "D".repeat(4000)),
    ]
}

async fn app_for(url_base: &str, extra: &[(&str, &str)]) -> TestApp {
    let url = format!("{url_base}/departments/{{department}}");
    let mut vars = vec![
        ("DEPARTMENT_API_URL", url.as_str()),
        ("DEPARTMENT_API_TIMEOUT_MS", "300"),
        ("DEPARTMENT_API_TOKEN", "dir-token-123"),
    ];
    vars.extend_from_slice(extra);
    TestApp::new(&vars).await
}

async fn received_paths(server: &MockServer) -> Vec<String> {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.url.path().to_owned())
        .collect()
}

#[tokio::test]
async fn only_ordinary_values_reach_the_directory_each_in_one_segment() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let app = app_for(&server.uri(), &[]).await;
    for value in ["R&D / Ops", "50% off?#x", "..."] {
        assert_eq!(
            app.post(department_body(value)).await.body,
            success(),
            "{value:?}"
        );
    }
    for (what, value) in junk_values() {
        let answer = app.post(department_body(&value)).await;
        assert_eq!(answer.status, 200, "{what}");
        assert_eq!(answer.body, invalid_department(), "{what}");
    }
    assert_eq!(
        received_paths(&server).await,
        [
            "/departments/R%26D%20%2F%20Ops",
            "/departments/50%25%20off%3F%23x",
            "/departments/%2E%2E%2E",
        ]
    );
}

#[tokio::test]
async fn junk_values_make_no_call_with_or_without_the_cache() {
    for cache in ["300", "0"] {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(200))
            .expect(0)
            .mount(&server)
            .await;
        let app = app_for(&server.uri(), &[("DEPARTMENT_CACHE_TTL", cache)]).await;
        for (what, value) in junk_values() {
            let answer = app.post(department_body(&value)).await;
            assert_eq!(answer.body, invalid_department(), "{what}, cache {cache}");
        }
        assert!(received_paths(&server).await.is_empty(), "cache {cache}");
    }
}

#[tokio::test]
async fn dot_dot_is_refused_even_when_the_directory_index_answers_200() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/"))
        .respond_with(ResponseTemplate::new(200).set_body_string("directory index"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    let app = app_for(&server.uri(), &[]).await;
    assert_eq!(
        app.post(department_body("..")).await.body,
        invalid_department()
    );
    assert!(received_paths(&server).await.is_empty());
}

#[tokio::test]
async fn answers_about_the_value_mean_unknown_in_either_mode() {
    for mode in ["error", "allow"] {
        for status in [400, 404, 410, 414, 422] {
            let server = MockServer::start().await;
            Mock::given(method("GET"))
                .respond_with(ResponseTemplate::new(status))
                .expect(1)
                .mount(&server)
                .await;
            let app = app_for(&server.uri(), &[("DIRECTORY_UNAVAILABLE", mode)]).await;
            let answer = app.post(department_body("HR")).await;
            assert_eq!(answer.status, 200, "{mode}, directory status {status}");
            assert_eq!(answer.body, invalid_department(), "{mode}, status {status}");
        }
    }
}

#[tokio::test]
async fn allow_mode_fails_open_only_on_an_outage() {
    let allow = [("DIRECTORY_UNAVAILABLE", "allow")];
    let outages = [
        ("500", ResponseTemplate::new(500)),
        ("503", ResponseTemplate::new(503)),
        ("429", ResponseTemplate::new(429)),
        (
            "slow",
            ResponseTemplate::new(200).set_delay(Duration::from_secs(2)),
        ),
    ];
    for (what, response) in outages {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(response)
            .mount(&server)
            .await;
        let answer = app_for(&server.uri(), &allow)
            .await
            .post(department_body("HR"))
            .await;
        assert_eq!(answer.body, success(), "{what}");
    }
    let refused = format!("http://127.0.0.1:{}", closed_port());
    let answer = app_for(&refused, &allow)
        .await
        .post(department_body("HR"))
        .await;
    assert_eq!(answer.body, success(), "refused");

    for status in [401, 403, 302, 301, 405] {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(
                ResponseTemplate::new(status).insert_header("location", "http://127.0.0.1:9/"),
            )
            .mount(&server)
            .await;
        let answer = app_for(&server.uri(), &allow)
            .await
            .post(department_body("HR"))
            .await;
        assert_eq!(answer.status, 500, "directory status {status}");
        assert_eq!(
            answer.body,
            directory_unavailable(),
            "directory status {status}"
        );
    }
    let garbage = garbage_directory().await;
    let answer = app_for(&garbage, &allow)
        .await
        .post(department_body("HR"))
        .await;
    assert_eq!(answer.status, 500, "garbage");
    assert_eq!(answer.body, directory_unavailable(), "garbage");
}

#[tokio::test]
async fn allow_mode_never_lets_a_junk_value_through_a_down_directory() {
    let refused = format!("http://127.0.0.1:{}", closed_port());
    let app = app_for(&refused, &[("DIRECTORY_UNAVAILABLE", "allow")]).await;
    for (what, value) in junk_values() {
        assert_eq!(
            app.post(department_body(&value)).await.body,
            invalid_department(),
            "{what}"
        );
    }
    // An ordinary value still goes through while the directory is down.
    assert_eq!(app.post(department_body("HR")).await.body, success());
}
