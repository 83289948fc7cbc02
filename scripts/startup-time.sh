#!/usr/bin/env bash
# Start-up time (`make startup-time`).
#
# 1. Local mode: time from exec of the release binary to its first answered POST /pre-update-profile, median of
#    STARTUP_RUNS (10) runs, each on a fresh free loopback port with the default configuration.
#    The probe is bash's own /dev/tcp (no process start per attempt, so the figure is the server's, not the
#    poller's); the same is then measured polling with curl, whose own start-up (a few ms per attempt) is in it.
# 2. Lambda mode: `cargo lambda watch --only-lambda-apis` provides the Lambda runtime API on loopback; the same
#    release binary is started under it (AWS_LAMBDA_RUNTIME_API set, Lambda settings as in template.yaml, SES
#    endpoint pointed at a closed loopback port) with an invoke already waiting, and the time from exec to the
#    invoke's answer is taken: runtime init + first invoke, without the sandbox and download time of real Lambda.
#    Skipped when cargo-lambda is not installed (`make venv`).
# 3. The release zip's size, when target/lambda/profile-guard/bootstrap.zip exists (`make build`).
#
# Knobs: STARTUP_RUNS (10), STARTUP_SKIP_BUILD (0), STARTUP_LAMBDA (1).
set -euo pipefail
cd "$(dirname "$0")/.."
export LC_ALL=C
[ -d .venv/bin ] && export PATH="$PWD/.venv/bin:$PATH"

RUNS=${STARTUP_RUNS:-10}
TARGET=${CARGO_TARGET_DIR:-target}
PG=$TARGET/release/profile-guard
ZIP=$TARGET/lambda/profile-guard/bootstrap.zip

if [ "${STARTUP_SKIP_BUILD:-0}" != 1 ]; then
  echo "building the release binary (profile-guard)..."
  cargo build --release --quiet --bin profile-guard
