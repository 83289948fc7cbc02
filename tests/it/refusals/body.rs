//! Refusals before the pipeline: credentials, content type, body limit, a body that breaks off.

use super::*;

#[tokio::test]
async fn credential_refusals_keep_their_answer_headers_and_audit_line() {
    let app = guarded_app(&[("MAX_BODY_BYTES", "2048")]).await;
    let unauthorized = error(
        "unauthorized",
        "Missing or invalid credentials for the profile-guard endpoint.",
    );

    let seen = send(&app, post(Some("application/json"), Body::from(MINIMAL))).await;
    assert_eq!((seen.status, &seen.body), (401, &unauthorized));
    assert_eq!(header_of(&seen, header::CONNECTION), None);
    assert_audit(
        &seen,
        ANSWER_FIELDS,
        "unauthorized",
        "credentials_missing",
        "no credentials",
    );

    let mut wrong = post(Some("application/json"), Body::from(MINIMAL));
    wrong
        .headers_mut()
        .insert(header::AUTHORIZATION, "Bearer tok-0".parse().unwrap());
    let seen = send(&app, wrong).await;
    assert_eq!((seen.status, &seen.body), (401, &unauthorized));
    assert_audit(
        &seen,
        ANSWER_FIELDS,
        "unauthorized",
        "credentials_wrong",
        "wrong credentials",
    );
}

#[tokio::test]
async fn body_refusals_keep_their_answer_headers_and_audit_line() {
    let app = guarded_app(&[("MAX_BODY_BYTES", "2048")]).await;
    let too_large = error(
        "invalid_request",
        "The request body is larger than the configured limit.",
    );
    let unreadable = error("invalid_request", "The request body could not be read.");

    let seen = send(&app, signed(post(Some("text/plain"), Body::from(MINIMAL)))).await;
    assert_eq!(seen.status, 400);
    assert_eq!(
        seen.body,
        error(
            "invalid_request",
            "The request content type must be application json."
        )
    );
    assert_eq!(header_of(&seen, header::CONNECTION), None);
    assert_audit(
        &seen,
        ANSWER_FIELDS,
        "invalid_request",
        "content type is not JSON",
        "text/plain",
    );

    let mut declared = signed(post(Some("application/json"), Body::from(MINIMAL)));
    declared
        .headers_mut()
        .insert(header::CONTENT_LENGTH, "4096".parse().unwrap());
    let seen = send(&app, declared).await;
    assert_eq!((seen.status, &seen.body), (400, &too_large));
    assert_eq!(header_of(&seen, header::CONNECTION), Some("close"));
    assert_audit(
        &seen,
        ANSWER_FIELDS,
        "invalid_request",
        "body limit 2048 bytes",
        "declared",
    );

    let big = Body::from(vec![b' '; 4096]);
    let seen = send(&app, signed(post(Some("application/json"), big))).await;
    assert_eq!((seen.status, &seen.body), (400, &too_large));
    assert_eq!(header_of(&seen, header::CONNECTION), Some("close"));
    assert_audit(
        &seen,
        ANSWER_FIELDS,
        "invalid_request",
        "body limit 2048 bytes",
        "too big",
    );

    let broken = broken_body(b"{\"actionType\"");
    let seen = send(&app, signed(post(Some("application/json"), broken))).await;
    assert_eq!((seen.status, &seen.body), (400, &unreadable));
    assert_eq!(header_of(&seen, header::CONNECTION), Some("close"));
    assert_audit(
        &seen,
        ANSWER_FIELDS,
        "invalid_request",
        "body limit 2048 bytes",
        "broken",
    );

    let seen = send(&app, signed(post(None, Body::from(MINIMAL)))).await;
    assert_eq!(
        (seen.status, &seen.body),
        (200, &success()),
        "no content type"
    );
}

/// `request` with the right bearer credential.
fn signed(mut request: Request<Body>) -> Request<Body> {
    let bearer = format!("Bearer {CREDENTIAL}");
    request
        .headers_mut()
        .insert(header::AUTHORIZATION, bearer.parse().unwrap());
    request
}
