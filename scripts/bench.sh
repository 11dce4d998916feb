#!/usr/bin/env bash
# Benchmarks a release build on loopback with wrk (Debian's), bounded in time: for SQLite and
# PostgreSQL, requests/s, p50/p99 latency, errors and the server's peak RSS for
#   1. POST /o/token/ (client credentials)
#   2. GET /api/customers/{id}/subscriptions with a bearer token (from the mirror)
#   3. POST /api/v1/stores/{store}/subscribers/{id}/login (SSO)
#   4. GET /dashboard/oauth for a logged-in merchant (SSR)
#   scripts/bench.sh [sqlite|postgres|all]   (default all; BENCH_SECS, BENCH_CONNECTIONS, SUBGATE_BIN)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
which="${1:-all}"
secs="${BENCH_SECS:-10}"
conns="${BENCH_CONNECTIONS:-32}"
command -v wrk >/dev/null || { echo "[bench] installing wrk"; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }

if [ -n "${SUBGATE_BIN:-}" ]; then
  bin=$SUBGATE_BIN   # e.g. a debug build, for a quick look (figures are then not release figures)
else
  echo "[bench] building the release server"
  cargo build --release --features ssr --bin subgate -q
  bin="$CARGO_TARGET_DIR/release/subgate"
fi
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# wrk's Lua: one request shape per run
lua() { # method path body header...
  local method=$1 path=$2 body=$3; shift 3
  {
    echo "wrk.method = \"$method\""
    echo "wrk.path = \"$path\""
    [ -n "$body" ] && printf 'wrk.body = %s\n' "$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$body")"
    for h in "$@"; do
      printf 'wrk.headers[%s] = %s\n' "$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1].split(": ",1)[0]))' "$h")" \
        "$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1].split(": ",1)[1]))' "$h")"
    done
    cat <<'EOF'
done = function(summary, latency, requests)
  io.write(string.format("RESULT %.0f %.2f %.2f %d\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout))
end
EOF
  } > "$work/run.lua"
}

run() { # label pid
  local label=$1 pid=$2 out
  out=$(wrk -t2 -c"$conns" -d"${secs}s" --timeout 5s -s "$work/run.lua" "$base" 2>&1 | grep '^RESULT' || true)
  read -r _ rps p50 p99 errs <<<"$out"
  local rss
  rss=$(awk '/VmHWM/ {printf "%.1f", $2/1024}' "/proc/$pid/status")
  printf '%-40s %10s req/s   p50 %7s ms   p99 %7s ms   errors %6s   peak RSS %6s MB\n' "$label" "$rps" "$p50" "$p99" "$errs" "$rss"
}

bench_backend() { # name database_url
  local name=$1 url=$2 port pid seed
  port=$(free_port)
  base="http://127.0.0.1:$port"
  DATABASE_URL="$url" LEPTOS_SITE_ADDR="127.0.0.1:$port" LEPTOS_SITE_ROOT=target/site \
    LEPTOS_SITE_PKG_DIR=pkg LEPTOS_OUTPUT_NAME=subgate SUBGATE_DATA_DIR="$work/$name" RUST_LOG=error \
    "$bin" serve >"$work/$name.log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done
  local idle
  idle=$(awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$pid/status")
  seed=$(scripts/seed.py "$base")
  local token store secret client_id client_secret cookie sid hash basic
  token=$(jq -r .token <<<"$seed"); store=$(jq -r .store <<<"$seed"); secret=$(jq -r .sso_secret <<<"$seed")
  client_id=$(jq -r .client_id <<<"$seed"); client_secret=$(jq -r .client_secret <<<"$seed")
  cookie=$(jq -r .session_cookie <<<"$seed"); sid=$(jq -r '.subscribers[0]' <<<"$seed")
  hash=$(printf '%s' "$sid" | openssl dgst -sha256 -hmac "$secret" -hex | sed 's/.* //')
  basic=$(printf '%s:%s' "$client_id" "$client_secret" | base64 -w0)
  echo "== $name (idle RSS ${idle} MB, $conns connections, ${secs}s each)"
  lua POST /o/token/ "grant_type=client_credentials" "Authorization: Basic $basic" "Content-Type: application/x-www-form-urlencoded"
  run "POST /o/token/ client_credentials" "$pid"
  lua GET "/api/customers/$sid/subscriptions" "" "Authorization: Bearer $token"
  run "GET /api/customers/{id}/subscriptions" "$pid"
  lua POST "/api/v1/stores/$store/subscribers/$sid/login" "{\"customer_hash\":\"$hash\"}" "Content-Type: application/json"
  run "POST SSO login" "$pid"
  lua GET /dashboard/oauth "" "Cookie: $cookie" "Accept: text/html"
  run "GET /dashboard/oauth (SSR)" "$pid"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

command -v jq >/dev/null || { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq jq >/dev/null; }
if [ "$which" = all ] || [ "$which" = sqlite ]; then
  bench_backend sqlite "sqlite://$work/bench.db?mode=rwc"
fi
if [ "$which" = all ] || [ "$which" = postgres ]; then
  db="subgate_bench_$$"
  psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $db" >/dev/null
  bench_backend postgres "postgres://postgres@127.0.0.1:5432/$db"
  psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE $db WITH (FORCE)" >/dev/null
fi
