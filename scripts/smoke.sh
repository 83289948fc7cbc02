#!/usr/bin/env bash
# The Lambda smoke replay (`make smoke`): the real Lambda code path, locally, with no AWS account.
#
#   1. moto's server on a free loopback port stands in for Amazon SES (the sender identity is created in it) and
#      for DynamoDB (the once-per-change table).
#   2. `cargo lambda watch` runs the function under a local Lambda runtime API on another free loopback port
#      (it builds the debug binary on the first invoke), with the environment template.yaml gives it (parameter
#      defaults, test addresses, AUTH_MODE=none since the events carry no credentials) and the AWS endpoints
#      pointed at moto.
#   3. Every events/*.json API Gateway event (HTTP API v2 and REST API v1) is invoked with `cargo lambda invoke`
#      and the answer compared with events/NAME.expected.json: status code, content type, body as JSON.
#   4. The security alerts SES accepted are counted per event (the rule is in `lambda-local.py plan`) and in
#      total, and checked for sender and recipient. Messages to anyone else are user notices: counted only.
#
# Exit status 0 only when everything passed. moto and watch are stopped on every exit.
# Knobs: BUILD_TIMEOUT (seconds to wait for the first build, default 900), INVOKE_TIMEOUT (default 60),
#        KEEP_LOGS=1 (keep the temporary directory with the moto and watch logs).
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
. scripts/lambda-lib.sh

BUILD_TIMEOUT=${BUILD_TIMEOUT:-900}
INVOKE_TIMEOUT=${INVOKE_TIMEOUT:-60}
SENDER=profile-guard@example.com
RECIPIENT=security@example.com
TABLE=profile-guard-once-per-change

for tool in cargo moto_server; do
  command -v "$tool" >/dev/null 2>&1 || { echo "error: $tool not found (run 'make venv')" >&2; exit 2; }
