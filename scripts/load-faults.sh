#!/usr/bin/env bash
# Load with a failing directory (`make load-faults`): a bounded load run against the local release server whose
# department directory is examples/directory_stub.rs on loopback, which answers 500 for ~10 % of calls, sleeps
# past the directory timeout for ~5 %, 404 for unknown departments and 200 otherwise.
#
#   profile-guard: DEPARTMENT_API_URL=http://127.0.0.1:STUB/departments/{department}
#                  DEPARTMENT_API_TIMEOUT_MS=300 DEADLINE_MS=2500 RUST_LOG=warn, everything else default, except
#                  DEPARTMENT_CACHE_TTL=0: with the department cache on (its default) the few departments of the
#                  mix would be looked up a handful of times and the stub's faults barely reached; the cache off
#                  is the worst case, every department check a call to the stub (FAULTS_DEPARTMENT_CACHE_TTL)
#   load:          examples/load_client.rs, FAULTS_CONCURRENCY tasks for FAULTS_DURATION seconds, every body with
#                  its own requestId and a mix of departments (known, unknown, odd characters, cleared) and other
#                  requests (non-sensitive, no event.request, wrong actionType, not JSON)
#
# Checks: every answer keeps the action contract (status 200/400/401/500, application/json, actionStatus
# SUCCESS/FAILED/ERROR with its required fields) and is the answer its kind allows; none takes longer than
# DEADLINE_MS + FAULTS_MARGIN_MS; the server's RSS (VmRSS, sampled every second) stays flat: it may not grow by
# more than FAULTS_RSS_GROWTH_KB (4096) over the second half of the run. Exit status 1 when a check fails.
#
# Knobs: FAULTS_DURATION (20), FAULTS_CONCURRENCY (32), FAULTS_MARGIN_MS (250), FAULTS_RSS_GROWTH_KB (4096),
#        FAULTS_DEPARTMENT_CACHE_TTL (0), FAULTS_SKIP_BUILD (0).
set -euo pipefail
cd "$(dirname "$0")/.."
export LC_ALL=C

DURATION=${FAULTS_DURATION:-20}
CONCURRENCY=${FAULTS_CONCURRENCY:-32}
MARGIN_MS=${FAULTS_MARGIN_MS:-250}
RSS_GROWTH_KB=${FAULTS_RSS_GROWTH_KB:-4096}
DEADLINE_MS=2500
DIRECTORY_TIMEOUT_MS=300
CACHE_TTL=${FAULTS_DEPARTMENT_CACHE_TTL:-0}
TARGET=${CARGO_TARGET_DIR:-target}
PG=$TARGET/release/profile-guard
STUB=$TARGET/release/examples/directory_stub
CLIENT=$TARGET/release/examples/load_client

if [ "${FAULTS_SKIP_BUILD:-0}" != 1 ]; then
  echo "building release binaries (profile-guard; examples directory_stub, load_client)..."
  # Two commands: examples pull in dev-dependencies, whose features must not leak into the measured server.
  cargo build --release --quiet --bin profile-guard
  cargo build --release --quiet --example directory_stub --example load_client
fi
for bin in "$PG" "$STUB" "$CLIENT"; do
  [ -x "$bin" ] || { echo "error: $bin missing" >&2; exit 2; }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/profile-guard-faults.XXXXXX")
