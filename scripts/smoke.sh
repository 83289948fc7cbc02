#!/usr/bin/env bash
# The Lambda smoke replay (`make smoke`): the real Lambda code path, locally, with no AWS account. This script only
# starts and stops processes; what is sent and how the answers are judged is Rust (tests/it/events/smoke.rs), the
# same judgement as the in-process replay of tests/it/events.rs.
#
#   1. moto's server on a free loopback port stands in for Amazon SES and for DynamoDB; `events::smoke::setup`
#      creates the sender identity and the once-per-change table (its schema is the tests'), and writes the hook
#      secrets the samples carry.
#   2. `cargo lambda watch --only-lambda-apis` provides the Lambda runtime API on another free loopback port, and
#      the debug binary runs under it as the function, with the environment template.yaml gives it (parameter
#      defaults, test addresses, AUTH_MODE=none since the action events carry no credentials, the Okta and WSO2
#      webhook routes on with the samples' secrets) and the AWS endpoints pointed at moto. The binary is the debug
#      build `make test` (and `make run`) use; `cargo build` below only makes sure it is current, so nothing is
#      compiled twice.
#   3. The consumer of the alert queue runs the same way, as a second function (FUNCTION_ROLE=alert-consumer, the
#      environment template.yaml gives ConsumerFunction) under a second emulator.
#   4. The Okta catch-up runs the same way, as a third function (FUNCTION_ROLE=okta-catchup, the environment
#      template.yaml gives OktaCatchupFunction), its API token in moto's Secrets Manager (`okta::smoke::setup`) and
#      its System Log on a loopback port that `okta::smoke::replay` serves after the events' replay.
#   5. `events::smoke::replay` invokes every events/*.json, WSO2 deliveries issued now: API Gateway events (HTTP API
#      v2 and REST API v1) on the endpoint, SQS events on the consumer. It compares the answer and the e-mails SES
#      accepted meanwhile with events/NAME.expected.json: status code, content type and body (or the consumer's
#      batchItemFailures), and each e-mail's recipients and subject. At the end, all messages together: as many as
#      the events expect, all from the sender.
#
# Exit status 0 only when everything passed. moto, the emulators and the functions are stopped on every exit.
# Knobs: INVOKE_TIMEOUT (seconds per invoke, default 60), KEEP_LOGS=1 (keep the temporary directory with the logs).
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
. scripts/lambda-lib.sh

INVOKE_TIMEOUT=${INVOKE_TIMEOUT:-60}
SENDER=profile-guard@example.com
RECIPIENT=security@example.com
TABLE=profile-guard-once-per-change

for tool in cargo moto_server; do
  command -v "$tool" >/dev/null 2>&1 || { echo "error: $tool not found (run 'make venv')" >&2; exit 2; }
done
cargo lambda --version >/dev/null 2>&1 || { echo "error: cargo-lambda not found (run 'make venv')" >&2; exit 2; }
[ -x "$PY" ] || { echo "error: $PY not found (run 'make venv')" >&2; exit 2; }

