#!/usr/bin/env python3
"""Writes events/: one API Gateway event per scenario, wrapping an action request body or an Okta Event Hook call,
beside its expected answer.

Run `python3 scripts/events.py` after changing a scenario below; the files it writes are committed.
Each scenario gives the body, the answer the default local configuration gives (embedded departments
Engineering, HR, Sales, Finance; default sensitive claims), and the payload format(s) to wrap it in.

The e-mails each event causes ("emails" in its expected file) are not written here: they are what the real service
sends, recorded by `RECORD_EVENT_EMAILS=1 cargo test --test it events`. This script keeps those already recorded;
a new scenario has none until they are recorded. Both replays (tests/it/events.rs and `make smoke`) check them.
Every event must be a change of its own (its own requestId or content): `make smoke` replays them all through one
warm instance, where a repeated change is delivered once.
"""
import base64
import hashlib
import hmac
import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"
TUTORIAL = ROOT / "tests" / "fixtures" / "wso2" / "tutorial-request.json"

SUCCESS = {"actionStatus": "SUCCESS"}


def failed(reason, description):
    return {"actionStatus": "FAILED", "failureReason": reason, "failureDescription": description}


def claim(name, value):
    return {"uri": f"http://wso2.org/claims/{name}", "value": value}


def request(claims, current=None, initiator="ADMIN", request_id=None, user_id="57b22cbf-4688-476c-a607-c0c9d089d25d"):
    event = {
        "tenant": {"id": "2210", "name": "testwso2"},
        "user": {"id": user_id, "claims": current or []},
        "userStore": {"id": "REVGQVVMVA==", "name": "DEFAULT"},
        "initiatorType": initiator,
        "action": "UPDATE",
    }
    if claims is not None:
        event = {"request": {"claims": claims}, **event}
    body = {"actionType": "PRE_UPDATE_PROFILE", "event": event}
    if request_id:
        body = {"requestId": request_id, **body}
    return body


def scenarios():
    tutorial = json.loads(TUTORIAL.read_text())
    yield "tutorial", tutorial, 200, SUCCESS, ("v2", "v1")
    yield "non-sensitive-change", request(
        [claim("givenname", "Emily"), claim("country", "Sri Lanka")],
        initiator="USER",
        request_id="0f1e2d3c4b5a69788796a5b4c3d2e1f0",
    ), 200, SUCCESS, ("v2",)
    yield "unknown-department", request(
        [claim("department", "Legal")],
        current=[{"uri": "http://wso2.org/claims/department", "value": "Sales", "updatingValue": "Legal"}],
    ), 200, failed("invalid_department_input", "Provided user department value is invalid."), ("v2", "v1")
    wrong = json.loads(TUTORIAL.read_text())
    wrong["actionType"] = "PRE_ISSUE_ACCESS_TOKEN"
    yield "wrong-action-type", wrong, 200, failed("invalid_input", "Invalid actionType provided."), ("v2",)
    yield "multi-valued-email-change", request(
        [claim("emailAddresses", ["emily@aol.com", "emily@gmail.com"])],
        current=[
            {"uri": "http://wso2.org/claims/emailaddress", "value": "emily@aol.com"},
            {
                "uri": "http://wso2.org/claims/emailAddresses",
                "value": ["emily@aol.com"],
                "updatingValue": ["emily@aol.com", "emily@gmail.com"],
            },
        ],
        initiator="USER",
        request_id="6783a180f817075313ea3fb01d79c221",
    ), 200, SUCCESS, ("v2",)
    yield "cleared-mobile", request(
        [claim("mobile", "")],
        current=[
            {"uri": "http://wso2.org/claims/emailaddress", "value": "emily@aol.com"},
            {"uri": "http://wso2.org/claims/mobile", "value": "+94771223448", "updatingValue": ""},
        ],
        initiator="APPLICATION",
    ), 200, SUCCESS, ("v2",)
    yield "no-request-password-flow", request(None), 200, SUCCESS, ("v2",)
    current_email = {"uri": "http://wso2.org/claims/emailaddress", "value": "emily@aol.com"}
    given_name = {"uri": "http://wso2.org/claims/givenname", "value": "Emily"}
    yield "self-service-mobile-change", request(
        [claim("mobile", "+94771234567")],
        current=[current_email, given_name,
                 {"uri": "http://wso2.org/claims/mobile", "value": "+94770000001", "updatingValue": "+94771234567"}],
        initiator="USER",
        request_id="a1b2c3d4e5f60718293a4b5c6d7e8f90",
    ), 200, SUCCESS, ("v2",)
    yield "admin-email-change", request(
        [claim("emailaddress", "emily.new@gmail.com")],
        current=[given_name,
                 {"uri": "http://wso2.org/claims/emailaddress", "value": "emily@aol.com",
                  "updatingValue": "emily.new@gmail.com"}],
        initiator="ADMIN",
        request_id="b2c3d4e5f60718293a4b5c6d7e8f90a1",
    ), 200, SUCCESS, ("v2",)
    yield "application-mobile-change", request(
        [claim("mobile", "+94775550000")],
        current=[current_email],
        initiator="APPLICATION",
    ), 200, SUCCESS, ("v2",)
    yield "malformed-body", '{"actionType": "PRE_UPDATE_PROFILE", "event": {', 400, {
        "actionStatus": "ERROR",
        "errorMessage": "invalid_request",
        "errorDescription": "The request body is not valid JSON.",
    }, ("v2",)


