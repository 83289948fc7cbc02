#!/usr/bin/env bash
# A local Amazon SES for `make watch` (`make local-ses`): moto's server on 127.0.0.1:PORT (default 5005, the
# endpoint watch.env points the function at) with the sender identity of watch.env already verified.
# Runs in the foreground until Ctrl-C. Sent alerts: curl -s http://127.0.0.1:PORT/moto-api/data.json
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
. scripts/lambda-lib.sh

PORT=${1:-5005}
SENDER=$(sed -n 's/^ALERT_SENDER=//p' watch.env | tr -d '"' | head -n 1)
SENDER=${SENDER:-profile-guard@example.com}

LOG=$(mktemp "${TMPDIR:-/tmp}/profile-guard-moto.XXXXXX")
MOTO_PID=
trap 'stop_pid "$MOTO_PID"; rm -f "$LOG"' EXIT
trap 'exit 0' INT TERM

start_moto "$PORT" "$LOG"
"$PY" "$HELPER" create-identity "http://127.0.0.1:$PORT" "$SENDER"
echo "local SES (moto) on http://127.0.0.1:$PORT -- Ctrl-C to stop"
echo "  messages sent: curl -s http://127.0.0.1:$PORT/moto-api/data.json | $PY -m json.tool"
wait "$MOTO_PID"
