//! Refusals by the router: no such path or method, a stage that is not ours, a refused caller, a panic.

use super::*;

#[tokio::test]
async fn routing_refusals_keep_their_answer_headers_and_audit_line() {
    let app = guarded_app(&[]).await;
    let request = |method: Method, uri: &str| Request::builder().method(method).uri(uri);

    let seen = send(
        &app,
        request(Method::POST, "/elsewhere")
            .body(Body::from(MINIMAL))
            .unwrap(),
    )
    .await;
    assert_eq!(seen.status, 404);
    assert_eq!(
        seen.body,
        error(
            "not_found",
            "No action endpoint here. Send POST requests to the pre-update-profile path."
        )
    );
    assert_eq!(
        header_of(&seen, header::CONTENT_TYPE),
        Some("application/json")
    );
    assert_eq!(header_of(&seen, header::ALLOW), None);
    assert_audit(
        &seen,
        ROUTING_FIELDS,
        "not_found",
        "no action endpoint at this path",
        "404",
    );

    // Unauthenticated: the method is refused before any credential is asked for.
    let seen = send(
        &app,
        request(Method::GET, "/pre-update-profile")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(seen.status, 405);
    assert_eq!(
        seen.body,
        error(
            "method_not_allowed",
            "The action endpoint accepts POST only."
        )
    );
    assert_eq!(
        header_of(&seen, header::CONTENT_TYPE),
        Some("application/json")
    );
    assert_eq!(header_of(&seen, header::ALLOW), Some("POST"));
    assert_audit(
        &seen,
        ROUTING_FIELDS,
        "method_not_allowed",
        "the method is not POST",
        "405",
    );
}

/// A request on the staged path, as API Gateway's REST API (payload 1.0) delivers it through `stage`, if any.
fn staged(stage: Option<&str>, authorization: Option<&str>) -> Request<Body> {
    let mut request = post(Some("application/json"), Body::from(tutorial()));
    *request.uri_mut() = "/prod/pre-update-profile".parse().unwrap();
    if let Some(stage) = stage {
        let mut context = ApiGatewayProxyRequestContext::default();
        context.stage = Some(stage.to_owned());
        request
            .extensions_mut()
            .insert(RequestContext::ApiGatewayV1(context));
    }
    if let Some(value) = authorization {
        request
            .headers_mut()
            .insert(header::AUTHORIZATION, value.parse().unwrap());
    }
    request
}

#[tokio::test]
async fn the_stage_is_checked_before_the_credentials() {
    let app = guarded_app(&[]).await;
    let bearer = format!("Bearer {CREDENTIAL}");

    // Not through that stage: no endpoint there, whatever the credentials.
    for authorization in [None, Some(bearer.as_str())] {
        let seen = send(&app, staged(None, authorization)).await;
        assert_eq!(seen.status, 404, "{authorization:?}");
        assert_audit(
            &seen,
            ROUTING_FIELDS,
            "not_found",
            "no action endpoint at this path",
            "no stage",
        );
        let seen = send(&app, staged(Some("test"), authorization)).await;
        assert_eq!(seen.status, 404, "another stage, {authorization:?}");
    }

    let seen = send(&app, staged(Some("prod"), None)).await;
    assert_eq!(seen.status, 401);
    assert_audit(
        &seen,
        ANSWER_FIELDS,
        "unauthorized",
        "credentials_missing",
        "staged",
    );

    let seen = send(&app, staged(Some("prod"), Some(&bearer))).await;
    assert_eq!((seen.status, &seen.body), (200, &success()));
}

#[tokio::test]
async fn a_refused_caller_is_answered_at_once_and_its_body_never_read() {
    let app = guarded_app(&[("DEADLINE_MS", "2000")]).await;
    // A body that never ends: were it read, the answer would wait for the deadline.
    let (tx, rx) = mpsc::channel::<Bytes>(1);
    let endless = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|chunk| (Ok::<_, std::io::Error>(chunk), rx))
    });
    tx.send(Bytes::from_static(b"{\"actionType\""))
        .await
        .unwrap();
    let started = Instant::now();
    let seen = timeout(
        Duration::from_secs(1),
        send(
            &app,
            post(Some("application/json"), Body::from_stream(endless)),
        ),
    )
    .await
    .expect("answered before the deadline");
    assert!(started.elapsed() < Duration::from_millis(500));
    assert_eq!(seen.status, 401);
    assert_eq!(header_of(&seen, header::CONNECTION), None);
    assert_audit(
        &seen,
        ANSWER_FIELDS,
        "unauthorized",
        "credentials_missing",
        "endless",
    );
    drop(tx);
}

#[tokio::test]
async fn a_panic_keeps_its_answer_and_its_error_line() {
    let app = TestApp::with(&[], |state| state.pipeline.directory = Arc::new(Exploding)).await;
    let seen = send(&app, post(Some("application/json"), Body::from(tutorial()))).await;
    assert_eq!(seen.status, 500);
    assert_eq!(
        seen.body,
        error(
            "server_error",
            "profile-guard failed while checking the update."
        )
    );
    assert_eq!(
        header_of(&seen, header::CONTENT_TYPE),
        Some("application/json")
    );
    assert_eq!(seen.audits.len(), 1, "{:#?}", seen.audits);
    let line = &seen.audits[0];
    let expected: BTreeSet<&str> = [
        "decision",
        "level",
        "message",
        "reason",
        "target",
        "timestamp",
    ]
    .into();
    assert_eq!(keys_of(line), expected, "{line}");
    assert_eq!(line["level"], "ERROR");
    assert_eq!(line["message"], "a request panicked");
    assert_eq!(line["decision"], "ERROR");
    assert_eq!(line["reason"], "server_error");
}