HEADERS = {
    "accept": "application/json",
    "content-type": "application/json",
    "host": "abc123.execute-api.eu-west-1.amazonaws.com",
    "user-agent": "Apache-HttpClient/4.5.14 (Java/21.0.5)",
    "x-wso2-api-version": "v1",
    "x-forwarded-for": "203.0.113.10",
    "x-forwarded-proto": "https",
}


def v2_event(name, body):
    return {
        "version": "2.0",
        "routeKey": "POST /pre-update-profile",
        "rawPath": "/pre-update-profile",
        "rawQueryString": "",
        "headers": HEADERS,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": "abc123.execute-api.eu-west-1.amazonaws.com",
            "domainPrefix": "abc123",
            "http": {
                "method": "POST",
                "path": "/pre-update-profile",
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.10",
                "userAgent": HEADERS["user-agent"],
            },
            "requestId": f"evt-{name}",
            "routeKey": "POST /pre-update-profile",
            "stage": "$default",
            "time": "24/Nov/2026:03:00:00 +0000",
            "timeEpoch": 1795489200000,
        },
        "body": body,
        "isBase64Encoded": False,
    }


def v1_event(name, body):
    # REST API (payload 1.0): the stage is part of the path the function sees.
    return {
        "resource": "/pre-update-profile",
        "path": "/prod/pre-update-profile",
        "httpMethod": "POST",
        "headers": {k.title(): v for k, v in HEADERS.items()},
        "multiValueHeaders": {k.title(): [v] for k, v in HEADERS.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": "abc123.execute-api.eu-west-1.amazonaws.com",
            "httpMethod": "POST",
            "identity": {"sourceIp": "203.0.113.10", "userAgent": HEADERS["user-agent"]},
            "path": "/prod/pre-update-profile",
            "protocol": "HTTP/1.1",
            "requestId": f"evt-{name}-rest",
            "requestTimeEpoch": 1795489200000,
            "resourceId": "a1b2c3",
            "resourcePath": "/pre-update-profile",
            "stage": "prod",
        },
        "body": base64.b64encode(body.encode()).decode(),
        "isBase64Encoded": True,
    }


def recorded_emails(path):
    """The "emails" an expected file already holds (recorded from the service), or None."""
    try:
        return json.loads(path.read_text()).get("emails")
    except (OSError, ValueError, AttributeError):
        return None


# The value `make smoke` and tests/it/events.rs configure as OKTA_HOOK_AUTH for the Okta samples.
OKTA_SECRET = "okta-sample-secret"
OKTA_SOURCE = "https://example.okta.com/api/v1/eventHooks/who7hphp39JoHLni81d7"
EMILY = {"id": "00u1emilyng", "type": "User", "alternateId": "emily@example.com", "displayName": "Emily Ng"}
ADMIN = {"id": "00u9admin", "type": "User", "alternateId": "admin@example.com", "displayName": "Okta Admin"}


