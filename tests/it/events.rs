//! Every `events/` file, decoded as Lambda decodes it (`lambda_http`), through the router, against its expected
//! answer; the e-mails each one causes arrive in the SES emulator.

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

const ALERT: &str = "[profile-guard] Sensitive profile change";

/// The e-mails each scenario causes with the default settings: `(recipient, start of the subject)`; the
/// security team's address is written `SECURITY`.
fn expected_emails(name: &str) -> Vec<(&'static str, &'static str)> {
    let base = name.trim_end_matches(".rest-v1");
    match base {
        "tutorial" => vec![
            ("SECURITY", ALERT),
            (
                "testuser@wso2.com",
                "An administrator updated your testwso2 profile",
            ),
        ],
        "multi-valued-email-change" => vec![
            ("SECURITY", ALERT),
            ("emily@aol.com", "You updated your testwso2 profile"),
        ],
        "cleared-mobile" | "application-mobile-change" => vec![
            ("SECURITY", ALERT),
            (
                "emily@aol.com",
                "An application updated your testwso2 profile",
            ),
        ],
        "self-service-mobile-change" => vec![
            ("SECURITY", ALERT),
            ("emily@aol.com", "You updated your testwso2 profile"),
        ],
        // The notice goes to the old address, never only to the new one.
        "admin-email-change" => vec![
            ("SECURITY", ALERT),
            (
                "emily@aol.com",
                "An administrator updated your testwso2 profile",
            ),
        ],
        "non-sensitive-change"
        | "unknown-department"
        | "wrong-action-type"
        | "no-request-password-flow"
        | "malformed-body" => vec![],
        other => panic!("event {other} has no expected e-mails in tests/it/events.rs"),
    }
}

#[tokio::test]
async fn every_event_gets_its_expected_answer_and_emails() {
    let files = event_files();
    assert!(
        files.len() >= 13,
        "expected the scenario events, found {files:?}"
    );
    for file in &files {
        let name = file
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_owned();
        let ses = SesScope::new().await;
        let app = TestApp::new(&ses.vars()).await;
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

        let mut sent: Vec<(String, String)> = ses
            .sent()
            .await
            .into_iter()
            .map(|m| {
                let to = m.to.join(",").replace(&ses.security_team, "SECURITY");
                (to, m.subject)
            })
            .collect();
        sent.sort();
        let mut want = expected_emails(&name);
        want.sort();
        assert_eq!(sent.len(), want.len(), "{name}: e-mails {sent:#?}");
        for ((to, subject), (want_to, want_subject)) in sent.iter().zip(&want) {
            assert_eq!(to, want_to, "{name}");
            assert!(
                subject.starts_with(want_subject),
                "{name}: {subject:?} should start with {want_subject:?}"
            );
        }
    }
}
