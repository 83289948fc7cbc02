//! Hostile and odd input: nothing panics, every answer is contract-valid, and no input reaches a failure
//! description, a subject line or a header unescaped.

use axum::body::Body;
use axum::http::{Request, header};
use serde_json::json;

use crate::support::{SesScope, TestApp, assert_contract_valid, success};

fn bad_request(description: &str) -> serde_json::Value {
    json!({"actionStatus": "ERROR", "errorMessage": "invalid_request", "errorDescription": description})
}

fn envelope(claims: serde_json::Value) -> String {
    json!({"actionType": "PRE_UPDATE_PROFILE", "event": {"request": {"claims": claims},
        "tenant": {"id": "1", "name": "t"}, "user": {"id": "u"}, "initiatorType": "USER"}})
    .to_string()
}

#[tokio::test]
async fn odd_bodies_get_clear_400s() {
    let app = TestApp::new(&[("MAX_CLAIMS", "5"), ("MAX_VALUE_BYTES", "64")]).await;
    let deep = format!("{}{}", "[".repeat(20_000), "]".repeat(20_000));
    let deep_in_field = format!(
        r#"{{"actionType":"PRE_UPDATE_PROFILE","event":{{}},"x":{}{}}}"#,
        "{\"a\":".repeat(10_000),
        "1".to_owned() + &"}".repeat(10_000)
    );
    let not_envelope = "The request body is not a Pre-Update Profile action request: actionType and event are required and each field must have the documented type.";
    let cases: Vec<(&str, Vec<u8>, serde_json::Value)> = vec![
        ("deep array", deep.into_bytes(), bad_request(not_envelope)),
        (
            "deep object in an unknown field",
            deep_in_field.into_bytes(),
            success(), // unknown fields are tolerated, however deep
        ),
        (
            "invalid UTF-8",
            b"{\"actionType\":\"PRE_UPDATE_PROFILE\",\"event\":{\"request\":{\"claims\":[{\"uri\":\"\xff\xfe\",\"value\":\"x\"}]}}}".to_vec(),
            bad_request("The request body is not valid JSON."),
        ),
        (
            "huge number",
            br#"{"actionType":"PRE_UPDATE_PROFILE","event":{"organization":{"depth":1e999}}}"#
                .to_vec(),
            bad_request("The request body is not valid JSON."),
        ),
        (
            "duplicate keys",
            br#"{"actionType":"PRE_UPDATE_PROFILE","actionType":"PRE_UPDATE_PROFILE","event":{}}"#
                .to_vec(),
            bad_request(not_envelope),
        ),
        (
            "null uri",
            envelope(json!([{"uri": null, "value": "x"}])).into_bytes(),
            bad_request(not_envelope),
        ),
        (
            "number value",
            envelope(json!([{"uri": "u", "value": 5}])).into_bytes(),
            bad_request(not_envelope),
        ),
        (
            "empty body",
            vec![],
            bad_request("The request body is not valid JSON."),
        ),
        ("JSON null", b"null".to_vec(), bad_request(not_envelope)),
    ];
    for (what, body, expected) in cases {
        let answer = app.post(body).await;
        assert_contract_valid(&answer, what);
        assert_eq!(answer.body, expected, "{what}");
    }
    // Nulls where an optional string may be missing are fine.
    let fine = br#"{"requestId":null,"actionType":"PRE_UPDATE_PROFILE","event":{"tenant":null,"user":{"id":null},"request":null}}"#;
    assert_eq!(app.post(fine.to_vec()).await.body, success());
}