fi
[ -x "$PG" ] || { echo "error: $PG missing" >&2; exit 2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/profile-guard-startup.XXXXXX")
SERVER_PID=
WATCH_PID=
INVOKE_PID=
stop() {
  local pid=$1
  [ -n "$pid" ] || return 0
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  stop "$INVOKE_PID"
  stop "$SERVER_PID"
  stop "$WATCH_PID"
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

BODY=$(tr -d '\n' <events/bodies/non-sensitive-change.json)

# probe_tcp PORT: one POST over bash's /dev/tcp; success when the status line says 200.
probe_tcp() {
  local line=
  {
    printf 'POST /pre-update-profile HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s' \
      "${#BODY}" "$BODY" >&3
    IFS= read -r -t 5 line <&3
  } 2>/dev/null 3<>"/dev/tcp/127.0.0.1/$1" || return 1
  [[ $line == "HTTP/1.1 200"* ]]
}

probe_curl() {
  curl -sf -o /dev/null -m 5 -H 'content-type: application/json' --data-binary "$BODY" \
    "http://127.0.0.1:$1/pre-update-profile"
}

# one_start PROBE: prints milliseconds from exec to the first answer.
one_start() {
  local probe=$1 port t0 t1 tries=0
  port=$(free_port)
  t0=$EPOCHREALTIME
  env -i PATH="$PATH" LISTEN_ADDR="127.0.0.1:$port" RUST_LOG=warn "$PG" >/dev/null 2>&1 &
  SERVER_PID=$!
  until "$probe" "$port"; do
    tries=$((tries + 1))
    if [ "$tries" -gt 200000 ] || ! kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "error: profile-guard did not answer on 127.0.0.1:$port" >&2
      exit 1
    fi
  done
  t1=$EPOCHREALTIME
  stop "$SERVER_PID"
  SERVER_PID=
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f\n", (b - a) * 1000 }'
}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
summary() { sort -n | awk '{ v[NR] = $1 } END { printf "min %.2f  max %.2f", v[1], v[NR] }'; }

echo
echo "local mode: exec -> first answered POST (release binary, default configuration), $RUNS runs"
one_start probe_tcp >/dev/null # page cache warm
for _ in $(seq 1 "$RUNS"); do one_start probe_tcp; done >"$WORK/tcp.ms"
for _ in $(seq 1 "$RUNS"); do one_start probe_curl; done >"$WORK/curl.ms"
printf '  probe /dev/tcp:  median %s ms  (%s; runs: %s)\n' "$(median <"$WORK/tcp.ms")" "$(summary <"$WORK/tcp.ms")" "$(tr '\n' ' ' <"$WORK/tcp.ms")"
printf '  probe curl:      median %s ms  (%s)\n' "$(median <"$WORK/curl.ms")" "$(summary <"$WORK/curl.ms")"
echo "  target: < 50 ms"

# --- Lambda mode under cargo lambda's runtime API ----------------------------------------------------------------
if [ "${STARTUP_LAMBDA:-1}" = 1 ] && cargo lambda --version >/dev/null 2>&1; then
  echo
  echo "Lambda mode: exec -> first invoke answered, under 'cargo lambda watch --only-lambda-apis', $RUNS runs"
  WPORT=$(free_port)
  cargo lambda watch --only-lambda-apis --invoke-address 127.0.0.1 --invoke-port "$WPORT" >"$WORK/watch.log" 2>&1 &
  WATCH_PID=$!
  for _ in $(seq 1 200); do
    (: <"/dev/tcp/127.0.0.1/$WPORT") 2>/dev/null && break
    sleep 0.05
  done
  # With --only-lambda-apis the emulator serves one function named "_" (it prints the variables it expects).
  INVOKE_URL="http://127.0.0.1:$WPORT/2015-03-31/functions/_/invocations"
  lambda_start() {
    local t0 t1
    rm -f "$WORK/invoke.done"
    # The invoke waits in the emulator until a function instance asks for work.
    (curl -s -m 30 -o "$WORK/invoke.out" -H 'content-type: application/json' \
      --data-binary @events/non-sensitive-change.json "$INVOKE_URL" && echo "$EPOCHREALTIME" >"$WORK/invoke.done") &
    INVOKE_PID=$!
    sleep 0.2
    t0=$EPOCHREALTIME
    env -i PATH="$PATH" AWS_LAMBDA_RUNTIME_API="http://127.0.0.1:$WPORT/.rt" AWS_LAMBDA_FUNCTION_NAME=_ \
      AWS_LAMBDA_FUNCTION_VERSION='$LATEST' AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128 \
      AWS_REGION=eu-west-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local \
      AWS_ENDPOINT_URL=http://127.0.0.1:9 AWS_EC2_METADATA_DISABLED=true \
      ALERT_SENDER=profile-guard@example.com SECURITY_TEAM_EMAILS=security@example.com AUTH_MODE=none \
      RUST_LOG=warn "$PG" >"$WORK/function.log" 2>&1 &
    SERVER_PID=$!
    wait "$INVOKE_PID" || true
    INVOKE_PID=
    t1=$(cat "$WORK/invoke.done" 2>/dev/null) || { echo "error: the invoke did not complete; logs:" >&2; tail -n 20 "$WORK/watch.log" "$WORK/function.log" >&2; exit 1; }
    grep -q '"statusCode":200' "$WORK/invoke.out" || { echo "error: unexpected invoke answer: $(cat "$WORK/invoke.out")" >&2; exit 1; }
    stop "$SERVER_PID"
    SERVER_PID=
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f\n", (b - a) * 1000 }'
  }
  lambda_start >/dev/null
  for _ in $(seq 1 "$RUNS"); do lambda_start; done >"$WORK/lambda.ms"
  printf '  median %s ms  (%s; includes one curl exit, ~1 ms)\n' "$(median <"$WORK/lambda.ms")" "$(summary <"$WORK/lambda.ms")"
  stop "$WATCH_PID"
  WATCH_PID=
elif [ "${STARTUP_LAMBDA:-1}" = 1 ]; then
  echo
  echo "Lambda mode: skipped (cargo-lambda not installed: make venv)"
fi

echo
if [ -f "$ZIP" ]; then
  bytes=$(wc -c <"$ZIP" | tr -d ' ')
  printf 'release zip %s: %s bytes (%.2f MiB, %.2f MB); target < 5 MB\n' "$ZIP" "$bytes" \
    "$(awk -v b="$bytes" 'BEGIN{print b/1048576}')" "$(awk -v b="$bytes" 'BEGIN{print b/1e6}')"
  if [ "$ZIP" -ot "$PG" ]; then
    echo "  (older than the release binary: 'make build' makes a current one)"
  fi
  python3 - "$ZIP" <<'PY' || true
import sys, time, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    for info in z.infolist():
        head = z.open(info).read(20)
        arch = {0x3E: "x86_64", 0xB7: "aarch64"}.get(int.from_bytes(head[18:20], "little"), "?") if head[:4] == b"\x7fELF" else "-"
        print(f"  {info.filename}: {info.file_size} bytes unpacked, {arch}, built {time.strftime('%Y-%m-%d %H:%M', info.date_time + (0, 0, -1))}")
PY
else
  echo "release zip: $ZIP not found (make build)"
fi
printf 'release binary %s: %s bytes\n' "$PG" "$(wc -c <"$PG" | tr -d ' ')"
