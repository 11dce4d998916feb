#!/usr/bin/env bash
# The test suite in stages; `make test` and CI run them all, in this order:
#   lint       formatting and clippy (server and browser code)
#   check      lint, then the Rust tests on SQLite: the fast inner loop (`make check`)
#   postgres   the Rust tests on the local PostgreSQL, then the fault test that restarts it
#   e2e        the browser bundle and server, Playwright in Debian's Chromium, the published
#              clients' probe (end2end/probe.py), schemathesis (`make e2e`)
#   scripts/test.sh [lint|check|postgres|e2e|all]   (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
PG_ADMIN_URL=${SUBGATE_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
export SUBGATE_TEST_PG_URL=$PG_ADMIN_URL

step() { printf '\n\033[1;34m==> %s\033[0m\n' "$*"; }
drop_test_databases() {
  psql "$PG_ADMIN_URL" -Atqc "SELECT datname FROM pg_database WHERE datname LIKE 'subgate\_test\_%'" 2>/dev/null |
    while read -r db; do psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null; done
}
if [ "${1:-}" = "--clean-databases-only" ]; then drop_test_databases; exit 0; fi
stage=${1:-all}
case "$stage" in lint|check|postgres|e2e|all) ;; *) echo "usage: $0 [lint|check|postgres|e2e|all]"; exit 2;; esac

step "setup"
scripts/setup.sh --test
source scripts/env.sh
start=$SECONDS

# Room to build. CI once stopped at "No space left on device" while linking: it runs on the
# machine a session leaves behind, whose disk other work may have filled. What cargo can rebuild
# cheaply (incremental caches, stale test binaries) goes first when less than 10 GB are free.
make_room() {
  mkdir -p "$CARGO_TARGET_DIR"
  free_mb() { df -Pm "$CARGO_TARGET_DIR" | awk 'NR==2 {print $4}'; }
  if [ "$(free_mb)" -lt 10240 ]; then
    echo "only $(free_mb) MB free under $CARGO_TARGET_DIR: removing incremental caches"
    find "$CARGO_TARGET_DIR" -maxdepth 4 -type d -name incremental -prune -exec rm -rf {} +
  fi
  if [ "$(free_mb)" -lt 10240 ]; then
    echo "still $(free_mb) MB: removing this project's own build outputs (dependencies stay)"
    find "$CARGO_TARGET_DIR" -maxdepth 4 \( -name 'subgate-*' -o -name 'libsubgate-*' -o -name 'api-*' \) \
      -path '*/deps/*' -exec rm -rf {} +
  fi
  echo "disk: $(free_mb) MB free for $CARGO_TARGET_DIR ($(du -sm "$CARGO_TARGET_DIR" | cut -f1) MB in it)"
}
make_room

lint() {
  step "format and lint"
  cargo fmt --check
  cargo clippy --features ssr --all-targets -- -D warnings
  cargo clippy --lib --features hydrate -- -D warnings
}

sqlite_tests() {
  step "Rust tests on SQLite"
  # the mail tests send to a real SMTP server (aiosmtpd) run by the test venv's Python
  SUBGATE_TEST_PYTHON="$(scripts/test-venv.sh)/bin/python" SUBGATE_TEST_DB=sqlite cargo test --features ssr
}

postgres_tests() {
  step "PostgreSQL at ${PG_ADMIN_URL}"
  if ! pg_isready -q -d "$PG_ADMIN_URL"; then
    echo "PostgreSQL is not answering; trying to start the local cluster"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n1)" main start || true
    for _ in $(seq 1 20); do pg_isready -q -d "$PG_ADMIN_URL" && break; sleep 0.5; done
  fi
  pg_isready -d "$PG_ADMIN_URL"
  drop_test_databases
  trap drop_test_databases EXIT
  step "Rust tests on PostgreSQL"
  SUBGATE_TEST_PYTHON="$(scripts/test-venv.sh)/bin/python" SUBGATE_TEST_DB=postgres cargo test --features ssr --test api
  step "fault test: PostgreSQL restarted under load (alone: it cuts every connection)"
  # a hundred test databases make the shutdown checkpoint slow enough to outlast pg_ctl's wait
  drop_test_databases
  SUBGATE_TEST_DB=postgres cargo test --features ssr --test api -- --ignored --test-threads=1
}

e2e() {
  step "browser bundle and server for the end-to-end tests"
  cargo leptos build --split
  # a release build's bundle is precompressed by cargo-leptos (--precompress); a debug one's
  # gzip twins are written here, so the tests see the encoding a browser is served
  find target/site/pkg -type f \( -name '*.wasm' -o -name '*.js' -o -name '*.css' \) -exec gzip -6 -kf {} \;
  step "Playwright end-to-end tests (Chromium)"
  E2E_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  E2E_SMTP_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  E2E_DIR=$(mktemp -d /tmp/subgate-e2e.XXXXXX)
  # the published clients' own runtimes: Flask (recursiv), node and php (Recurpay), curl (Riverty)
  E2E_PYTHON="$(scripts/test-venv.sh)/bin/python"
  export E2E_PORT E2E_SMTP_PORT E2E_DIR E2E_PYTHON SUBGATE_BIN="$CARGO_TARGET_DIR/debug/subgate"
  npx playwright test --config end2end/playwright.config.ts
  rm -rf "$E2E_DIR"

  step "published clients and issues 14 and 15 against a Stripe simulator in its own process (end2end/probe.py)"
  "$E2E_PYTHON" end2end/probe.py "$SUBGATE_BIN"

  step "schemathesis against /api/openapi.json"
  scripts/schemathesis.sh
}

case "$stage" in
  lint) lint ;;
  check) lint; sqlite_tests ;;
  postgres) postgres_tests ;;
  e2e) e2e ;;
  all) lint; sqlite_tests; postgres_tests; e2e ;;
esac
step "$stage: passed in $((SECONDS - start)) s"
