#!/usr/bin/env python3
"""Process orchestration for the local Lambda runs (scripts/smoke.sh, scripts/lambda-local-ses.sh): ports, waiting,
the environment template.yaml gives a function. What the smoke replay sends and how it judges the answers is Rust
(tests/it/events/smoke.rs).

Subcommands:
  free-port                          print a free TCP port on 127.0.0.1
  wait-http URL SECONDS              wait until URL answers (any HTTP status); exit 1 on time-out
  wait-port PORT SECONDS             wait until 127.0.0.1:PORT accepts TCP connections; exit 1 on time-out
  create-identity ENDPOINT IDENTITY  SES v2 CreateEmailIdentity against a local emulator (moto), for make local-ses
  template-env TEMPLATE [@Function=ID] [K=V ...]
                                     print a function's environment as template.yaml sets it (the first function,
                                     or the one with logical id ID), one KEY=VALUE per line: K=V sets a parameter
                                     (or, for an upper-case K, the variable itself); others take their defaults

Only loopback endpoints are accepted: nothing here talks to AWS.
"""
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

    for tag in ("Ref", "Sub", "If", "Not", "Equals", "And", "Or", "Contains", "GetAtt", "Join", "Select", "Split",
                "FindInMap"):
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


COMMANDS = {
    "free-port": (free_port, 0),
    "wait-http": (wait_http, 2),
    "wait-port": (wait_port, 2),
    "create-identity": (create_identity, 2),
}
VARIADIC = {"template-env": (template_env, 1)}

if __name__ == "__main__":
    cmd = sys.argv[1] if len(sys.argv) > 1 else None
    if cmd in COMMANDS and len(sys.argv) - 2 == COMMANDS[cmd][1]:
        COMMANDS[cmd][0](*sys.argv[2:])
    elif cmd in VARIADIC and len(sys.argv) - 2 >= VARIADIC[cmd][1]:
        VARIADIC[cmd][0](*sys.argv[2:])
    else:
        sys.exit(__doc__)
