#!/usr/bin/env bash
# Installs what building, running and testing subgate needs, from the package registries only
# (Debian, crates.io, npm, PyPI). Idempotent: a second run does nothing but checks.
#   scripts/setup.sh          what `make run` needs
#   scripts/setup.sh --test   plus what `make test` needs (Chromium)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/versions.env
want_test=false; [ "${1:-}" = "--test" ] && want_test=true
log() { printf '\033[1;34m[setup]\033[0m %s\n' "$*"; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# 1. Debian packages. The four rust-web packages must share one version (std sources must
#    match the compiler), so they are always installed together and never pinned to a revision
#    (the security archive keeps only the newest).
missing=()
# the compiler packages, checked by package (their versions must match each other), and
# libssl-dev: webauthn-rs checks passkey signatures with the system OpenSSL
for p in rustc-web cargo-web rust-web-src rust-web-llvm rust-web-clippy pkg-config libssl-dev ca-certificates; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# everything else by the command it provides: node may come from another packaging (NodeSource)
need() { command -v "$1" >/dev/null 2>&1 || missing+=("$2"); }
need make make; need curl curl; need node nodejs; need npm npm; need python3 python3
# php-cli: a test computes the SSO hash exactly as the PHP snippet does
$want_test && { need chromium chromium; need psql postgresql-client; need pg_isready postgresql-client; need php php-cli; }
# the virtualenvs of schemathesis (make test) and the django-oauth-toolkit benchmark need venv
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=(python3-venv)
# rust-web-llvm's /usr/bin/rust-lld needs the lld of the LLVM it was built against
if ! [ -x /usr/bin/rust-lld ] || ! /usr/bin/rust-lld -flavor wasm --version >/dev/null 2>&1; then missing+=(rust-web-llvm lld); fi
if [ ${#missing[@]} -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  llvm_v=$(apt-cache depends rust-web-llvm | sed -n 's/.*Depends: llvm-\([0-9][0-9]*\)$/\1/p' | head -n1)
  final=()
  for p in "${missing[@]}"; do [ "$p" = lld ] && p="lld-${llvm_v}"; final+=("$p"); done
  mapfile -t final < <(printf '%s\n' "${final[@]}" | sort -u)
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y --no-install-recommends "${final[@]}" "lld-${llvm_v}"
fi
dpkg-query -W -f='${Package} ${Version}\n' rustc-web cargo-web rust-web-src rust-web-llvm | sed 's/^/[setup] /'

. scripts/env.sh
rustc -V | grep -q '^rustc 1\.\(9[6-9]\|[1-9][0-9][0-9]\)' || { echo "rustc >= 1.96 expected, got: $(rustc -V)"; exit 1; }

# 2. cargo tools, each skipped when the pinned version is already in ~/.cargo/bin
installed_version() { "$1" --version 2>/dev/null | awk '{print $2}'; }
if [ "$(installed_version cargo-leptos)" != "$CARGO_LEPTOS_VERSION" ]; then
  log "installing cargo-leptos $CARGO_LEPTOS_VERSION (slow: ~30 min on 2 cores, once per machine)"
  # its own throw-away target directory: the project's stays free for the project's builds
  env -u CARGO_TARGET_DIR cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked
fi
wb_version=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/"/,"",$3); print $3; exit}' Cargo.lock)
if [ "$(installed_version wasm-bindgen)" != "$wb_version" ]; then
  log "installing wasm-bindgen-cli $wb_version (equals the wasm-bindgen crate in Cargo.lock)"
  # not --locked: its lock file pins a crate version the registry no longer serves
  env -u CARGO_TARGET_DIR cargo install wasm-bindgen-cli --version "$wb_version"
fi

# 3. npm tools: tailwindcss (CSS), binaryen (wasm-opt), @playwright/test (drives Debian's chromium),
#    redoc (the API reference page)
if ! [ -f node_modules/.package-lock.json ] || ! cmp -s package-lock.json node_modules/.subgate-lock; then
  log "installing npm packages"
  # `npm install` (not `ci`): the lock omits other platforms' optional tailwind binaries, which `ci` rejects
  npm install --no-fund --no-audit --loglevel=error
  cp package-lock.json node_modules/.subgate-lock
fi
# ReDoc for /api/docs, served by subgate itself (no CDN): from npm into the site's public files.
# Its one off-host fetch, the "API docs by Redocly" logo, becomes an empty inline image.
mkdir -p public/vendor
sed 's#https://cdn.redoc.ly/redoc/logo-mini.svg#data:image/svg+xml,%3Csvg%20xmlns=%22http://www.w3.org/2000/svg%22/%3E#' \
  node_modules/redoc/bundles/redoc.standalone.js > public/vendor/redoc.standalone.js.new
if cmp -s public/vendor/redoc.standalone.js.new public/vendor/redoc.standalone.js; then
  rm public/vendor/redoc.standalone.js.new
else
  mv public/vendor/redoc.standalone.js.new public/vendor/redoc.standalone.js
fi
log "toolchain ready"