def okta_event(uuid, published, actor, changed, target=EMILY):
    """A user.account.update_profile LogEvent shaped like the catalog's (UserConfigDebugData)."""
    return {
        "uuid": uuid, "published": published, "eventType": "user.account.update_profile", "version": "0",
        "severity": "INFO", "displayMessage": "Update user profile for Okta", "actor": actor,
        "client": {"ipAddress": "198.51.100.7", "userAgent": {"rawUserAgent": "Mozilla/5.0"}},
        "outcome": {"result": "SUCCESS", "reason": None},
        "target": [target],
        "debugContext": {"debugData": {"requestId": "W-xILP4inm2dx@t856BdaAAABrc",
                                       "requestUri": f"/api/v1/users/{target['id']}", "changedAttributes": changed}},
        "transaction": {"type": "WEB", "id": "W-xILP4inm2dx@t856BdaAAABrc", "detail": {}},
    }


def okta_delivery(event_id, events):
    return {"eventType": "com.okta.event_hook", "eventTypeVersion": "1.0", "cloudEventsVersion": "0.1",
            "source": OKTA_SOURCE, "eventId": event_id, "eventTime": "2026-11-26T10:00:00.000Z",
            "contentType": "application/json", "data": {"events": events}}


def okta_scenarios():
    """(name, method, extra headers, body or None, status, answer or None for an empty body)."""
    auth = {"authorization": OKTA_SECRET}
    yield "okta-verification", "GET", {"x-okta-verification-challenge": "Yq0pJd3EvqkE7mYrYBqAo3-KyX2jQx9tQb2aP1zK"}, \
        None, 200, {"verification": "Yq0pJd3EvqkE7mYrYBqAo3-KyX2jQx9tQb2aP1zK"}
    yield "okta-self-change", "POST", auth, okta_delivery("0b5f6a3c-0001-4000-8000-000000000001", [
        okta_event("f5f48b1b-9ba7-464b-ac87-8b046057ce01", "2026-11-26T09:00:00.000Z", EMILY, "mobilePhone"),
    ]), 204, None
    yield "okta-admin-change", "POST", auth, okta_delivery("0b5f6a3c-0001-4000-8000-000000000002", [
        okta_event("f5f48b1b-9ba7-464b-ac87-8b046057ce02", "2026-11-26T09:05:00.000Z", ADMIN,
                   "lastName,primaryPhone,manager"),
    ]), 204, None
    yield "okta-unwatched-change", "POST", auth, okta_delivery("0b5f6a3c-0001-4000-8000-000000000003", [
        okta_event("f5f48b1b-9ba7-464b-ac87-8b046057ce03", "2026-11-26T09:10:00.000Z", EMILY, "lastName,nickName"),
    ]), 204, None
    kim = {"id": "00u2kimlee", "type": "User", "alternateId": "kim.lee@example.com", "displayName": "Kim Lee"}
    late = okta_event("f5f48b1b-9ba7-464b-ac87-8b046057ce06", "2026-11-26T09:20:03.000Z", ADMIN, "email", kim)
    yield "okta-batch", "POST", auth, okta_delivery("0b5f6a3c-0001-4000-8000-000000000004", [
        late,
        okta_event("f5f48b1b-9ba7-464b-ac87-8b046057ce04", "2026-11-26T09:20:01.000Z", EMILY, "secondEmail"),
        late,
        okta_event("f5f48b1b-9ba7-464b-ac87-8b046057ce05", "2026-11-26T09:20:02.000Z", ADMIN, "title", kim),
    ]), 204, None
    yield "okta-wrong-secret", "POST", {"authorization": "not-the-secret"}, okta_delivery(
        "0b5f6a3c-0001-4000-8000-000000000005", [
            okta_event("f5f48b1b-9ba7-464b-ac87-8b046057ce07", "2026-11-26T09:30:00.000Z", ADMIN, "email"),
        ]), 401, {"actionStatus": "ERROR", "errorMessage": "unauthorized",
                  "errorDescription": "Missing or invalid credentials for the profile-guard endpoint."}


# The value `make smoke` and tests/it/events.rs configure as WSO2_WEBHOOK_SECRET for the webhook samples.
WSO2_SECRET = "wso2-sample-secret"
PROFILE_UPDATED = "https://schemas.identity.wso2.org/events/user/event-type/userProfileUpdated"


