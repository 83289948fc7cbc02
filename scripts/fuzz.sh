#!/usr/bin/env bash
# Fuzzes the request path with cargo-fuzz (libFuzzer). Not part of `make test`: it needs the nightly toolchain
# and runs for as long as it is told. See docs/fuzzing.md.
#
#   scripts/fuzz.sh                    # both targets, 60 s each, one after the other
#   scripts/fuzz.sh router 300         # one target for 300 s
#   scripts/fuzz.sh parse_request 60 -- -max_len=16384    # extra libFuzzer options after --
#   scripts/fuzz.sh corpus             # only (re)write the seed corpus
#
# Targets: parse_request, router, all (default). Knobs (environment):
#   FUZZ_TARGET, FUZZ_SECONDS   the same as the two arguments (arguments win); FUZZ_SECONDS=0 runs until stopped
#   FUZZ_TIMEOUT                libFuzzer's per-input time limit in seconds (default 10: the guard's own deadline
#                               is 2.5 s, so an input that takes longer is a hang worth a report)
#   FUZZ_SANITIZER              address (default), none (faster), ... as `cargo fuzz run -s`
#   FUZZ_CONFORMANCE_DIR        where the WSO2 conformance requests are (default tests/fixtures/wso2)
#   CARGO_BUILD_JOBS            how many compiler jobs the build uses (cargo's own variable)
#
# Seeds: fuzz/corpus/TARGET/ gets every events/bodies/*.json, the body of every events/*.json API Gateway event
# (base64-decoded when isBase64Encoded) and every request in the conformance directory (files with an
# `actionType`). Inputs libFuzzer found in earlier runs stay in the corpus; delete fuzz/corpus to start over.
# A crash is written to fuzz/artifacts/TARGET/ and the script exits non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."

TARGETS=(parse_request router)
target=${FUZZ_TARGET:-all}
seconds=${FUZZ_SECONDS:-60}
if [[ $# -gt 0 && $1 != -- ]]; then target=$1; shift; fi
if [[ $# -gt 0 && $1 != -- ]]; then seconds=$1; shift; fi
if [[ $# -gt 0 && $1 == -- ]]; then shift; fi
extra=("$@")

case $target in
  all) run=("${TARGETS[@]}") ;;
  parse_request | router | corpus) run=("$target") ;;
  -h | --help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "fuzz.sh: unknown target '$target' (parse_request, router, all, corpus)" >&2; exit 2 ;;
esac
if ! [[ $seconds =~ ^[0-9]+$ ]]; then
  echo "fuzz.sh: the duration must be a whole number of seconds, not '$seconds'" >&2
  exit 2
fi

conformance=${FUZZ_CONFORMANCE_DIR:-tests/fixtures/wso2}

# Writes the seeds into each directory given, one file per distinct body, named by its SHA-1 as libFuzzer does.
write_seeds() {
  python3 - "$conformance" "$@" <<'PY'
import base64, glob, hashlib, json, os, sys

conformance, outs = sys.argv[1], sys.argv[2:]
seeds = {}

def add(origin, body):
    if isinstance(body, str):
        body = body.encode()
    seeds.setdefault(hashlib.sha1(body).hexdigest(), (origin, body))

for path in sorted(glob.glob("events/bodies/*.json")):
    with open(path, "rb") as f:
        add(path, f.read())
for path in sorted(glob.glob("events/*.json")):
    if path.endswith(".expected.json"):
        continue
    with open(path) as f:
        event = json.load(f)
    body = event.get("body")
    if body is None:
        continue
    add(path, base64.b64decode(body) if event.get("isBase64Encoded") else body)
requests = 0
for path in sorted(glob.glob(os.path.join(conformance, "*.json"))):
    with open(path, "rb") as f:
        raw = f.read()
    try:
        doc = json.loads(raw)
    except ValueError:
        continue
    if isinstance(doc, dict) and "actionType" in doc:
        add(os.path.basename(path), raw)
        requests += 1
if requests == 0:
    print(f"fuzz.sh: no conformance requests under {conformance} (set FUZZ_CONFORMANCE_DIR); "
          "seeding from events/ only", file=sys.stderr)

for out in outs:
    os.makedirs(out, exist_ok=True)
    for name, (_, body) in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(body)
print(f"fuzz.sh: {len(seeds)} seed bodies ({requests} from the conformance data) in {', '.join(outs)}",
      file=sys.stderr)
PY
}

if [[ $target == corpus ]]; then
  write_seeds "${TARGETS[@]/#/fuzz/corpus/}"
  exit 0
fi

if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "fuzz.sh: the nightly toolchain is needed: rustup toolchain install nightly" >&2
  exit 1
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz.sh: installing cargo-fuzz (cargo install cargo-fuzz --locked)" >&2
  cargo install cargo-fuzz --locked
fi

for t in "${run[@]}"; do
  corpus=fuzz/corpus/$t
  write_seeds "$corpus"
  args=(-max_total_time="$seconds" -timeout="${FUZZ_TIMEOUT:-10}" -print_final_stats=1)
  [[ -f fuzz/action.dict ]] && args+=(-dict=fuzz/action.dict)
  echo "fuzz.sh: cargo +nightly fuzz run $t $corpus -- ${args[*]} ${extra[*]}" >&2
  cargo +nightly fuzz run -s "${FUZZ_SANITIZER:-address}" "$t" "$corpus" -- "${args[@]}" "${extra[@]}"
done
