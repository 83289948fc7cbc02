# Lambda targets: build, watch, invoke, deploy, smoke, template checks.
.PHONY: lambda-checks
lambda-checks:
	@echo "lambda checks: not yet wired"