def wso2_set(jti, event_uri=PROFILE_UPDATED):
    """A Security Event Token as WSO2 IS 7.2+ / Asgardeo send it after a profile change is stored."""
    return {
        "iss": "https://localhost:9443/t/testwso2", "jti": jti, "iat": 1795489200000,
        "rci": "05268edb-9a87-4656-87c0-0fb674dd03b1",
        "events": {event_uri: {
            "initiatorType": "ADMIN", "initiatorIpAddress": "203.0.113.10",
            "user": {"id": "57b22cbf-4688-476c-a607-c0c9d089d25d",
                     "ref": "https://localhost:9443/t/testwso2/scim2/Users/57b22cbf-4688-476c-a607-c0c9d089d25d",
                     "addedClaims": [], "removedClaims": [],
                     "updatedClaims": [{"uri": "http://wso2.org/claims/mobile", "value": "+94775550000"}]},
            "tenant": {"id": "2210", "name": "testwso2"},
            "userStore": {"id": "UFJJTUFSWQ==", "name": "PRIMARY"}, "action": "UPDATE"}},
    }


def signed(body, header="x-wso2-event-signature", secret=WSO2_SECRET):
    digest = hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()
    return {header: f"sha256={digest}"}


def wso2_scenarios():
    """(name, method, query, extra headers, body text or None, status, answer: JSON, text or None for none)."""
    valid = json.dumps(wso2_set("8c3f1d2e-0001-4000-8000-00000000a001"), separators=(",", ":"))
    yield "wso2-webhook-profile-updated", "POST", "", signed(valid), valid, 204, None
    yield "wso2-webhook-duplicate-jti", "POST", "", signed(valid, "x-hub-signature"), valid, 204, None
    forged = json.dumps(wso2_set("8c3f1d2e-0001-4000-8000-00000000a002"), separators=(",", ":"))
    yield "wso2-webhook-bad-signature", "POST", "", signed(forged, secret="guessed"), forged, 401, {
        "actionStatus": "ERROR", "errorMessage": "unauthorized",
        "errorDescription": "Missing or invalid credentials for the profile-guard endpoint."}
    unknown = json.dumps(wso2_set("8c3f1d2e-0001-4000-8000-00000000a003",
                                  "https://schemas.identity.wso2.org/events/user/event-type/userCreated"),
                         separators=(",", ":"))
    yield "wso2-webhook-unknown-event", "POST", "", signed(unknown, "x-hub-signature"), unknown, 204, None
    # Asgardeo's topic: {rootOrgDomain}.{orgId}.schema.{profile}.{version}.event.{type}; only this type is confirmed.
    topic = "testwso2.2210.schema.wso2.v1.event.userProfileUpdated"
    yield "wso2-websub-verification", "GET", \
        f"hub.mode=subscribe&hub.topic={topic}&hub.challenge=6c1b2f7a9d&hub.lease_seconds=86400", \
        {}, None, 200, "6c1b2f7a9d"


def hook_event(name, path, method, agent, extra, body, query=""):
    """An HTTP API (payload 2.0) event of a call to a hook route; the body (text) is sent exactly as given (and
    signed)."""
    headers = {"accept": "application/json", "host": "abc123.execute-api.eu-west-1.amazonaws.com",
               "user-agent": agent, "x-forwarded-for": "203.0.113.20", "x-forwarded-proto": "https"}
    if body is not None:
        headers["content-type"] = "application/json"
    headers.update(extra)
    event = v2_event(name, body or "")
    event["routeKey"] = event["requestContext"]["routeKey"] = f"{method} {path}"
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["rawQueryString"] = query
    if query:
        event["queryStringParameters"] = dict(p.split("=", 1) for p in query.split("&"))
    event["requestContext"]["http"]["method"] = method
    event["requestContext"]["http"]["userAgent"] = agent
    event["headers"] = headers
    if body is None:
        del event["body"]
    return event


def queued_alert(tenant, n, at=1795489200):
    """One alert as the endpoint queues it (ALERT_QUEUE_URL): the report, values already masked."""
    return {"v": 1, "tenant": tenant, "report": {
        "request_id": f"queued-{tenant.split()[0]}-{n}", "user_id": f"user-{n:04d}", "shared_user_id": None,
        "tenant": tenant, "organization": None, "user_store": "DEFAULT", "initiator": "APPLICATION",
        "at": {"secs_since_epoch": at + n, "nanos_since_epoch": 0},
        "attributes": [{"name": "Department", "uri": "http://wso2.org/claims/department",
                        "old": "S***", "new": "E***"}],
        "values": "masked"}}


