//! Event hook deliveries: Okta Event Hooks and WSO2 IS / Asgardeo webhooks (Security Event Tokens).

use serde_json::{Value, json};

use profile_guard::policy::UNAUTHORIZED;

use super::action::{USER_ID, claim};
use super::gateway::{SENT_MS, hook_event};
use super::{Content, Sample, action_expected, http_expected};
use crate::events::json::{Json, object};
use crate::events::{OKTA_SAMPLE_SECRET, WSO2_FORGED_KEY, WSO2_SAMPLE_SECRET};
use crate::wso2_webhook::signature;

const OKTA_AGENT: &str = "Okta Event Hooks";
const OKTA_SOURCE: &str = "https://example.okta.com/api/v1/eventHooks/who7hphp39JoHLni81d7";
const OKTA_CHALLENGE: &str = "Yq0pJd3EvqkE7mYrYBqAo3-KyX2jQx9tQb2aP1zK";

/// An Okta user as a LogEvent names one (actor or target).
struct OktaUser {
    id: &'static str,
    login: &'static str,
    name: &'static str,
}

impl OktaUser {
    fn json(&self) -> Json {
        object! {"id": self.id, "type": "User", "alternateId": self.login, "displayName": self.name}
    }
}

const EMILY: OktaUser = OktaUser {
    id: "00u1emilyng",
    login: "emily@example.com",
    name: "Emily Ng",
};
const ADMIN: OktaUser = OktaUser {
    id: "00u9admin",
    login: "admin@example.com",
    name: "Okta Admin",
};
const KIM: OktaUser = OktaUser {
    id: "00u2kimlee",
    login: "kim.lee@example.com",
    name: "Kim Lee",
};

/// The `n`th `user.account.update_profile` LogEvent, published on 2026-11-26 at `at`, shaped like the catalog's
/// (UserConfigDebugData).
fn okta_event(n: u8, at: &str, actor: &OktaUser, changed: &str, target: &OktaUser) -> Json {
    object! {
        "uuid": format!("f5f48b1b-9ba7-464b-ac87-8b046057ce{n:02}"),
        "published": format!("2026-11-26T{at}.000Z"),
        "eventType": "user.account.update_profile",
        "version": "0",
        "severity": "INFO",
        "displayMessage": "Update user profile for Okta",
        "actor": actor.json(),
        "client": object! {
            "ipAddress": "198.51.100.7",
            "userAgent": object! {"rawUserAgent": "Mozilla/5.0"},
        },
        "outcome": object! {"result": "SUCCESS", "reason": Json::NULL},
        "target": vec![target.json()],
        "debugContext": object! {"debugData": object! {
            "requestId": "W-xILP4inm2dx@t856BdaAAABrc",
            "requestUri": format!("/api/v1/users/{}", target.id),
            "changedAttributes": changed,
        }},
        "transaction": object! {
            "type": "WEB",
            "id": "W-xILP4inm2dx@t856BdaAAABrc",
            "detail": Json::object::<String>([]),
        },
    }
}

/// The `n`th delivery of the Event Hook, carrying `events`.
fn okta_delivery(n: u8, events: Vec<Json>) -> Json {
    object! {
        "eventType": "com.okta.event_hook",
        "eventTypeVersion": "1.0",
        "cloudEventsVersion": "0.1",
        "source": OKTA_SOURCE,
        "eventId": format!("0b5f6a3c-0001-4000-8000-{n:012}"),
        "eventTime": "2026-11-26T10:00:00.000Z",
        "contentType": "application/json",
        "data": object! {"events": events},
    }
}

pub(super) fn okta_samples(all: &mut Vec<Sample>) {
    let late = okta_event(6, "09:20:03", &ADMIN, "email", &KIM);
    let authorized = || vec![("authorization", OKTA_SAMPLE_SECRET.to_owned())];
    let delivered = http_expected(204, Content::Empty);

    all.push(okta_sample(
        "okta-verification",
        "GET",
        vec![("x-okta-verification-challenge", OKTA_CHALLENGE.to_owned())],
        None,
        http_expected(200, Content::Json(json!({"verification": OKTA_CHALLENGE}))),
    ));
    let deliveries = [
        (
            "okta-self-change",
            authorized(),
            okta_delivery(
                1,
                vec![okta_event(1, "09:00:00", &EMILY, "mobilePhone", &EMILY)],
            ),
            delivered.clone(),
        ),
        (
            "okta-admin-change",
            authorized(),
            okta_delivery(
                2,
                vec![okta_event(
                    2,
                    "09:05:00",
                    &ADMIN,
                    "lastName,primaryPhone,manager",
                    &EMILY,
                )],
            ),
            delivered.clone(),
        ),
        (
            "okta-unwatched-change",
            authorized(),
            okta_delivery(
                3,
                vec![okta_event(
                    3,
                    "09:10:00",
                    &EMILY,
                    "lastName,nickName",
                    &EMILY,
                )],
            ),
            delivered.clone(),
        ),
        (
            "okta-batch",
            authorized(),
            okta_delivery(
                4,
                vec![
                    late.clone(),
                    okta_event(4, "09:20:01", &EMILY, "secondEmail", &EMILY),
                    late,
                    okta_event(5, "09:20:02", &ADMIN, "title", &KIM),
                ],
            ),
            delivered,
        ),
        (
            "okta-wrong-secret",
            vec![("authorization", "not-the-secret".to_owned())],
            okta_delivery(5, vec![okta_event(7, "09:30:00", &ADMIN, "email", &EMILY)]),
            action_expected(&UNAUTHORIZED),
        ),
    ];
    for (name, headers, body, expected) in deliveries {
        all.push(okta_sample(name, "POST", headers, Some(body), expected));
    }
}

