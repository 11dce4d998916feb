#!/usr/bin/env bash
# Property-based API testing: schemathesis (PyPI, pinned in scripts/requirements-test.txt, in a
# virtualenv under ~/.cache/subgate) generates requests from /api/openapi.json and checks every
# answer: no 5xx, only documented status codes, documented content types and headers, bodies
# that match their schemas. Against a real server (SQLite, simulated Stripe) seeded over HTTP by
# scripts/seed.py, authenticated with a bearer token holding every scope.
#   scripts/schemathesis.sh            (SUBGATE_BIN overrides the server binary; ST_EXAMPLES the
#                                       number of cases per operation, default 60)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
log() { printf '\033[1;34m[schemathesis]\033[0m %s\n' "$*"; }

venv=$(scripts/test-venv.sh)

bin="${SUBGATE_BIN:-$CARGO_TARGET_DIR/debug/subgate}"
[ -x "$bin" ] || { echo "no server binary at $bin (cargo build --features ssr --bin subgate)"; exit 1; }
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
LEPTOS_SITE_ADDR="127.0.0.1:$port" LEPTOS_SITE_ROOT=target/site LEPTOS_SITE_PKG_DIR=pkg \
  LEPTOS_OUTPUT_NAME=subgate SUBGATE_DATA_DIR="$work/data" RUST_LOG=warn \
  "$bin" serve >"$work/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 150); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.2; done
seed=$(scripts/seed.py "$base")
token=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])' <<<"$seed")

log "running against $base"
set +e
"$venv/bin/st" run "$base/api/openapi.json" \
  --header "Authorization: Bearer $token" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
  --max-examples "${ST_EXAMPLES:-60}" \
  --phases examples,coverage,fuzzing \
  --generation-deterministic \
  --request-timeout 10 \
  --workers 2 \
  --suppress-health-check all \
  --report junit --report-dir "$work/report" \
  --no-color 2>&1 | tee "$work/st.out"
status=${PIPESTATUS[0]}
set -e
if [ "$status" != 0 ]; then
  log "failed; the server's log:"; tail -n 50 "$work/server.log"
fi
exit "$status"
