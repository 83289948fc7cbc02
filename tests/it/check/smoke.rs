//! `make smoke`'s check step: the endpoint function, under the Lambda runtime emulator, invoked directly with
//! `{"check": true}` as `make check-deployed` invokes the deployed one. Variables: `SMOKE_ENDPOINT` (the
//! endpoint's runtime emulator, http://127.0.0.1:PORT) and `INVOKE_TIMEOUT` (seconds, 60 unless set).

use std::time::Duration;

use serde_json::Value;

#[tokio::test]
#[ignore = "run by make smoke (scripts/smoke.sh), which sets SMOKE_ENDPOINT"]
async fn replay() {
    let to = std::env::var("SMOKE_ENDPOINT").expect("SMOKE_ENDPOINT is set by scripts/smoke.sh");
    assert!(to.starts_with("http://127.0.0.1:"), "only loopback: {to}");
    let timeout = std::env::var("INVOKE_TIMEOUT")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(timeout))
        .build()
        .expect("an HTTP client");
    let answer = client
        .post(format!(
            "{}/2015-03-31/functions/_/invocations",
            to.trim_end_matches('/')
        ))
        .header("content-type", "application/json")
        .body(r#"{"check": true}"#)
        .send()
        .await
        .expect("the function answers")
        .bytes()
        .await
        .expect("its answer reads");
    let report: Value = serde_json::from_slice(&answer)
        .unwrap_or_else(|e| panic!("not a report ({e}): {}", String::from_utf8_lossy(&answer)));
    let status = |dependency: &str| {
        let findings = report["findings"].as_array().cloned().unwrap_or_default();
        let found = findings
            .iter()
            .find(|f| f["dependency"] == dependency)
            .cloned();
        found.map(|f| f["status"].as_str().unwrap_or_default().to_owned())
    };
    // The replay's environment: the embedded departments, moto's SES (sender verified) and table.
    assert_eq!(status("directory").as_deref(), Some("ok"), "{report}");
    assert_eq!(status("dynamodb table").as_deref(), Some("ok"), "{report}");
    assert_ne!(status("ses").as_deref(), Some("fail"), "{report}");
    assert_eq!(report["ok"], true, "{report}");
    println!("PASS check: {{\"check\": true}} answers the dependency report");
}