#[tokio::test]
async fn requests_over_the_limits_get_clear_400s() {
    let app = TestApp::new(&[("MAX_CLAIMS", "5"), ("MAX_VALUE_BYTES", "64")]).await;
    let cases: Vec<(&str, Vec<u8>, serde_json::Value)> = vec![
        (
            "too many claims",
            envelope(json!(
                (0..6)
                    .map(|i| json!({"uri": format!("c{i}"), "value": "v"}))
                    .collect::<Vec<_>>()
            ))
            .into_bytes(),
            bad_request("The request carries more claims than the configured limit."),
        ),
        (
            "long value",
            envelope(json!([{"uri": "http://wso2.org/claims/mobile", "value": "9".repeat(65)}]))
                .into_bytes(),
            bad_request("A claim value is longer than the configured limit."),
        ),
        (
            "long unicode value",
            envelope(json!([{"uri": "http://wso2.org/claims/mobile", "value": "é".repeat(40)}]))
                .into_bytes(),
            bad_request("A claim value is longer than the configured limit."),
        ),
    ];
    for (what, body, expected) in cases {
        let answer = app.post(body).await;
        assert_contract_valid(&answer, what);
        assert_eq!(answer.body, expected, "{what}");
    }
}

#[tokio::test]
async fn a_non_json_content_type_is_refused() {
    let app = TestApp::new(&[]).await;
    for ct in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/xml",
    ] {
        let answer = app
            .request(
                Request::post("/pre-update-profile")
                    .header(header::CONTENT_TYPE, ct)
                    .body(Body::from("{}"))
                    .unwrap(),
            )
            .await;
        assert_eq!(answer.status, 400, "{ct}");
        assert_eq!(
            answer.body,
            bad_request("The request content type must be application json.")
        );
    }
    for ct in [
        "application/json",
        "application/json; charset=utf-8",
        "Application/JSON",
    ] {
        let answer = app
            .request(
                Request::post("/pre-update-profile")
                    .header(header::CONTENT_TYPE, ct)
                    .body(Body::from(
                        r#"{"actionType":"PRE_UPDATE_PROFILE","event":{}}"#,
                    ))
                    .unwrap(),
            )
            .await;
        assert_eq!(answer.status, 200, "{ct}");
    }
}

#[tokio::test]
async fn the_body_limit_holds_without_a_content_length() {
    let app = TestApp::new(&[("MAX_BODY_BYTES", "2048")]).await;
    let chunks: Vec<Result<bytes::Bytes, std::io::Error>> = (0..10)
        .map(|_| Ok(bytes::Bytes::from(vec![b' '; 512])))
        .collect();
    let body = Body::from_stream(futures_util::stream::iter(chunks));
    let answer = app
        .request(
            Request::post("/pre-update-profile")
                .header(header::CONTENT_TYPE, "application/json")
                .body(body)
                .unwrap(),
        )
        .await;
    assert_eq!(answer.status, 400);
    assert_eq!(
        answer.body,
        bad_request("The request body is larger than the configured limit.")
    );
}

#[tokio::test]
async fn markup_and_line_breaks_in_values_stay_inert() {
    let ses = SesScope::new().await;
    let app = TestApp::new(&ses.vars()).await;
    let body = json!({"actionType": "PRE_UPDATE_PROFILE", "requestId": "x\r\nBcc: evil@example.com", "event": {
        "request": {"claims": [{"uri": "http://wso2.org/claims/mobile", "value": "<img src=x onerror=alert(1)>\r\n"}]},
        "tenant": {"id": "1", "name": "acme\r\nBcc: evil@example.com"},
        "user": {"id": "<script>alert(1)</script>", "claims": [{"uri": "http://wso2.org/claims/emailaddress", "value": "victim@example.com"}]},
        "initiatorType": "ADMIN"}})
    .to_string();
    let answer = app.post(body).await;
    assert_contract_valid(&answer, "markup");
    assert_eq!(answer.body, success());
    let sent = ses.sent().await;
    assert_eq!(sent.len(), 2);
    for mail in sent {
        assert!(
            !mail.subject.contains('\r') && !mail.subject.contains('\n'),
            "{:?}",
            mail.subject
        );
        assert!(
            !mail.body.contains("<script>") && !mail.body.contains("<img"),
            "{}",
            mail.body
        );
        assert!(!mail.to.iter().any(|t| t.contains("evil")));
    }
}