def sqs_event(records):
    """An SQS event as Lambda's event source hands it to the consumer function."""
    return {"Records": [{
        "messageId": message_id, "receiptHandle": f"AQEB{message_id}", "body": body,
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1795489200000",
                       "SenderId": "AROAEXAMPLE", "ApproximateFirstReceiveTimestamp": "1795489200001"},
        "messageAttributes": {}, "md5OfBody": hashlib.md5(body.encode()).hexdigest(),
        "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:profile-guard-AlertQueue",
        "awsRegion": "eu-west-1"} for message_id, body in records]}


def sqs_scenarios():
    """(name, records as (message id, body), the ids the consumer must report failed)."""
    def records(tenant, count, prefix):
        return [(f"{prefix}-{n:04d}-4000-8000-000000000000", json.dumps(queued_alert(tenant, n)))
                for n in range(count)]
    yield "sqs-single-alerts", records("small.example (7001)", 2, "5b1c0e2a-0001"), []
    yield "sqs-digest", records("reorg.example (7002)", 7, "5b1c0e2a-0002"), []
    bad = ("5b1c0e2a-0003-0000-4000-8000-000000000000", "not a queued alert")
    yield "sqs-unreadable-record", [bad], [bad[0]]


def write_consumer_expected(path, failed):
    expected = {"answer": {"batchItemFailures": [{"itemIdentifier": i} for i in failed]}}
    emails = recorded_emails(path)
    if emails is not None:
        expected["emails"] = emails
    path.write_text(json.dumps(expected, indent=2, sort_keys=True) + "\n")


def write_expected(path, status, answer):
    if answer is None:
        headers = {}
    elif isinstance(answer, str):
        headers = {"content-type": "text/plain; charset=utf-8"}
    else:
        headers = {"content-type": "application/json"}
    expected = {"statusCode": status, "headers": headers, "body": answer}
    emails = recorded_emails(path)
    if emails is not None:
        expected["emails"] = emails
    # Sorted keys: the layout the recording test writes too, so neither rewrite shows as a change.
    path.write_text(json.dumps(expected, indent=2, sort_keys=True) + "\n")


def main():
    EVENTS.mkdir(exist_ok=True)
    bodies = EVENTS / "bodies"
    bodies.mkdir(exist_ok=True)
    for name, body, status, answer, formats in scenarios():
        text = body if isinstance(body, str) else json.dumps(body, indent=2) + "\n"
        (bodies / f"{name}.json").write_text(text)
        compact = body if isinstance(body, str) else json.dumps(body, separators=(",", ":"))
        for fmt in formats:
            stem = name if fmt == "v2" else f"{name}.rest-v1"
            if fmt == "v2":
                event = v2_event(name, compact)
            else:
                # A change of its own (its own requestId), so that replaying every event through one warm
                # instance does not collapse it into the v2 event's change.
                v1_body = compact if isinstance(body, str) else json.dumps(
                    {"requestId": f"rest-v1-{name}", **body}, separators=(",", ":"))
                event = v1_event(name, v1_body)
            (EVENTS / f"{stem}.json").write_text(json.dumps(event, indent=2) + "\n")
            write_expected(EVENTS / f"{stem}.expected.json", status, answer)
    for name, method, headers, body, status, answer in okta_scenarios():
        if body is not None:
            (bodies / f"{name}.json").write_text(json.dumps(body, indent=2) + "\n")
        text = None if body is None else json.dumps(body, separators=(",", ":"))
        event = hook_event(name, "/hooks/okta", method, "Okta Event Hooks", headers, text)
        (EVENTS / f"{name}.json").write_text(json.dumps(event, indent=2) + "\n")
        write_expected(EVENTS / f"{name}.expected.json", status, answer)
    for name, records, failed in sqs_scenarios():
        (EVENTS / f"{name}.json").write_text(json.dumps(sqs_event(records), indent=2) + "\n")
        write_consumer_expected(EVENTS / f"{name}.expected.json", failed)
    for name, method, query, headers, body, status, answer in wso2_scenarios():
        event = hook_event(name, "/hooks/wso2", method, "WSO2 Event Publisher", headers, body, query)
        (EVENTS / f"{name}.json").write_text(json.dumps(event, indent=2) + "\n")
        write_expected(EVENTS / f"{name}.expected.json", status, answer)


if __name__ == "__main__":
    main()
