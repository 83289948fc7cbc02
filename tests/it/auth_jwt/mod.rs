//! `AUTH_MODE=jwt` over HTTP: tokens minted here against a loopback JWKS, each refusal the same 401 as a wrong
//! credential, with its audit line (and the token's problem in it), and no token in any log line.

mod keys;
mod startup;

use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::http::{Request, header};
use serde_json::{Value, json};

use crate::support::{Answer, JwksServer, TestApp, TestKey, capture, department_body};

pub(super) const ISSUER: &str = "https://is.example.com/oauth2/token";
pub(super) const CLIENT: &str = "pg-client-7Hq2";
pub(super) const SCOPE: &str = "profile-guard:call";

pub(super) fn now() -> i64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH);
    since.expect("after 1970").as_secs() as i64
}

/// What WSO2 IS puts in a client-credentials access token, valid for ten minutes.
pub(super) fn claims() -> Value {
    let now = now();
    json!({"iss": ISSUER, "aud": [CLIENT], "sub": CLIENT, "client_id": CLIENT, "aut": "APPLICATION",
           "scope": format!("openid {SCOPE}"), "iat": now, "nbf": now, "exp": now + 600,
           "jti": uuid::Uuid::new_v4().to_string()})
}

/// `claims()` with these members replaced (`null` removes one).
pub(super) fn claims_with(changes: Value) -> Value {
    let mut claims = claims();
    for (k, v) in changes.as_object().expect("an object") {
        match v {
            Value::Null => claims.as_object_mut().map(|c| c.remove(k)),
            _ => claims
                .as_object_mut()
                .map(|c| c.insert(k.clone(), v.clone())),
        };
    }
    claims
}

/// The app in jwt mode against `server`, plus `extra` settings.
pub(super) async fn jwt_app(server: &JwksServer, extra: &[(&str, &str)]) -> TestApp {
    let mut vars = vec![
        ("AUTH_MODE", "jwt"),
        ("AUTH_JWKS_URL", server.url.as_str()),
        ("AUTH_ISSUER", ISSUER),
        ("AUTH_AUDIENCE", CLIENT),
    ];
    vars.extend_from_slice(extra);
    TestApp::new(&vars).await
}

/// What the caller got, the one audit line, and everything logged meanwhile.
pub(super) struct Seen {
    pub answer: Answer,
    pub audit: Value,
    pub log: String,
}

/// A call with this Authorization value (none for `None`).
pub(super) async fn call(app: &TestApp, authorization: Option<&str>) -> Seen {
    let (logs, _guard) = capture();
    let mut request =
        Request::post("/pre-update-profile").header(header::CONTENT_TYPE, "application/json");
    if let Some(value) = authorization {
        request = request.header(header::AUTHORIZATION, value);
    }
    let body = department_body("HR");
    let answer = app
        .request(request.body(Body::from(body)).expect("request builds"))
        .await;
    let log = logs.text();
    let mut audits = logs.take_audits();
    assert_eq!(audits.len(), 1, "one audit line: {audits:#?}");
    Seen {
        answer,
        audit: audits.remove(0),
        log,
    }
}

pub(super) fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

pub(super) fn unauthorized() -> Value {
    json!({"actionStatus": "ERROR", "errorMessage": "unauthorized",
           "errorDescription": "Missing or invalid credentials for the profile-guard endpoint."})
}

/// The caller got the wrong-credential 401, and the audit line says so, with why the token was refused.
pub(super) fn assert_refused(seen: &Seen, problem: &str, what: &str) {
    let Seen { answer, audit, .. } = seen;
    assert_eq!(answer.status, 401, "{what}");
    assert_eq!(
        answer.content_type.as_deref(),
        Some("application/json"),
        "{what}"
    );
    assert_eq!(answer.body, unauthorized(), "{what}");
    assert_eq!(audit["decision"], "ERROR", "{what}");
    assert_eq!(audit["reason"], "unauthorized", "{what}");
    assert_eq!(audit["http_status"], 401, "{what}");
    assert_eq!(audit["detail"], "credentials_wrong", "{what}");
    assert_eq!(audit["token_problem"], problem, "{what}: {audit}");
}

pub(super) fn assert_passed(seen: &Seen, what: &str) {
    let Seen { answer, audit, .. } = seen;
    assert_eq!(answer.status, 200, "{what}: {:?}", answer.body);
    assert_eq!(answer.body["actionStatus"], "SUCCESS", "{what}");
    assert_eq!(audit["decision"], "SUCCESS", "{what}");
    assert!(audit.get("token_problem").is_none(), "{what}: {audit}");
}

