#!/usr/bin/env python3
"""Small utilities for the local Lambda runs (scripts/smoke.sh, scripts/lambda-local-ses.sh).

Subcommands:
  free-port                          print a free TCP port on 127.0.0.1
  wait-http URL SECONDS              wait until URL answers (any HTTP status); exit 1 on time-out
  wait-port PORT SECONDS             wait until 127.0.0.1:PORT accepts TCP connections; exit 1 on time-out
  create-identity ENDPOINT IDENTITY  SES v2 CreateEmailIdentity against a local emulator (moto)
  ses-ids ENDPOINT                   print the ids of the messages the emulator holds, comma-separated
  ses-check ENDPOINT SENDER EXPECTED...
                                     check that it holds as many messages as the EXPECTED files list, all
                                     from SENDER
  create-table ENDPOINT NAME         create the once-per-change DynamoDB table (key id, TTL expiration) in moto
  template-env TEMPLATE [@Function=ID] [K=V ...]
                                     print a function's environment as template.yaml sets it (the first function,
                                     or the one with logical id ID), one KEY=VALUE per line: K=V sets a parameter
                                     (or, for an upper-case K, the variable itself); others take their defaults
  compare EXPECTED ACTUAL ENDPOINT BEFORE TEAM
                                     compare a Lambda answer (ACTUAL, the invoke's JSON) and the messages the
                                     emulator accepted since (BEFORE: the ids it held) with an events/*.expected.json
                                     file: an HTTP answer (statusCode, headers, body) or a consumer's (answer)
                                     (TEAM: the security team's addresses, comma-separated, which expected files
                                     write SECURITY_TEAM_EMAILS); print a diff and exit 1 when they differ

Only loopback endpoints are accepted: nothing here talks to AWS.
"""
import base64
import json
import socket
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def loopback_only(url):
    host = urllib.parse.urlsplit(url).hostname
    if host not in LOOPBACK:
        sys.exit(f"refusing a non-loopback endpoint: {url}")
    return url.rstrip("/")


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        print(s.getsockname()[1])


def wait_http(url, seconds):
    url = loopback_only(url)
    deadline = time.monotonic() + float(seconds)
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answered
        except (OSError, urllib.error.URLError):
            time.sleep(0.2)
    sys.exit(f"{url} did not answer within {seconds} s")


def wait_port(port, seconds):
    deadline = time.monotonic() + float(seconds)
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", int(port)), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    sys.exit(f"nothing listens on 127.0.0.1:{port} after {seconds} s")