/// A call to the Okta route; the body is sent compact and kept pretty in `events/bodies/`.
fn okta_sample(
    name: &str,
    method: &str,
    headers: Vec<(&str, String)>,
    body: Option<Json>,
    expected: Value,
) -> Sample {
    let text = body.as_ref().map(Json::compact);
    Sample {
        name: name.to_owned(),
        event: hook_event(
            name,
            "/hooks/okta",
            method,
            "",
            OKTA_AGENT,
            &headers,
            text.as_deref(),
        ),
        body: body.as_ref().map(Json::pretty),
        expected,
    }
}

const WSO2_PUBLISHER: &str = "WSO2 Event Publisher";
const EVENT_TYPES: &str = "https://schemas.identity.wso2.org/events/user/event-type";

/// A Security Event Token as WSO2 IS 7.2+ / Asgardeo send it after a profile change is stored, compact.
fn wso2_set(jti: &str, event_type: &str) -> String {
    let user_ref = format!("https://localhost:9443/t/testwso2/scim2/Users/{USER_ID}");
    let event = object! {
        "initiatorType": "ADMIN",
        "initiatorIpAddress": "203.0.113.10",
        "user": object! {
            "id": USER_ID,
            "ref": user_ref,
            "addedClaims": Vec::<Json>::new(),
            "removedClaims": Vec::<Json>::new(),
            "updatedClaims": vec![claim("mobile", "+94775550000")],
        },
        "tenant": object! {"id": "2210", "name": "testwso2"},
        "userStore": object! {"id": "UFJJTUFSWQ==", "name": "PRIMARY"},
        "action": "UPDATE",
    };
    object! {
        "iss": "https://localhost:9443/t/testwso2",
        "jti": jti,
        "iat": SENT_MS,
        "rci": "05268edb-9a87-4656-87c0-0fb674dd03b1",
        "events": Json::object([(format!("{EVENT_TYPES}/{event_type}"), event)]),
    }
    .compact()
}

pub(super) fn wso2_samples(all: &mut Vec<Sample>) {
    let delivered = http_expected(204, Content::Empty);
    let valid = wso2_set("8c3f1d2e-0001-4000-8000-00000000a001", "userProfileUpdated");
    let forged = wso2_set("8c3f1d2e-0001-4000-8000-00000000a002", "userProfileUpdated");
    let unknown = wso2_set("8c3f1d2e-0001-4000-8000-00000000a003", "userCreated");
    let signed = |header: &'static str, key: &str, body: &str| vec![(header, signature(key, body))];
    let deliveries = [
        (
            "wso2-webhook-profile-updated",
            signed("x-wso2-event-signature", WSO2_SAMPLE_SECRET, &valid),
            &valid,
            delivered.clone(),
        ),
        (
            "wso2-webhook-duplicate-jti",
            signed("x-hub-signature", WSO2_SAMPLE_SECRET, &valid),
            &valid,
            delivered.clone(),
        ),
        (
            "wso2-webhook-bad-signature",
            signed("x-wso2-event-signature", WSO2_FORGED_KEY, &forged),
            &forged,
            action_expected(&UNAUTHORIZED),
        ),
        (
            "wso2-webhook-unknown-event",
            signed("x-hub-signature", WSO2_SAMPLE_SECRET, &unknown),
            &unknown,
            delivered,
        ),
    ];
    for (name, headers, body, expected) in deliveries {
        all.push(Sample {
            name: name.to_owned(),
            event: hook_event(
                name,
                "/hooks/wso2",
                "POST",
                "",
                WSO2_PUBLISHER,
                &headers,
                Some(body),
            ),
            body: None,
            expected,
        });
    }
    // Asgardeo's topic: {rootOrgDomain}.{orgId}.schema.{profile}.{version}.event.{type}; only this type is confirmed.
    let topic = "testwso2.2210.schema.wso2.v1.event.userProfileUpdated";
    let challenge = "6c1b2f7a9d";
    let query = format!(
        "hub.mode=subscribe&hub.topic={topic}&hub.challenge={challenge}&hub.lease_seconds=86400"
    );
    all.push(Sample {
        name: "wso2-websub-verification".to_owned(),
        event: hook_event(
            "wso2-websub-verification",
            "/hooks/wso2",
            "GET",
            &query,
            WSO2_PUBLISHER,
            &[],
            None,
        ),
        body: None,
        expected: http_expected(200, Content::Text(challenge)),
    });
}