#[tokio::test]
async fn tokens_signed_with_published_keys_pass() {
    let rs = TestKey::rsa("rs-1", Some("RS256"));
    let any_rsa = TestKey::rsa("rsa-no-alg", None);
    let es = TestKey::ec("es-1");
    let server = JwksServer::start(&[&rs, &any_rsa, &es]).await;
    let app = jwt_app(&server, &[("AUTH_REQUIRED_SCOPE", SCOPE)]).await;
    let pss = json!({"alg": "PS256", "kid": "rsa-no-alg", "typ": "JWT"});
    let cases = [
        ("RS256", rs.token(&claims())),
        (
            "PS256 with a key published without alg",
            any_rsa.token_with(&pss, &claims()),
        ),
        ("ES256", es.token(&claims())),
        (
            "expired 30 s ago (within the leeway)",
            es.token(&claims_with(json!({"exp": now() - 30}))),
        ),
        (
            "aud as one string",
            es.token(&claims_with(json!({"aud": CLIENT}))),
        ),
        (
            "the scope in scp",
            es.token(&claims_with(
                json!({"scope": null, "scp": ["openid", SCOPE]}),
            )),
        ),
    ];
    for (what, token) in cases {
        assert_passed(&call(&app, Some(&bearer(&token))).await, what);
    }
    assert_eq!(server.reads(), 1, "every key was there from the start");
}

#[tokio::test]
async fn every_bad_token_gets_the_wrong_credential_401() {
    let rs = TestKey::rsa("rs-1", Some("RS256"));
    let es = TestKey::ec("es-1");
    let impostor = TestKey::ec("es-1");
    let server = JwksServer::start(&[&rs, &es]).await;
    let app = jwt_app(&server, &[("AUTH_REQUIRED_SCOPE", SCOPE)]).await;
    let hs256 = json!({"alg": "HS256", "kid": "rs-1", "typ": "JWT"});
    let none = json!({"alg": "none", "kid": "es-1"});
    let pss = json!({"alg": "PS256", "kid": "rs-1"});
    let cases = [
        (
            "expired",
            es.token(&claims_with(json!({"exp": now() - 120}))),
        ),
        (
            "not_yet_valid",
            es.token(&claims_with(json!({"nbf": now() + 300}))),
        ),
        (
            "issuer_wrong",
            es.token(&claims_with(
                json!({"iss": "https://other.example.com/oauth2/token"}),
            )),
        ),
        (
            "audience_wrong",
            es.token(&claims_with(json!({"aud": ["another-client"]}))),
        ),
        (
            "scope_missing",
            es.token(&claims_with(json!({"scope": "openid"}))),
        ),
        (
            "expiry_missing",
            es.token(&claims_with(json!({"exp": null}))),
        ),
        ("signature_invalid", impostor.token(&claims())),
        ("algorithm_refused", es.token_with(&none, &claims())),
        ("algorithm_refused", rs.token_with(&hs256, &claims())),
        ("algorithm_mismatch", rs.token_with(&pss, &claims())),
        ("not_a_jwt", "tok-9f8e7d6c5b4a".to_owned()),
        ("not_a_jwt", "a.b.c".to_owned()),
    ];
    for (problem, token) in &cases {
        let seen = call(&app, Some(&bearer(token))).await;
        assert_refused(&seen, problem, problem);
        let signature = token.rsplit('.').next().unwrap_or(token);
        assert!(
            !seen.log.contains(token.as_str()),
            "{problem}: the token reached the log"
        );
        assert!(
            signature.len() < 8 || !seen.log.contains(signature),
            "{problem}: its signature reached the log"
        );
    }
    assert_eq!(server.reads(), 1, "no refusal read the keys again");
}

#[tokio::test]
async fn no_token_or_another_scheme_is_refused_as_before() {
    let es = TestKey::ec("es-1");
    let server = JwksServer::start(&[&es]).await;
    let app = jwt_app(&server, &[]).await;
    let basic = "Basic d3NvMjpwdw==".to_owned();
    let token = es.token(&claims());
    let cases = [
        (None, "credentials_missing"),
        (Some(basic), "credentials_malformed"),
        (Some(token), "credentials_malformed"),
        (Some("Bearer".to_owned()), "credentials_malformed"),
    ];
    for (authorization, detail) in cases {
        let Seen { answer, audit, .. } = call(&app, authorization.as_deref()).await;
        assert_eq!(
            (answer.status, answer.body),
            (401, unauthorized()),
            "{detail}"
        );
        assert_eq!(audit["detail"], detail);
        assert!(audit.get("token_problem").is_none(), "{audit}");
    }
}

#[tokio::test]
async fn the_hook_routes_keep_their_own_checks() {
    let es = TestKey::ec("es-1");
    let server = JwksServer::start(&[&es]).await;
    let app = jwt_app(
        &server,
        &[
            ("OKTA_HOOK_AUTH", "okta-hook-secret-51"),
            ("WSO2_WEBHOOK_SECRET", "wso2-hook-secret-52"),
        ],
    )
    .await;
    let token = bearer(&es.token(&claims()));
    use crate::okta::{deliver_with, delivery};
    let secret = deliver_with(
        &app,
        "authorization",
        "okta-hook-secret-51",
        delivery(vec![]),
    );
    assert_eq!(secret.await.status, 204);
    let okta = deliver_with(&app, "authorization", &token, delivery(vec![])).await;
    assert_eq!(okta.status, 401, "a token is not the hook's secret");
    let wso2 = Request::post("/hooks/wso2")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, &token)
        .body(Body::from("{}"))
        .expect("request builds");
    assert_eq!(
        app.request(wso2).await.status,
        401,
        "a token is not a signature"
    );
}