# The same build as the integration tests (same profile, features and target directory): a no-op after them.
cargo build --quiet --bin profile-guard || { echo "error: the debug build failed" >&2; exit 1; }
FUNCTION=${CARGO_TARGET_DIR:-target}/debug/profile-guard
[ -x "$FUNCTION" ] || { echo "error: $FUNCTION was not built" >&2; exit 1; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/profile-guard-smoke.XXXXXX")
MOTO_PID=
EMULATOR_PID=
FUNCTION_PID=
CONSUMER_EMULATOR_PID=
CONSUMER_PID=
CATCHUP_EMULATOR_PID=
CATCHUP_PID=
cleanup() {
  stop_pid "$CATCHUP_PID"
  stop_pid "$CATCHUP_EMULATOR_PID"
  stop_pid "$CONSUMER_PID"
  stop_pid "$CONSUMER_EMULATOR_PID"
  stop_pid "$FUNCTION_PID"
  stop_pid "$EMULATOR_PID"
  stop_pid "$MOTO_PID"
  if [ "${KEEP_LOGS:-0}" = 1 ]; then echo "logs kept in $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail_start() {
  echo "error: $1" >&2
  for log in function-emulator function consumer-emulator consumer catchup-emulator catchup; do
    if [ -s "$TMP/$log.log" ]; then
      echo "--- last lines of the $log:" >&2
      tail -n 40 "$TMP/$log.log" >&2
    fi
  done
  exit 1
}

# --- the emulators -----------------------------------------------------------------------------------------------
MOTO_PORT=$("$PY" "$HELPER" free-port)
start_moto "$MOTO_PORT" "$TMP/moto.log" || exit 1
MOTO=http://127.0.0.1:$MOTO_PORT
export SMOKE_MOTO=$MOTO SMOKE_SENDER=$SENDER SMOKE_TEAM=$RECIPIENT SMOKE_TABLE=$TABLE INVOKE_TIMEOUT \
  SMOKE_FUNCTION_ENV=$TMP/samples.env
# rust_step NAME: one of the ignored tests of tests/it/events/smoke.rs, from the integration test build.
rust_step() {
  local step=$1
  case "$step" in *::*) ;; *) step=events::smoke::$step ;; esac
  RUST_BACKTRACE=0 cargo test --quiet --test it "$step" -- --ignored --exact --nocapture
}
rust_step setup >"$TMP/setup.log" 2>&1 || { cat "$TMP/setup.log" >&2; fail_start "could not set up moto"; }
rust_step okta::smoke::setup >>"$TMP/setup.log" 2>&1 || { cat "$TMP/setup.log" >&2; fail_start "could not set up moto"; }

# start_function NAME TEMPLATE_ASSIGNMENTS...: a runtime emulator on a free port and the debug binary under it, with
# the environment template.yaml gives that function, then what Lambda itself provides, every AWS endpoint on moto.
# With --only-lambda-apis the emulator serves one function named "_", its runtime API under /.rt. Sets
# STARTED_PORT, STARTED_EMULATOR and STARTED_FUNCTION.
start_function() {
  local name=$1
  shift
  STARTED_PORT=$("$PY" "$HELPER" free-port)
  cargo lambda watch --only-lambda-apis --invoke-address 127.0.0.1 --invoke-port "$STARTED_PORT" \
    >"$TMP/$name-emulator.log" 2>&1 </dev/null &
  STARTED_EMULATOR=$!
  "$PY" "$HELPER" wait-port "$STARTED_PORT" 60 || fail_start "cargo lambda watch ($name) did not start listening"
  "$PY" "$HELPER" template-env template.yaml "$@" >"$TMP/$name.env" \
    || fail_start "could not derive the $name's environment from template.yaml"
  printf '%s\n' \
    AWS_LAMBDA_RUNTIME_API="http://127.0.0.1:$STARTED_PORT/.rt" \
    AWS_LAMBDA_FUNCTION_NAME=_ \
    'AWS_LAMBDA_FUNCTION_VERSION=$LATEST' \
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128 \
    AWS_REGION=us-east-1 \
    AWS_ACCESS_KEY_ID=testing \
    AWS_SECRET_ACCESS_KEY=testing \
    "AWS_ENDPOINT_URL_SESV2=$MOTO" \
    "AWS_ENDPOINT_URL_DYNAMODB=$MOTO" \
    "AWS_ENDPOINT_URL_SQS=$MOTO" \
    "AWS_ENDPOINT_URL_SECRETS_MANAGER=$MOTO" >>"$TMP/$name.env"
  # The samples' hook secrets, as the setup step wrote them.
  cat "$SMOKE_FUNCTION_ENV" >>"$TMP/$name.env"
  # Each line is one KEY=VALUE, taken literally (values may hold commas, spaces or `$`).
  local env_lines
  mapfile -t env_lines <"$TMP/$name.env"
  env -i PATH="$PATH" "${env_lines[@]}" "$FUNCTION" >"$TMP/$name.log" 2>&1 </dev/null &
  STARTED_FUNCTION=$!
}

