# `make run` and `make test` work on a fresh Debian 12 machine: each installs what is missing.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
ENV := source scripts/env.sh &&

.PHONY: run test bench setup build check fmt lint e2e clean-test-databases stripe-smoke

## run: install what is missing, build in release mode, serve on http://127.0.0.1:3000 (SQLite under data/)
run:
	scripts/setup.sh
	$(ENV) cargo leptos build --release --precompress --split
	$(ENV) LEPTOS_SITE_ROOT=target/site LEPTOS_SITE_PKG_DIR=pkg LEPTOS_OUTPUT_NAME=subgate \
	  exec "$$CARGO_TARGET_DIR/release/subgate" serve

## test: the whole suite: `make check`, the Rust tests on PostgreSQL, then `make e2e`
test:
	scripts/test.sh all

## check: the fast inner loop: fmt, clippy, the Rust tests on SQLite
check:
	scripts/test.sh check

## e2e: browser bundle and server, Playwright in Chromium, the published clients' probe, schemathesis
e2e:
	scripts/test.sh e2e

## bench: release build against a bare axum ceiling and django-oauth-toolkit, on SQLite and PostgreSQL
bench:
	scripts/setup.sh
	scripts/bench.sh

setup:
	scripts/setup.sh --test

## build: debug build of server and browser bundle
build:
	$(ENV) cargo leptos build --split

fmt:
	$(ENV) cargo fmt

lint:
	scripts/test.sh lint

clean-test-databases:
	scripts/test.sh --clean-databases-only

## stripe-smoke: the real Stripe calls once in test mode (STRIPE_SECRET_KEY=sk_test_…, STRIPE_SMOKE_ACCOUNT=acct_…); skipped without them; never part of `make test`
stripe-smoke:
	scripts/stripe-smoke.sh
