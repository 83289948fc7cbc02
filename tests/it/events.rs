//! Every `events/` file, decoded as Lambda decodes it (`lambda_http`), through the router, against its expected
//! answer; the alerts they raise arrive in the SES emulator.

use std::path::PathBuf;

use serde_json::Value;

use crate::support::{SesScope, TestApp};

fn event_files() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("events");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("events/ exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|x| x == "json")
                && !p.to_string_lossy().ends_with(".expected.json")
        })
        .collect();
    files.sort();
    files
}

#[tokio::test]
async fn every_event_gets_its_expected_answer() {
    let ses = SesScope::new().await;
    let app = TestApp::new(&ses.vars()).await;
    let files = event_files();
    assert!(
        files.len() >= 8,
        "expected the scenario events, found {files:?}"
    );
    let mut alerts_expected = 0;
    for file in &files {
        let name = file
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_owned();
        let raw = std::fs::read_to_string(file).expect("event reads");
        let expected: Value = serde_json::from_str(
            &std::fs::read_to_string(file.with_extension("expected.json"))
                .unwrap_or_else(|_| panic!("{name} has no .expected.json")),
        )
        .expect("expected answer is JSON");
        let request = lambda_http::request::from_str(&raw)
            .unwrap_or_else(|e| panic!("{name}: not an API Gateway event: {e}"))
            .map(axum::body::Body::new);
        let answer = app.request(request).await;
        assert_eq!(
            answer.status as u64,
            expected["statusCode"].as_u64().unwrap_or_default(),
            "{name}: status"
        );
        assert_eq!(
            answer.content_type.as_deref(),
            expected["headers"]["content-type"].as_str(),
            "{name}: content type"
        );
        assert_eq!(answer.body, expected["body"], "{name}: body");
        if ["tutorial", "multi-valued-email-change", "cleared-mobile"]
            .iter()
            .any(|s| name.starts_with(s))
        {
            alerts_expected += 1;
        }
    }
    let sent = ses.sent().await;
    assert_eq!(
        sent.len(),
        alerts_expected,
        "alerts: {:#?}",
        sent.iter().map(|m| &m.subject).collect::<Vec<_>>()
    );
}