done
cargo lambda --version >/dev/null 2>&1 || { echo "error: cargo-lambda not found (run 'make venv')" >&2; exit 2; }
[ -x "$PY" ] || { echo "error: $PY not found (run 'make venv')" >&2; exit 2; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/profile-guard-smoke.XXXXXX")
MOTO_PID=
WATCH_PID=
cleanup() {
  stop_pid "$WATCH_PID"
  stop_pid "$MOTO_PID"
  if [ "${KEEP_LOGS:-0}" = 1 ]; then echo "logs kept in $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail_start() {
  echo "error: $1" >&2
  if [ -f "$TMP/watch.log" ]; then
    echo "--- last lines of cargo lambda watch:" >&2
    tail -n 40 "$TMP/watch.log" >&2
  fi
  exit 1
}

# --- the emulator ------------------------------------------------------------------------------------------------
MOTO_PORT=$("$PY" scripts/lambda-local.py free-port)
start_moto "$MOTO_PORT" "$TMP/moto.log" || exit 1
MOTO=http://127.0.0.1:$MOTO_PORT
"$PY" scripts/lambda-local.py create-identity "$MOTO" "$SENDER" || fail_start "could not create the SES identity"
"$PY" scripts/lambda-local.py create-table "$MOTO" "$TABLE" || fail_start "could not create the DynamoDB table"

# --- the function ------------------------------------------------------------------------------------------------
# Its environment: what template.yaml sets, then what Lambda itself provides, with every AWS endpoint on moto.
# (--env-file rather than --env-var: --env-var splits its value on commas.)
"$PY" scripts/lambda-local.py template-env template.yaml \
  AlertSender="$SENDER" SecurityTeamEmails="$RECIPIENT" AuthMode=none IDEMPOTENCY_TABLE="$TABLE" \
  >"$TMP/function.env" || fail_start "could not derive the function's environment from template.yaml"
printf '%s\n' \
  AWS_REGION=us-east-1 \
  AWS_ACCESS_KEY_ID=testing \
  AWS_SECRET_ACCESS_KEY=testing \
  "AWS_ENDPOINT_URL_SESV2=$MOTO" \
  "AWS_ENDPOINT_URL_DYNAMODB=$MOTO" \
  "AWS_ENDPOINT_URL_SECRETS_MANAGER=$MOTO" >>"$TMP/function.env"

WATCH_PORT=$("$PY" scripts/lambda-local.py free-port)
# Its own session, so that stopping it also stops the cargo run and function processes it spawns
# (setsid is util-linux; elsewhere job control gives the same own process group).
# --ignore-changes: source edits during the run must not restart the function half-way.
if command -v setsid >/dev/null 2>&1; then SETSID=setsid; else SETSID=; set -m; fi
$SETSID cargo lambda watch --ignore-changes \
  --invoke-address 127.0.0.1 --invoke-port "$WATCH_PORT" \
  --env-file "$TMP/function.env" >"$TMP/watch.log" 2>&1 </dev/null &
WATCH_PID=$!
set +m
echo "moto (SES, DynamoDB) on 127.0.0.1:$MOTO_PORT, cargo lambda watch on 127.0.0.1:$WATCH_PORT"

invoke() { # invoke EVENT_FILE OUT_FILE [TIMEOUT]
  timeout "${3:-$INVOKE_TIMEOUT}" cargo lambda invoke --invoke-address 127.0.0.1 --invoke-port "$WATCH_PORT" \
    --output-format json --data-file "$1" >"$2" 2>"$2.err"
}

mapfile -t EVENTS < <(ls events/*.json | grep -v '\.expected\.json$' | sort)
[ "${#EVENTS[@]}" -gt 0 ] || fail_start "no events/*.json found"
declare -A ALERTS=()
while read -r name count; do ALERTS[$name]=$count; done < <("$PY" scripts/lambda-local.py plan "${EVENTS[@]}")

# The first invoke waits for watch to build and start the function: poll it, fail fast if watch dies, the build
# fails or the function exits at start-up. Its answer is kept and checked like the others.
"$PY" scripts/lambda-local.py wait-port "$WATCH_PORT" 60 || fail_start "cargo lambda watch did not start listening"
echo "waiting for cargo lambda watch to build and start the function (up to ${BUILD_TIMEOUT} s)..."
first=${EVENTS[0]}
first_name=$(basename "$first" .json)
invoke "$first" "$TMP/$first_name.out" "$BUILD_TIMEOUT" &
FIRST_PID=$!
started=$SECONDS
while kill -0 "$FIRST_PID" 2>/dev/null; do
  if ! kill -0 "$WATCH_PID" 2>/dev/null; then
    kill "$FIRST_PID" 2>/dev/null
    fail_start "cargo lambda watch exited"
  fi
  if grep -qE '^error(\[E[0-9]+\])?: could not compile|^error: failed to' "$TMP/watch.log"; then
    kill "$FIRST_PID" 2>/dev/null
    fail_start "the function did not build"
  fi
  if grep -qE 'did not start|ERROR command exited' "$TMP/watch.log"; then
    kill "$FIRST_PID" 2>/dev/null
    fail_start "the function exited at start-up"
  fi
  sleep 2
done
wait "$FIRST_PID"
first_rc=$?
[ "$first_rc" -ne 124 ] || fail_start "no answer within ${BUILD_TIMEOUT} s"
echo "function up after $((SECONDS - started)) s"

# --- the replay --------------------------------------------------------------------------------------------------
pass=0
failed=0
alerts_expected=0
notices=0
for event in "${EVENTS[@]}"; do
  name=$(basename "$event" .json)
  expected=events/$name.expected.json
  out=$TMP/$name.out
  want_alerts=${ALERTS[$name]:-0}
  alerts_expected=$((alerts_expected + want_alerts))
  if [ "$event" = "$first" ]; then
    before="0 0"
    rc=$first_rc
  else
    before=$("$PY" scripts/lambda-local.py ses-count "$MOTO" "$RECIPIENT") || fail_start "moto stopped answering"
    invoke "$event" "$out"
    rc=$?
  fi
  after=$("$PY" scripts/lambda-local.py ses-count "$MOTO" "$RECIPIENT") || fail_start "moto stopped answering"
  read -r a0 n0 <<<"$before"
  read -r a1 n1 <<<"$after"
  sent=$((a1 - a0))
  noticed=$((n1 - n0))
  notices=$((notices + noticed))
  problems=()
  if [ ! -f "$expected" ]; then
    problems+=("  no $expected to compare with")
  elif [ "$rc" -ne 0 ]; then
    problems+=("  cargo lambda invoke failed (exit $rc): $(tr '\n' ' ' <"$out.err" | cut -c1-400)")
  elif ! diff_text=$("$PY" scripts/lambda-local.py compare "$expected" "$out"); then
    problems+=("$diff_text")
  fi
  if [ "$sent" -ne "$want_alerts" ]; then
    problems+=("  security alerts sent: expected $want_alerts, got $sent")
  fi
  if [ "${#problems[@]}" -eq 0 ]; then
    echo "PASS $name (alerts: $sent, notices: $noticed)"
    pass=$((pass + 1))
  else
    echo "FAIL $name"
    printf '%s\n' "${problems[@]}"
    failed=$((failed + 1))
  fi
done

# All messages together: the number of alerts, and that every message went out from the sender.
if "$PY" scripts/lambda-local.py ses-check "$MOTO" "$SENDER" "$RECIPIENT" "$alerts_expected"; then
  echo "PASS SES: $alerts_expected alert(s) to $RECIPIENT, $notices user notice(s), all from $SENDER"
  pass=$((pass + 1))
else
  echo "FAIL SES messages"
  failed=$((failed + 1))
fi

if [ "$failed" -gt 0 ]; then
  echo "--- audit lines from the function:"
  grep -h '"profile_guard::audit"' "$TMP/watch.log" | tail -n 20
fi
echo "$pass passed, $failed failed"
[ "$failed" -eq 0 ]