PG_PID=
STUB_PID=
SAMPLER_PID=
stop() {
  local pid=$1
  [ -n "$pid" ] || return 0
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  stop "$SAMPLER_PID"
  stop "$PG_PID"
  stop "$STUB_PID"
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
wait_port() {
  local port=$1 pid=$2
  for _ in $(seq 1 200); do
    (: <"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  return 1
}

STUB_PORT=$(free_port)
env -i PATH="$PATH" LISTEN_ADDR="127.0.0.1:$STUB_PORT" STUB_SLOW_MS=1000 "$STUB" >"$WORK/stub.log" 2>&1 &
STUB_PID=$!
wait_port "$STUB_PORT" "$STUB_PID" || { echo "error: directory_stub did not start" >&2; cat "$WORK/stub.log" >&2; exit 1; }

PG_PORT=$(free_port)
env -i PATH="$PATH" LISTEN_ADDR="127.0.0.1:$PG_PORT" RUST_LOG=warn \
  DEPARTMENT_API_URL="http://127.0.0.1:$STUB_PORT/departments/{department}" \
  DEPARTMENT_API_TIMEOUT_MS="$DIRECTORY_TIMEOUT_MS" DEADLINE_MS="$DEADLINE_MS" DEPARTMENT_CACHE_TTL="$CACHE_TTL" \
  "$PG" >"$WORK/pg.log" 2>&1 &
PG_PID=$!
wait_port "$PG_PORT" "$PG_PID" || { echo "error: profile-guard did not start" >&2; cat "$WORK/pg.log" >&2; exit 1; }

# VmRSS once a second while the server lives (bounded: the server is stopped below or by the trap).
(
  start=$EPOCHREALTIME
  while [ -r "/proc/$PG_PID/status" ]; do
    kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$PG_PID/status" 2>/dev/null) || break
    [ -n "$kb" ] || break
    awk -v s="$start" -v n="$EPOCHREALTIME" -v kb="$kb" 'BEGIN { printf "%.1f %s\n", n - s, kb }'
    sleep 1
  done
) >"$WORK/rss.log" 2>/dev/null &
SAMPLER_PID=$!

echo "profile-guard on 127.0.0.1:$PG_PORT, directory stub on 127.0.0.1:$STUB_PORT" \
  "(timeout ${DIRECTORY_TIMEOUT_MS} ms, deadline ${DEADLINE_MS} ms, DEPARTMENT_CACHE_TTL=$CACHE_TTL)"
status=0
env -i PATH="$PATH" URL="http://127.0.0.1:$PG_PORT/pre-update-profile" DURATION_SECS="$DURATION" \
  CONCURRENCY="$CONCURRENCY" DEADLINE_MS="$DEADLINE_MS" MARGIN_MS="$MARGIN_MS" \
  timeout -k 5 $((DURATION + 30)) "$CLIENT" | tee "$WORK/client.out" || status=1
sleep 1.5 # one more RSS sample after the load

hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$PG_PID/status")
stop "$SAMPLER_PID"
SAMPLER_PID=
stop "$PG_PID"
PG_PID=
stop "$STUB_PID"
STUB_PID=
grep '^directory_stub answers' "$WORK/stub.log" || true
if [ -s "$WORK/pg.log" ]; then
  echo "profile-guard warnings/errors during the run: $(grep -c . "$WORK/pg.log") lines, by message:"
  sed -nE 's/.*"message":"([^"]*)".*/\1/p' "$WORK/pg.log" | sort | uniq -c | sort -rn | head -n 5
fi

echo
echo "RSS of profile-guard (VmRSS, KiB), one sample per second:"
awk '{ printf "%s%s", (NR > 1 ? " " : "  "), $2 } END { print "" }' "$WORK/rss.log"
read -r rss_start rss_peak rss_end rss_mid n <<<"$(awk '
  { t[NR] = $1; v[NR] = $2; if ($2 > peak) peak = $2 }
  END { mid = int((NR + 1) / 2); print v[1], peak, v[NR], v[mid], NR }' "$WORK/rss.log")"
growth=$(( rss_end - rss_mid ))
printf 'RSS: start %.1f MiB, peak %.1f MiB (VmHWM %.1f MiB), end %.1f MiB; second half %+d KiB (limit %d KiB)\n' \
  "$(awk -v v="$rss_start" 'BEGIN{print v/1024}')" "$(awk -v v="$rss_peak" 'BEGIN{print v/1024}')" \
  "$(awk -v v="$hwm" 'BEGIN{print v/1024}')" "$(awk -v v="$rss_end" 'BEGIN{print v/1024}')" "$growth" "$RSS_GROWTH_KB"
if [ "$n" -lt 4 ] || [ "$growth" -gt "$RSS_GROWTH_KB" ]; then
  echo "FAIL: RSS did not stay flat"
  status=1
fi
if grep -q '^LOADRESULT' "$WORK/client.out"; then
  :
else
  echo "FAIL: the load client gave no result"
  status=1
fi
if [ "$status" = 0 ]; then
  echo "PASS: every answer contract-valid and expected, none slower than $((DEADLINE_MS + MARGIN_MS)) ms, RSS flat"
else
  echo "FAIL"
fi
exit "$status"
