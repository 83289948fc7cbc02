# profile-guard: `make run` serves it locally with embedded defaults; `make test` runs every check.
# Python tools (moto's server, cfn-lint, SAM CLI, cargo-lambda) are installed on first use into .venv/, and the
# browser test's Chromium (Debian's chromium and chromium-driver) with apt-get when missing.

SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: help run okta-log-stub check configure test venv fmt-check clippy tools-and-clippy test-build unit-tests integration-tests events fuzz

# The settings `make configure` wrote for this machine, when there are any: `make run` and `make check` use them.
LOCAL_ENV = set -a; if [ -f .env ]; then . ./.env; fi; set +a

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*## "}{printf "  make %-18s %s\n",$$1,$$2}'

venv: $(VENV)/.installed ## install the Python tools into .venv (once)
$(VENV)/.installed: scripts/requirements-tools.txt scripts/venv.sh
	@scripts/venv.sh

# make run turns "This wasn't me" links on with a local key (never use it anywhere else), so that the notice the
# log outbox prints carries a link to open in a browser.
LOCAL_REPORT_KEY := local-report-link-key-for-make-run-only-0123456789

run: ## build and serve on 127.0.0.1:3000 with the embedded defaults (no AWS account needed)
	cargo build --bin profile-guard
	@echo "profile-guard on http://127.0.0.1:3000 -- try, from another shell:"
	@echo "  curl -s -H 'content-type: application/json' --data @events/bodies/tutorial.json http://127.0.0.1:3000/pre-update-profile"
	@echo "  curl -s -H 'content-type: application/json' --data @events/bodies/unknown-department.json http://127.0.0.1:3000/pre-update-profile"
	@echo "  curl -s -w '%{http_code}\\n' -H 'authorization: $${OKTA_HOOK_AUTH:-local-okta-secret}' -H 'content-type: application/json' --data @events/bodies/okta-self-change.json http://127.0.0.1:3000/hooks/okta"
	@echo "  then open the notice's report link (\"Wasn't you?\" in the log outbox) in a browser"
	$(LOCAL_ENV); OKTA_HOOK_AUTH="$${OKTA_HOOK_AUTH:-local-okta-secret}" \
	REPORT_URL_BASE="$${REPORT_URL_BASE:-http://$${LISTEN_ADDR:-127.0.0.1:3000}}" \
	REPORT_LINK_SECRET="$${REPORT_LINK_SECRET:-$(LOCAL_REPORT_KEY)}" \
	"$${CARGO_TARGET_DIR:-target}/debug/profile-guard"

okta-log-stub: ## a loopback Okta System Log (127.0.0.1:9009) with two missed changes, for make run's catch-up
	OKTA_LOG_PORT=$${OKTA_LOG_PORT:-9009} cargo test --test it okta::smoke::serve -- --ignored --exact --nocapture

configure: ## set up for your systems: which sources and channels, then only what they need; writes samconfig.toml and .env
	cargo build --bin profile-guard
	"$${CARGO_TARGET_DIR:-target}/debug/profile-guard" configure $(if $(ANSWERS),< $(ANSWERS))

check: ## try each configured dependency once, changing nothing (the environment, and .env when present); exit 1 when one fails
	cargo build --bin profile-guard
	$(LOCAL_ENV); "$${CARGO_TARGET_DIR:-target}/debug/profile-guard" check

test: fmt-check tools-and-clippy test-build unit-tests integration-tests lambda-checks ## every check: fmt, clippy, unit and integration tests, template lint, Lambda smoke replay

# The Python tools and the browser install (mostly waiting on downloads) while clippy compiles.
tools-and-clippy:
	@$(MAKE) --no-print-directory -j3 venv browser clippy

fmt-check:
	cargo fmt --all --check

clippy:
	cargo clippy --all-targets -- -D warnings

# Every test target, and the debug binary the smoke replay and `make run` use, built once; the steps after it only
# run them. (clippy's check build cannot be shared: it keeps metadata only, a test build needs code.) The binary has
# no unit tests of its own, so no test harness is linked for it.
test-build:
	cargo test --no-run --lib --test it
	cargo build --bin profile-guard

unit-tests:
	cargo test --lib

integration-tests: venv browser
	MOTO_SERVER=$(CURDIR)/$(VENV)/bin/moto_server cargo test --test it

fuzz: ## fuzz the request path (nightly; not part of make test): make fuzz FUZZ_TARGET=router FUZZ_SECONDS=300
	scripts/fuzz.sh $(or $(FUZZ_TARGET),router) $(or $(FUZZ_SECONDS),120)

# The scenarios live in tests/it/events/samples.rs; the e-mails of an expected file are recorded from the service
# (RECORD_EVENT_EMAILS=1 cargo test --test it events) and kept here.
events: ## regenerate events/ from the scenarios in tests/it/events/samples.rs
	cargo test --test it events::samples::write -- --ignored --exact

include mk/lambda.mk
include mk/browser.mk
-include mk/bench.mk
