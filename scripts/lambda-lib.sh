# Shared by scripts/smoke.sh and scripts/lambda-local-ses.sh (sourced, not run).
# Starts moto's server on a loopback port (the sender identity is created by each caller) and stops processes.

PY=${PY:-.venv/bin/python}
HELPER=scripts/lambda-local.py

# start_moto PORT LOGFILE: starts moto_server on 127.0.0.1:PORT, sets MOTO_PID, waits until it answers.
start_moto() {
  local port=$1 log=$2
  if ! command -v moto_server >/dev/null 2>&1; then
    echo "error: moto_server not found; run 'make venv' first" >&2
    return 1
  fi
  moto_server -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
  MOTO_PID=$!
  if ! "$PY" "$HELPER" wait-http "http://127.0.0.1:$port/moto-api/" 30; then
    echo "error: moto_server did not start; its log:" >&2
    tail -n 20 "$log" >&2
    return 1
  fi
}

# stop_pid PID: ends one process this script started (and, for a session leader, its process group).
stop_pid() {
  local pid=$1
  [ -n "$pid" ] || return 0
  kill -- "-$pid" 2>/dev/null || true
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