def ses_client(endpoint):
    import boto3  # installed in .venv together with moto

    return boto3.client(
        "sesv2",
        endpoint_url=loopback_only(endpoint),
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def create_identity(endpoint, identity):
    kind = ses_client(endpoint).create_email_identity(EmailIdentity=identity)["IdentityType"]
    print(f"SES identity {identity} created ({kind})")


def ses_messages(endpoint):
    with urllib.request.urlopen(loopback_only(endpoint) + "/moto-api/data.json", timeout=5) as r:
        ses = json.load(r).get("ses", {})
    # Simple content lands in Message, raw MIME in RawMessage; count both.
    return list(ses.get("Message", [])) + list(ses.get("RawMessage", []))


def ses_ids(endpoint):
    print(",".join(m.get("id", "") for m in ses_messages(endpoint)) or "-")


def subject_of(message):
    """A simple message's subject, or a raw one's Subject header (RFC 2047 words decoded)."""
    if "raw_data" not in message:
        return message.get("subject", "")
    import email
    from email.header import decode_header, make_header

    parsed = email.message_from_string(message["raw_data"])
    return str(make_header(decode_header(parsed.get("Subject", ""))))


def ses_check(endpoint, sender, *expected_paths):
    """All messages together: as many as the expected files list (none arrived outside its event), all from
    SENDER."""
    expected = 0
    for path in expected_paths:
        with open(path) as f:
            expected += len(json.load(f).get("emails") or [])
    messages = ses_messages(endpoint)
    problems = []
    if len(messages) != expected:
        problems.append(f"the events expect {expected} message(s) in all, the emulator holds {len(messages)}")
    for m in messages:
        if sender not in m.get("source", ""):
            problems.append(f"message {m.get('id')} is from {m.get('source')!r}, not {sender}")
    for p in problems:
        print(f"  {p}")
    if not problems:
        print(f"{expected} message(s), all from {sender}")
    sys.exit(1 if problems else 0)


# How expected files write any address of the security team (tests/it/events.rs reads them the same way).
SECURITY_TEAM = "SECURITY_TEAM_EMAILS"


def emails(messages, team):
    """Messages as the expected files list them: {"to": [...], "subject": ...}, sorted."""
    def to(message):
        dest = message.get("destinations", {})
        addresses = dest.get("ToAddresses", []) if isinstance(dest, dict) else list(dest)
        return [SECURITY_TEAM if a in team else a for a in addresses]

    return sorted(({"to": sorted(set(to(m))), "subject": subject_of(m)} for m in messages),
                  key=lambda e: (e["to"], e["subject"]))


def create_table(endpoint, name):
    import boto3

    ddb = boto3.client(
        "dynamodb",
        endpoint_url=loopback_only(endpoint),
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    ddb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
    )
    ddb.update_time_to_live(TableName=name, TimeToLiveSpecification={"AttributeName": "expiration", "Enabled": True})
    print(f"DynamoDB table {name} created")


def template_env(template, *assignments):
    """The function's Environment.Variables from template.yaml, with !Ref resolved to parameter values."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def intrinsic(tag):
        def construct(loader, node):
            if isinstance(node, yaml.ScalarNode):
                value = loader.construct_scalar(node)
            elif isinstance(node, yaml.SequenceNode):
                value = loader.construct_sequence(node, deep=True)
            else:
                value = loader.construct_mapping(node, deep=True)
            return {tag: value}
        return construct

    for tag in ("Ref", "Sub", "If", "Not", "And", "Or", "Equals", "GetAtt", "Join", "Select", "Split", "FindInMap"):
        Loader.add_constructor(f"!{tag}", intrinsic(tag))
    with open(template) as f:
        doc = yaml.load(f, Loader=Loader)
    values = dict(a.split("=", 1) for a in assignments)
    params = doc.get("Parameters", {})
    wanted = values.pop("@Function", None)
    functions = [r for (name, r) in doc["Resources"].items()
                 if r.get("Type") == "AWS::Serverless::Function" and wanted in (None, name)]
    variables = functions[0]["Properties"]["Environment"]["Variables"]
    out = {}
    for key, raw in variables.items():
        if key in values:
            out[key] = values[key]
        elif isinstance(raw, dict) and "Ref" in raw and raw["Ref"] in params:
            name = raw["Ref"]
            if name in values:
                out[key] = values[name]
            elif "Default" in params[name]:
                out[key] = str(params[name]["Default"])
            else:
                sys.exit(f"template-env: parameter {name} (for {key}) has no default: pass {name}=VALUE")
        elif isinstance(raw, (str, int, float)):
            out[key] = str(raw)
        else:
            sys.exit(f"template-env: {key} is set by {raw}: pass {key}=VALUE")
    for key, value in out.items():
        if "\n" in value:
            sys.exit(f"template-env: {key} spans lines")
        print(f"{key}={value}")


def normalise(answer):
    """The fields the expected files pin down: status, content type, body as JSON."""
    headers = {k.lower(): v for k, v in (answer.get("headers") or {}).items()}
    for k, v in (answer.get("multiValueHeaders") or {}).items():
        if v:
            headers.setdefault(k.lower(), v[0])
    body = answer.get("body")
    if isinstance(body, str):
        if answer.get("isBase64Encoded"):
            body = base64.b64decode(body).decode("utf-8", "replace")
        try:
            body = json.loads(body) if body else None
        except ValueError:
            pass  # left as text: it will not equal the expected JSON
    return {
        "statusCode": answer.get("statusCode"),
        "headers": {"content-type": headers.get("content-type")},
        "body": body,
    }


def emails_sorted(listed):
    return sorted(listed, key=lambda e: (e.get("to"), e.get("subject")))


def compare(expected_path, actual_path, endpoint, before, team):
    """The answer in ACTUAL and the messages the emulator accepted since BEFORE, against EXPECTED."""
    with open(expected_path) as f:
        expected = json.load(f)
    with open(actual_path) as f:
        text = f.read()
    try:
        actual = json.loads(text)
    except ValueError:
        print(f"  the answer is not JSON: {text.strip()[:500]}")
        sys.exit(1)
    seen = set(before.split(","))
    sent = emails([m for m in ses_messages(endpoint) if m.get("id") not in seen], set(team.split(",")))
    diffs = answer_diffs(expected, actual) + email_diffs(expected, expected_path, sent)
    for d in diffs:
        print(f"  {d}")
    if not diffs:
        print(f"e-mails: {len(sent)}")
    sys.exit(1 if diffs else 0)


def answer_diffs(expected, actual):
    if "answer" in expected:
        # A consumer's answer: the records to redeliver, in any order.
        def failed(a):
            return sorted(f["itemIdentifier"] for f in (a or {}).get("batchItemFailures", []))
        if failed(actual) != failed(expected["answer"]):
            return [f"answer: expected {json.dumps(expected['answer'])}, got {json.dumps(actual)}"]
        return []
    got = normalise(actual)
    want = {
        "statusCode": expected.get("statusCode"),
        "headers": {k.lower(): v for k, v in expected.get("headers", {}).items()},
        "body": expected.get("body"),
    }
    ct_want = (want["headers"].get("content-type") or "").lower()
    ct_got = (got["headers"].get("content-type") or "").lower()
    diffs = []
    if got["statusCode"] != want["statusCode"]:
        diffs.append(f"statusCode: expected {want['statusCode']}, got {got['statusCode']}")
    if ct_got != ct_want:
        diffs.append(f"content-type: expected {ct_want!r}, got {ct_got or None!r}")
    if got["body"] != want["body"]:
        diffs.append("body: expected " + json.dumps(want["body"], sort_keys=True))
        diffs.append("      got      " + json.dumps(got["body"], sort_keys=True))
    return diffs


def email_diffs(expected, expected_path, sent):
    diffs = []
    if "emails" not in expected:
        diffs.append(f"no \"emails\" in {expected_path}: record them (see scripts/events.py)")
    elif sent != emails_sorted(expected["emails"]):
        want_emails = emails_sorted(expected["emails"])
        diffs.append("emails: expected " + json.dumps(want_emails, sort_keys=True))
        diffs.append("        got      " + json.dumps(sent, sort_keys=True))
    return diffs


COMMANDS = {
    "free-port": (free_port, 0),
    "wait-http": (wait_http, 2),
    "wait-port": (wait_port, 2),
    "create-identity": (create_identity, 2),
    "ses-ids": (ses_ids, 1),
    "compare": (compare, 5),
    "create-table": (create_table, 2),
}
VARIADIC = {"template-env": (template_env, 1), "ses-check": (ses_check, 3)}

if __name__ == "__main__":
    cmd = sys.argv[1] if len(sys.argv) > 1 else None
    if cmd in COMMANDS and len(sys.argv) - 2 == COMMANDS[cmd][1]:
        COMMANDS[cmd][0](*sys.argv[2:])
    elif cmd in VARIADIC and len(sys.argv) - 2 >= VARIADIC[cmd][1]:
        VARIADIC[cmd][0](*sys.argv[2:])
    else:
        sys.exit(__doc__)
