#!/usr/bin/env bash
# Local throughput (`make bench-load`): profile-guard against a bare axum server (examples/bare_server.rs) that
# only parses the body, side by side in one run, with wrk, for three bodies:
#
#   tutorial        events/bodies/tutorial.json: department check + security alert (log outbox)
#   non-sensitive   events/bodies/non-sensitive-change.json
#   ten-claims      ten claims, four multi-valued, none sensitive (benches/ten-claims.json, shared with benches/request_path.rs)
#
# Every request carries its own requestId (a wrk Lua counter), so profile-guard's idempotency map never
# answers for it: the full path is measured. Each (body, server) pair gets a fresh server process; its peak RSS
# is VmHWM from /proc after the run (or the largest VmRSS sampled every 0.5 s, if larger). profile-guard runs
# as users run it: its defaults (embedded departments, log outbox) and RUST_LOG=info (one JSON audit line per
# request, stdout to /dev/null); one extra row repeats the non-sensitive body with RUST_LOG=warn to show what the
# audit line costs.
#
# BENCH_ROUNDS rounds (3) each measure every pair back to back; the table shows medians over the rounds, and the
# ratios profile-guard / bare are taken within each round, then their median (steadier on a shared VM).
#
# On the 2-core machine the server is pinned to CPU 0 and wrk to CPU 1 (taskset), so each server gets one core
# and one tokio worker. Every run is bounded (wrk -d) and everything started here is stopped on exit.
#
# Knobs: BENCH_DURATION (10s), BENCH_WARMUP (2s), BENCH_CONNECTIONS (32), BENCH_THREADS (1),
#        BENCH_BODIES ("tutorial non-sensitive ten-claims"), BENCH_ROUNDS (3), BENCH_PIN (1),
#        BENCH_WARN_LOG_ROW (1), BENCH_SKIP_BUILD (0).
set -euo pipefail
cd "$(dirname "$0")/.."
export LC_ALL=C

DURATION=${BENCH_DURATION:-10s}
WARMUP=${BENCH_WARMUP:-2s}
CONNECTIONS=${BENCH_CONNECTIONS:-32}
THREADS=${BENCH_THREADS:-1}
BODIES=${BENCH_BODIES:-tutorial non-sensitive ten-claims}
PIN=${BENCH_PIN:-1}
WARN_LOG_ROW=${BENCH_WARN_LOG_ROW:-1}
ROUNDS=${BENCH_ROUNDS:-3}
TARGET=${CARGO_TARGET_DIR:-target}
PG=$TARGET/release/profile-guard
BARE=$TARGET/release/examples/bare_server

# --- wrk, from the distribution's packages when missing ---------------------------------------------------------
if ! command -v wrk >/dev/null 2>&1; then
  SUDO=
  [ "$(id -u)" = 0 ] || SUDO=sudo
  echo "wrk not found: installing it (apt-get install -y wrk)"
  $SUDO apt-get install -y wrk >/dev/null || { $SUDO apt-get update >/dev/null && $SUDO apt-get install -y wrk >/dev/null; }
fi
command -v wrk >/dev/null 2>&1 || { echo "error: wrk is not installed" >&2; exit 2; }

# --- one release build (fat LTO: slow on 2 cores) -----------------------------------------------------------------
if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
  echo "building release binaries (profile-guard, examples/bare_server)..."
  # Two commands: examples pull in dev-dependencies, whose features must not leak into the measured server.
  cargo build --release --quiet --bin profile-guard
  cargo build --release --quiet --example bare_server
