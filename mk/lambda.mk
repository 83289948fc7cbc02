# Lambda targets: template checks, release zip, local watch/invoke, SAM deploy, the smoke replay.
# Included by the Makefile (which puts .venv/bin on PATH). Deployment guide: docs/deploy.md.

# arm64 (Graviton, the template's default) or x86_64. Building arm64 needs `rustup target add aarch64-unknown-linux-gnu`.
ARCH ?= arm64
# Empty: cargo-lambda's default toolchain (zig), which links against a glibc old enough for provided.al2023.
# `cargo`: a plain native cargo build (x86_64 hosts only; the binary then needs the host's glibc version or older).
LAMBDA_COMPILER ?=
# Where `make watch` listens and `make invoke` sends events.
PORT ?= 9000
EVENT ?= events/tutorial.json
# The moto port of `make local-ses` (watch.env points the function's SES client at 127.0.0.1:5005).
LOCAL_SES_PORT ?= 5005

LAMBDA_ZIP = $(or $(CARGO_TARGET_DIR),target)/lambda/profile-guard/bootstrap.zip
ARCH_FLAG_arm64 := --arm64
ARCH_FLAG_x86_64 := --x86-64
check-arch = $(if $(ARCH_FLAG_$(1)),,$(error ARCH must be arm64 or x86_64, not '$(1)'))

# SAM CLI: no usage telemetry from these targets (set SAM_CLI_TELEMETRY=1 to allow it).
export SAM_CLI_TELEMETRY ?= 0
# sam validate needs a region name, nothing else; any real one will do offline.
LINT_REGION := $(or $(AWS_REGION),$(AWS_DEFAULT_REGION),us-east-1)

# After the first guided deploy, samconfig.toml records the stack's Architecture parameter; sam build must
# compile for that same architecture.
SAMCONFIG_ARCH = $(shell sed -nE 's/.*Architecture=[\\"]*(arm64|x86_64).*/\1/p' samconfig.toml 2>/dev/null | head -n 1)
DEPLOY_ARCH = $(or $(SAMCONFIG_ARCH),$(ARCH))
STACK ?= $(or $(shell sed -nE 's/^stack_name *= *"([^"]+)".*/\1/p' samconfig.toml 2>/dev/null | head -n 1),profile-guard)

.PHONY: lambda-checks template-lint build watch invoke local-ses deploy logs smoke check-deployed

lambda-checks: template-lint smoke ## template lint + Lambda smoke replay (part of make test)

template-lint: venv ## cfn-lint and sam validate --lint on template.yaml (offline, no AWS credentials needed)
	cfn-lint template.yaml
	AWS_DEFAULT_REGION=$(LINT_REGION) sam validate --lint --template-file template.yaml

build: venv ## release Lambda zip: ARCH=arm64 (default) or ARCH=x86_64; prints its path and size
	$(call check-arch,$(ARCH))
	cargo lambda build --release --output-format zip $(ARCH_FLAG_$(ARCH)) $(if $(LAMBDA_COMPILER),--compiler $(LAMBDA_COMPILER))
	@test -f $(LAMBDA_ZIP) || { echo "error: $(LAMBDA_ZIP) was not written" >&2; exit 1; }
	@bytes=$$(wc -c < $(LAMBDA_ZIP) | tr -d ' '); \
	  echo "$(LAMBDA_ZIP) ($(ARCH)): $$bytes bytes ($$(( (bytes + 1023) / 1024 )) KiB)"

watch: venv ## run the function under cargo lambda watch on 127.0.0.1:PORT (9000) with watch.env; start make local-ses first
	cargo lambda watch --invoke-address 127.0.0.1 --invoke-port $(PORT) --env-file watch.env

invoke: venv ## send one API Gateway event to make watch: make invoke EVENT=events/unknown-department.json
	cargo lambda invoke --invoke-address 127.0.0.1 --invoke-port $(PORT) --data-file $(EVENT)

local-ses: venv ## a local SES (moto) on 127.0.0.1:5005 for make watch, its sender already verified
	scripts/lambda-local-ses.sh $(LOCAL_SES_PORT)

deploy: venv ## sam build + sam deploy (guided the first time, which writes samconfig.toml); see docs/deploy.md
	$(call check-arch,$(DEPLOY_ARCH))
	$(if $(and $(SAMCONFIG_ARCH),$(filter command line environment,$(origin ARCH)),$(filter-out $(SAMCONFIG_ARCH),$(ARCH))),$(error samconfig.toml deploys Architecture=$(SAMCONFIG_ARCH) but ARCH=$(ARCH): change Architecture in its parameter_overrides or drop ARCH))
	sam build --beta-features --parameter-overrides Architecture=$(DEPLOY_ARCH)
	if [ -f samconfig.toml ]; then sam deploy; else sam deploy --guided --parameter-overrides Architecture=$(DEPLOY_ARCH); fi

check-deployed: venv ## run profile-guard check inside the deployed function (STACK=name): the payload {"check": true}
	@out=$$(sam remote invoke --stack-name $(STACK) Function --event '{"check": true}' --output text) || exit $$?; \
	  printf '%s\n' "$$out" | python3 -m json.tool; \
	  printf '%s' "$$out" | grep -q '"ok":true' || { echo "a dependency check failed (see above)" >&2; exit 1; }

logs: venv ## follow the deployed function's logs (STACK=name, default from samconfig.toml)
	sam logs --stack-name $(STACK) --name Function --tail

smoke: venv ## replay events/*.json through the Lambda runtime API (SES and DynamoDB on moto); check every answer and e-mail
	scripts/smoke.sh