# The endpoint: parameter defaults, test addresses, AUTH_MODE=none since the action events carry no credentials.
start_function function AlertSender="$SENDER" SecurityTeamEmails="$RECIPIENT" AuthMode=none \
  IDEMPOTENCY_TABLE="$TABLE" ALERT_QUEUE_URL=
PORT=$STARTED_PORT EMULATOR_PID=$STARTED_EMULATOR FUNCTION_PID=$STARTED_FUNCTION
# The consumer of the alert queue.
start_function consumer @Function=ConsumerFunction AlertSender="$SENDER" SecurityTeamEmails="$RECIPIENT" \
  IDEMPOTENCY_TABLE="$TABLE"
CONSUMER_PORT=$STARTED_PORT CONSUMER_EMULATOR_PID=$STARTED_EMULATOR CONSUMER_PID=$STARTED_FUNCTION
# The Okta catch-up, reading the System Log okta::smoke::replay serves on OKTA_LOG_PORT.
OKTA_LOG_PORT=$("$PY" "$HELPER" free-port)
start_function catchup @Function=OktaCatchupFunction AlertSender="$SENDER" SecurityTeamEmails="$RECIPIENT" \
  IDEMPOTENCY_TABLE="$TABLE" OktaCatchupIntervalSecs=300 OktaOrgUrl="http://127.0.0.1:$OKTA_LOG_PORT" \
  OktaApiTokenSecretArn=profile-guard/okta-api-token
CATCHUP_PORT=$STARTED_PORT CATCHUP_EMULATOR_PID=$STARTED_EMULATOR CATCHUP_PID=$STARTED_FUNCTION
echo "moto (SES, DynamoDB) on 127.0.0.1:$MOTO_PORT, Lambda runtime APIs on 127.0.0.1:$PORT (endpoint) and" \
  "127.0.0.1:$CONSUMER_PORT (consumer), function $FUNCTION"

# --- the replay --------------------------------------------------------------------------------------------------
SMOKE_ENDPOINT=http://127.0.0.1:$PORT SMOKE_CONSUMER=http://127.0.0.1:$CONSUMER_PORT rust_step replay \
  2>"$TMP/replay.err" | grep -E '^(PASS|FAIL|  |[0-9]+ passed)'
status=${PIPESTATUS[0]}
# `profile-guard check` inside the endpoint function, as `make check-deployed` runs it.
SMOKE_ENDPOINT=http://127.0.0.1:$PORT rust_step check::smoke::replay 2>>"$TMP/replay.err" | grep -E '^(PASS|FAIL)'
[ "${PIPESTATUS[0]}" -eq 0 ] || { echo "FAIL check (see below)"; status=1; }
# The scheduled event, on the catch-up function.
SMOKE_CATCHUP=http://127.0.0.1:$CATCHUP_PORT SMOKE_OKTA_LOG_PORT=$OKTA_LOG_PORT rust_step okta::smoke::replay \
  2>>"$TMP/replay.err" | grep -E '^(PASS|FAIL)'
[ "${PIPESTATUS[0]}" -eq 0 ] || { echo "FAIL okta-catchup (see below)"; status=1; }
if [ "$status" -ne 0 ]; then
  grep -v '^$' "$TMP/replay.err" | grep -v '^error: test failed' | tail -n 20 >&2
  echo "--- audit lines from the functions:"
  grep -h '"profile_guard::audit"' "$TMP/function.log" "$TMP/consumer.log" "$TMP/catchup.log" | tail -n 20
  for process in "function:$FUNCTION_PID" "consumer:$CONSUMER_PID" "function-emulator:$EMULATOR_PID" \
    "consumer-emulator:$CONSUMER_EMULATOR_PID" "catchup:$CATCHUP_PID" "catchup-emulator:$CATCHUP_EMULATOR_PID"; do
    kill -0 "${process#*:}" 2>/dev/null || fail_start "the ${process%%:*} exited"
  done
fi
exit "$status"