fi
[ -x "$PG" ] && [ -x "$BARE" ] || { echo "error: $PG or $BARE missing" >&2; exit 2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/profile-guard-bench.XXXXXX")
SERVER_PID=
stop_server() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
  fi
}
cleanup() {
  stop_server
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# --- bodies: compact JSON without a requestId (the Lua script puts a fresh one first) ---------------------------
cp benches/ten-claims.json "$WORK/ten-claims.src.json"
compact() {
  python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
d.pop("requestId", None)
sys.stdout.write(json.dumps(d, separators=(",", ":"), ensure_ascii=False))' "$1" >"$2"
}
compact events/bodies/tutorial.json "$WORK/tutorial.json"
compact events/bodies/non-sensitive-change.json "$WORK/non-sensitive.json"
compact "$WORK/ten-claims.src.json" "$WORK/ten-claims.json"

cat >"$WORK/post.lua" <<'LUA'
-- POSTs WRK_BODY (compact JSON without requestId) with a fresh requestId in every request.
local f = assert(io.open(os.getenv("WRK_BODY"), "rb"))
local rest = f:read("*a"):sub(2)
f:close()
local run = os.getenv("WRK_RUN") or "run"
local headers = { ["Content-Type"] = "application/json" }
local counter = 0
local next_tid = 0

function setup(thread)
  next_tid = next_tid + 1
  thread:set("tid", next_tid)
end

function request()
  counter = counter + 1
  local body = '{"requestId":"wrk-' .. run .. '-' .. tostring(tid) .. '-' .. counter .. '",' .. rest
  return wrk.format("POST", "/pre-update-profile", headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRKRESULT requests=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d connect=%d read=%d write=%d status=%d timeout=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
LUA

SERVER_CPU=()
CLIENT_CPU=()
if [ "$PIN" = 1 ] && command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -ge 2 ]; then
  SERVER_CPU=(taskset -c 0)
  CLIENT_CPU=(taskset -c 1)
fi

# start_server KIND PORT LOG_LEVEL: profile-guard or bare on 127.0.0.1:PORT; waits until it accepts.
start_server() {
  local kind=$1 port=$2 level=$3
  if [ "$kind" = profile-guard ]; then
    env -i PATH="$PATH" LISTEN_ADDR="127.0.0.1:$port" RUST_LOG="$level" "${SERVER_CPU[@]}" "$PG" >/dev/null 2>"$WORK/server.err" &
  else
    env -i PATH="$PATH" LISTEN_ADDR="127.0.0.1:$port" "${SERVER_CPU[@]}" "$BARE" >/dev/null 2>"$WORK/server.err" &
  fi
  SERVER_PID=$!
  for _ in $(seq 1 200); do
    if (: <"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.05
  done
  echo "error: $kind did not start on 127.0.0.1:$port" >&2
  cat "$WORK/server.err" >&2
  exit 1
}

# check_answer PORT BODYFILE: one request must come back 200 SUCCESS as application/json.
check_answer() {
  local port=$1 body=$2 out
  out=$(curl -s -m 5 -o - -w '\n%{http_code} %{content_type}' -H 'content-type: application/json' \
    --data-binary "{\"requestId\":\"check-$RANDOM$RANDOM\",$(tail -c +2 "$body")" \
    "http://127.0.0.1:$port/pre-update-profile")
  case "$out" in
    '{"actionStatus":"SUCCESS"}'*'200 application/json'*) ;;
    *) echo "error: unexpected answer from 127.0.0.1:$port: $out" >&2; exit 1 ;;
  esac
}

