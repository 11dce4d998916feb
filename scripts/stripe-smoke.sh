#!/usr/bin/env bash
# `make stripe-smoke`: the Stripe calls subgate makes, once, against Stripe's TEST mode, printing
# Stripe's answers. Needs STRIPE_SECRET_KEY=sk_test_… (and STRIPE_CLIENT_ID) and
# STRIPE_SMOKE_ACCOUNT=acct_… (a test-mode account connected to the platform). Without them it
# says so and succeeds: it is never part of `make test`. Run it before going live.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -z "${STRIPE_SECRET_KEY:-}" || -z "${STRIPE_SMOKE_ACCOUNT:-}" ]]; then
  echo "stripe-smoke: skipped (set STRIPE_SECRET_KEY=sk_test_… and STRIPE_SMOKE_ACCOUNT=acct_… to run it)"
  exit 0
fi
if [[ "$STRIPE_SECRET_KEY" != sk_test_* ]]; then
  echo "stripe-smoke: refusing a key that is not a test-mode key (sk_test_…)" >&2
  exit 1
fi
source scripts/env.sh
cargo build --features ssr --bin subgate
STRIPE_CLIENT_ID="${STRIPE_CLIENT_ID:-ca_stripe_smoke}" \
  exec "$CARGO_TARGET_DIR/debug/subgate" stripe smoke --account "$STRIPE_SMOKE_ACCOUNT"
