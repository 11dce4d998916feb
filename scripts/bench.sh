#!/usr/bin/env bash
# `make bench`: a release build on loopback, bounded in time, against its own ceiling and the
# incumbent. For SQLite and for PostgreSQL, with wrk (Debian's): requests/s, p50/p99 latency,
# errors and the server's peak RSS for
#   1. POST /o/token/ (client credentials)
#   2. GET /api/customers/{id}/subscriptions with a bearer token (from the mirror)
#   3. POST /api/v1/stores/{store}/subscribers/{id}/login (SSO)
#   4. GET /dashboard/oauth for a logged-in merchant (SSR)
#   5. a bare axum "hello" (`subgate bench-hello`, same binary): the ceiling, printed as ratios
#   with GET /healthz (the middleware alone) and GET /readyz (plus one `SELECT 1`): what the
#   stack and a single database round trip allow
# then p99 of (1) and (2) at half of their peak rate (hey, rate-limited), idle RSS, the
# django-oauth-toolkit + DRF comparison (PyPI, throw-away virtualenv, gunicorn with one worker
# per core; its default PBKDF2-hashed client secret and one stored with hash_client_secret=False)
# and the hydrate wasm size against its budget.
#   scripts/bench.sh [sqlite|postgres|all]   (default all; BENCH_SECS, BENCH_CONNECTIONS,
#                                             SUBGATE_BIN to skip the build, BENCH_DOT=0 to skip DOT)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
which="${1:-all}"
secs="${BENCH_SECS:-10}"
conns="${BENCH_CONNECTIONS:-32}"
need=()
command -v wrk >/dev/null || need+=(wrk)
command -v hey >/dev/null || need+=(hey)
command -v jq >/dev/null || need+=(jq)
if [ ${#need[@]} -gt 0 ]; then
  echo "[bench] installing ${need[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

if [ -n "${SUBGATE_BIN:-}" ]; then
  bin=$SUBGATE_BIN   # e.g. a debug build, for a quick look (figures are then not release figures)
else
  echo "[bench] building the release server and browser bundle (cargo leptos build --release --precompress --split)"
  cargo leptos build --release --precompress --split >/dev/null
  bin="$CARGO_TARGET_DIR/release/subgate"
fi
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() { for _ in $(seq 300); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done; echo "[bench] $1 did not come up"; exit 1; }

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

last_rps=0
run() { # label pid base [connections]
  local label=$1 pid=$2 base=$3 c=${4:-$conns} out rps p50 p99 errs rss
  out=$(wrk -t2 -c"$c" -d"${secs}s" --timeout 5s -s "$work/run.lua" "$base" 2>&1 | grep '^RESULT' || true)
  read -r _ rps p50 p99 errs <<<"$out"
  rss=$(awk '/VmHWM/ {printf "%.1f", $2/1024}' "/proc/$pid/status")
  last_rps=${rps:-0}
  printf '%-44s %9s req/s   p50 %7s ms   p99 %7s ms   errors %5s   peak RSS %6s MB\n' "$label" "$rps" "$p50" "$p99" "$errs" "$rss"
}

ratio() { python3 -c "import sys; a,b=float(sys.argv[1]),float(sys.argv[2]); print(f'{a/b:.2f}' if b else 'n/a')" "$1" "$2"; }

# p99 at a fixed rate (hey, 16 workers, each rate-limited): the latency a server shows when it
# is not saturated
at_rate() { # label rate url method body header...
  local label=$1 rate=$2 url=$3 method=$4 body=$5; shift 5
  local per=$(( (rate + 15) / 16 )) args=()
  for h in "$@"; do args+=(-H "$h"); done
  [ -n "$body" ] && args+=(-d "$body")
  local out p50 p99
  out=$(hey -z "${secs}s" -c 16 -q "$per" -m "$method" "${args[@]}" "$url" 2>&1)
  p50=$(awk '/ 50% in/ {printf "%.2f", $3*1000}' <<<"$out")
  p99=$(awk '/ 99% in/ {printf "%.2f", $3*1000}' <<<"$out")
  printf '%-44s %9s req/s   p50 %7s ms   p99 %7s ms   (target p99 < 5 ms)\n' "$label" "$((per * 16))" "$p50" "$p99"
}

# the ceiling: a bare axum handler, same binary, same machine, same run
port=$(free_port)
"$bin" bench-hello --addr "127.0.0.1:$port" >/dev/null 2>&1 &
hello_pid=$!
wait_up "http://127.0.0.1:$port/"
lua GET / ""
echo "== ceiling: bare axum hello ($conns connections, ${secs}s)"
run "GET / (axum hello)" "$hello_pid" "http://127.0.0.1:$port"
ceiling=$last_rps
kill "$hello_pid"; wait "$hello_pid" 2>/dev/null || true

bench_backend() { # name database_url
  local name=$1 url=$2 port pid seed base
  port=$(free_port)
  base="http://127.0.0.1:$port"
  DATABASE_URL="$url" LEPTOS_SITE_ADDR="127.0.0.1:$port" LEPTOS_SITE_ROOT=target/site \
    LEPTOS_SITE_PKG_DIR=pkg LEPTOS_OUTPUT_NAME=subgate SUBGATE_DATA_DIR="$work/$name" RUST_LOG=error \
    "$bin" serve >"$work/$name.log" 2>&1 &
  pid=$!
  wait_up "$base/healthz"
  sleep 1
  local idle
  idle=$(awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$pid/status")
  seed=$(scripts/seed.py "$base")
  local token store secret client_id client_secret cookie sid hash basic
  token=$(jq -r .token <<<"$seed"); store=$(jq -r .store <<<"$seed"); secret=$(jq -r .sso_secret <<<"$seed")
  client_id=$(jq -r .client_id <<<"$seed"); client_secret=$(jq -r .client_secret <<<"$seed")
  cookie=$(jq -r .session_cookie <<<"$seed"); sid=$(jq -r '.subscribers[0]' <<<"$seed")
  hash=$(printf '%s' "$sid" | openssl dgst -sha256 -hmac "$secret" -hex | sed 's/.* //')
  basic=$(printf '%s:%s' "$client_id" "$client_secret" | base64 -w0)
  echo "== subgate on $name (idle RSS ${idle} MB, target < 40 MB; $conns connections, ${secs}s each)"
  # what the token run leaves in the tables, and what one sweep takes out once its tokens expired
  rows() { DATABASE_URL="$url" SUBGATE_DATA_DIR="$work/$name" RUST_LOG=error "$bin" "$@" 2>/dev/null; }
  echo "   rows before the token run: $(rows table-sizes)"
  lua POST /o/token/ "grant_type=client_credentials" "Authorization: Basic $basic" "Content-Type: application/x-www-form-urlencoded"
  run "POST /o/token/ client_credentials" "$pid" "$base"
  local token_rps=$last_rps
  echo "   rows after the token run:  $(rows table-sizes)"
  lua GET "/api/customers/$sid/subscriptions" "" "Authorization: Bearer $token"
  run "GET /api/customers/{id}/subscriptions" "$pid" "$base"
  local read_rps=$last_rps
  lua POST "/api/v1/stores/$store/subscribers/$sid/login" "{\"customer_hash\":\"$hash\"}" "Content-Type: application/json"
  run "POST SSO login" "$pid" "$base"
  lua GET /dashboard/oauth "" "Cookie: $cookie" "Accept: text/html"
  run "GET /dashboard/oauth (SSR)" "$pid" "$base"
  # what subgate's middleware costs on its own, and with one trip to the database added
  lua GET /healthz ""
  run "GET /healthz (middleware, no database)" "$pid" "$base"
  local stack_rps=$last_rps
  lua GET /readyz ""
  run "GET /readyz (middleware + one SELECT 1)" "$pid" "$base"
  local floor_rps=$last_rps
  echo "   token issuance / ceiling: $(ratio "$token_rps" "$ceiling") (target >= 0.25)"
  echo "   bearer read / ceiling:    $(ratio "$read_rps" "$ceiling") (target >= 0.40)"
  echo "   middleware alone / ceiling:   $(ratio "$stack_rps" "$ceiling")"
  echo "   one SELECT 1 / ceiling:       $(ratio "$floor_rps" "$ceiling") (the most a request that asks the database can reach)"
  at_rate "token at half its peak rate" "$((token_rps / 2))" "$base/o/token/" POST "grant_type=client_credentials" \
    "Authorization: Basic $basic" "Content-Type: application/x-www-form-urlencoded"
  at_rate "bearer read at half its peak rate" "$((read_rps / 2))" "$base/api/customers/$sid/subscriptions" GET "" \
    "Authorization: Bearer $token"
  kill "$pid"; wait "$pid" 2>/dev/null || true
  echo "   one sweep as of two hours later (the tokens expired): deleted $(rows sweep --at $(( $(date +%s) + 7200 )))"
  echo "   rows after that sweep:     $(rows table-sizes)"
  if [ "$name" = sqlite ]; then sqlite_token_rps=$token_rps; sqlite_read_rps=$read_rps; fi
}

sqlite_token_rps=0; sqlite_read_rps=0
if [ "$which" = all ] || [ "$which" = sqlite ]; then
  bench_backend sqlite "sqlite://$work/bench.db?mode=rwc"
fi
if [ "$which" = all ] || [ "$which" = postgres ]; then
  db="subgate_bench_$$"
  psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $db" >/dev/null
  bench_backend postgres "postgres://postgres@127.0.0.1:5432/$db"
  psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE $db WITH (FORCE)" >/dev/null
fi

# the incumbent: django-oauth-toolkit + Django REST Framework under gunicorn
if [ "${BENCH_DOT:-1}" = 1 ]; then
  venv="$HOME/.cache/subgate/bench-venv"
  if ! cmp -s scripts/bench/requirements-dot.txt "$venv/.requirements" 2>/dev/null; then
    echo "[bench] installing django-oauth-toolkit into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check -r scripts/bench/requirements-dot.txt
    cp scripts/bench/requirements-dot.txt "$venv/.requirements"
  fi
  export DOT_DATA_DIR="$work/dot" PYTHONPATH="$PWD/scripts/bench"
  mkdir -p "$DOT_DATA_DIR"
  apps=$("$venv/bin/python" -m dotbench.setup_apps)
  port=$(free_port)
  "$venv/bin/gunicorn" -w "$(nproc)" -b "127.0.0.1:$port" --log-level warning dotbench.wsgi >"$work/dot.log" 2>&1 &
  dot_pid=$!
  dot="http://127.0.0.1:$port"
  wait_up "$dot/o/token/"
  basic_of() { printf '%s:%s' "$(jq -r ".$1.client_id" <<<"$apps")" "$(jq -r ".$1.client_secret" <<<"$apps")" | base64 -w0; }
  dot_token=$(curl -s -u "$(jq -r .unhashed.client_id <<<"$apps"):$(jq -r .unhashed.client_secret <<<"$apps")" \
    -d grant_type=client_credentials -d scope=read "$dot/o/token/" | jq -r .access_token)
  echo "== django-oauth-toolkit $(grep -i '^django-oauth-toolkit' scripts/bench/requirements-dot.txt | cut -d= -f3) + DRF, gunicorn -w $(nproc) (peak RSS: the master)"
  lua POST /o/token/ "grant_type=client_credentials&scope=read" "Authorization: Basic $(basic_of unhashed)" "Content-Type: application/x-www-form-urlencoded"
  run "DOT POST /o/token/ (hash_client_secret=False)" "$dot_pid" "$dot"
  dot_unhashed=$last_rps
  lua POST /o/token/ "grant_type=client_credentials&scope=read" "Authorization: Basic $(basic_of hashed)" "Content-Type: application/x-www-form-urlencoded"
  run "DOT POST /o/token/ (default: PBKDF2 secret)" "$dot_pid" "$dot" 4
  dot_hashed=$last_rps
  lua GET /api/customers/user-1/subscriptions "" "Authorization: Bearer $dot_token"
  run "DRF GET bearer-protected view" "$dot_pid" "$dot"
  dot_read=$last_rps
  kill "$dot_pid"; wait "$dot_pid" 2>/dev/null || true
  if [ "$sqlite_token_rps" != 0 ]; then
    echo "   subgate (SQLite) / DOT token issuance, unhashed: $(ratio "$sqlite_token_rps" "$dot_unhashed") (target >= 50)"
    echo "   subgate (SQLite) / DOT token issuance, default:  $(ratio "$sqlite_token_rps" "$dot_hashed")"
    echo "   subgate (SQLite) / DRF bearer read:              $(ratio "$sqlite_read_rps" "$dot_read")"
  fi
fi

# the bundle's names carry content hashes (hash-files); the newest build's is the one
wasm=$(ls -t target/site/pkg/subgate*.wasm 2>/dev/null | head -n1 || true)
if [ -n "$wasm" ] && [ -f "$wasm" ]; then
  raw=$(stat -c %s "$wasm"); gz=$(gzip -9c "$wasm" | wc -c)
  built_by="cargo leptos build --release --split, just now"
  # with SUBGATE_BIN nothing is built here: the bundle is whatever was built last, maybe debug
  [ -n "${SUBGATE_BIN:-}" ] && built_by="the last cargo leptos build, which may have been a debug build"
  printf '== hydrate wasm: %s KB raw, %s KB gzip (budget 250 KB gzip; %s)\n' "$((raw / 1024))" "$((gz / 1024))" "$built_by"
else
  echo "== hydrate wasm: not built (no target/site/pkg/subgate*.wasm; cargo leptos build --release)"
fi
if [ -n "$wasm" ] && [ -f "$wasm.br" ]; then
  printf '== precompressed: wasm %s KB br, %s KB gz; js %s KB br; css %s KB br\n' \
    "$(( $(stat -c %s "$wasm.br") / 1024 ))" "$(( $(stat -c %s "$wasm.gz") / 1024 ))" \
    "$(( $(stat -c %s "$(ls -t target/site/pkg/subgate*.js.br | head -n1)") / 1024 ))" \
    "$(( $(stat -c %s "$(ls -t target/site/pkg/subgate*.css.br | head -n1)") / 1024 ))"
fi

# the browser's view: what a first and a repeat visit transfer, and how soon the page works
port=$(free_port)
DATABASE_URL="sqlite://$work/browser.db?mode=rwc" LEPTOS_SITE_ADDR="127.0.0.1:$port" LEPTOS_SITE_ROOT=target/site \
  LEPTOS_SITE_PKG_DIR=pkg LEPTOS_OUTPUT_NAME=subgate SUBGATE_DATA_DIR="$work/browser" RUST_LOG=error \
  "$bin" serve >"$work/browser.log" 2>&1 &
browser_pid=$!
wait_up "http://127.0.0.1:$port/healthz"
node scripts/bench_browser.mjs "http://127.0.0.1:$port" || echo "[bench] the browser run failed (see above)"
kill "$browser_pid"; wait "$browser_pid" 2>/dev/null || true