# measure LABEL KIND BODY LOG_LEVEL
measure() {
  local label=$1 kind=$2 body=$3 level=$4 port out line hwm
  port=$(free_port)
  start_server "$kind" "$port" "$level"
  check_answer "$port" "$WORK/$body.json"
  WRK_BODY="$WORK/$body.json" WRK_RUN="warm$RANDOM" "${CLIENT_CPU[@]}" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" \
    -s "$WORK/post.lua" "http://127.0.0.1:$port/pre-update-profile" >/dev/null
  # VmHWM is updated lazily by the kernel: VmRSS is also sampled during the run, and the larger figure kept.
  (
    while [ -r "/proc/$SERVER_PID/status" ]; do
      awk '/^VmRSS:/ {print $2}' "/proc/$SERVER_PID/status" 2>/dev/null || break
      sleep 0.5
    done
  ) >"$WORK/rss.log" 2>/dev/null &
  local sampler=$!
  out=$(WRK_BODY="$WORK/$body.json" WRK_RUN="run$RANDOM" "${CLIENT_CPU[@]}" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" \
    --latency -s "$WORK/post.lua" "http://127.0.0.1:$port/pre-update-profile")
  hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$SERVER_PID/status")
  kill "$sampler" 2>/dev/null || true
  wait "$sampler" 2>/dev/null || true
  hwm=$(awk -v h="$hwm" '$1 > h { h = $1 } END { print h }' "$WORK/rss.log")
  stop_server
  line=$(grep '^WRKRESULT' <<<"$out") || { echo "error: no wrk result:" >&2; echo "$out" >&2; exit 1; }
  echo "$ROUND|$label|$body|$line hwm_kb=$hwm" >>"$WORK/results"
  printf '  round %s  %-15s %-28s %8.0f req/s\n' "$ROUND" "$body" "$label" \
    "$(sed -nE 's/.*requests=([0-9]+) duration_us=([0-9]+).*/\1 \2/p' <<<"$line" | awk '{ print $1 / ($2 / 1e6) }')"
}

echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION (after a $WARMUP warm-up) per run, $ROUNDS round(s)," \
  "server pinned: ${SERVER_CPU[*]:-no}"
for ROUND in $(seq 1 "$ROUNDS"); do
  for body in $BODIES; do
    measure "profile-guard" profile-guard "$body" info
    measure "bare_server" bare "$body" info
  done
  if [ "$WARN_LOG_ROW" = 1 ]; then
    measure "profile-guard RUST_LOG=warn" profile-guard non-sensitive warn
  fi
done

python3 - "$WORK/results" "$THREADS" "$CONNECTIONS" "$DURATION" <<'PY'
import re, statistics, sys
path, threads, connections, duration = sys.argv[1:]
runs = []
for line in open(path):
    rnd, label, body, rest = line.rstrip("\n").split("|", 3)
    f = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", rest)}
    f["rps"] = f["requests"] / (f["duration_us"] / 1e6)
    f["errors"] = sum(f[k] for k in ("connect", "read", "write", "status", "timeout"))
    runs.append((int(rnd), label, body, f))

order = []
for _, label, body, _ in runs:
    if (body, label) not in order:
        order.append((body, label))
med = lambda xs: statistics.median(xs)
rounds = max(r for r, *_ in runs)
print()
print(f"profile-guard vs bare axum server, wrk -t{threads} -c{connections} -d{duration}, each request with its own "
      f"requestId; median of {rounds} round(s)")
print(f"{'body':<15} {'server':<28} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'peak RSS':>10} {'errors':>7}")
for body, label in order:
    rs = [f for _, l, b, f in runs if (b, l) == (body, label)]
    print(f"{body:<15} {label:<28} {med([f['rps'] for f in rs]):>9.0f} {med([f['p50_us'] for f in rs]) / 1000:>8.2f} "
          f"{med([f['p99_us'] for f in rs]) / 1000:>8.2f} {max(f['max_us'] for f in rs) / 1000:>8.2f} "
          f"{max(f['hwm_kb'] for f in rs) / 1024:>6.1f} MiB {sum(f['errors'] for f in rs):>7}")

def ratio(body, label, base_body, key):
    out = []
    for r in range(1, rounds + 1):
        a = [f for n, l, b, f in runs if n == r and b == body and l == label]
        z = [f for n, l, b, f in runs if n == r and b == base_body and l == "bare_server"]
        if a and z:
            out.append(a[0][key] / z[0][key])
    return out

print()
print("ratio profile-guard / bare_server, per round (same round, back to back), and their median")
print("(target: non-sensitive throughput >= 0.80)")
for body, label in order:
    if label == "bare_server":
        continue
    base = body
    r = ratio(body, label, base, "rps")
    if not r:
        continue
    p50 = ratio(body, label, base, "p50_us")
    p99 = ratio(body, label, base, "p99_us")
    rounds_text = " ".join(f"{x:.2f}" for x in r)
    print(f"{body:<15} {label:<28} req/s {med(r):.2f} ({rounds_text})   p50 {med(p50):.2f}x   p99 {med(p99):.2f}x")
PY
