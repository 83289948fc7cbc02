# Benchmarks and load checks. Included by the Makefile; also works on its own: make -f mk/bench.mk bench-load
# Figures, machine and how each was measured: BENCHMARKS.md. The drivers are cargo examples (debug builds, which
# share the test build's dependencies); each builds the release binaries it measures, then runs on loopback only.

# The repository root, wherever make was started from and whether this file is included or run on its own.
BENCH_MK := $(abspath $(lastword $(MAKEFILE_LIST)))
BENCH_ROOT := $(abspath $(dir $(BENCH_MK))/..)

ifeq ($(.DEFAULT_GOAL),)
.DEFAULT_GOAL := bench-help
endif

.PHONY: bench bench-load load-faults load-queue startup-time bench-help

bench: ## in-process request path (Criterion: mean/median; then a p50/p99 loop of 100k calls per case)
	cd "$(BENCH_ROOT)" && cargo bench --bench request_path

bench-load: ## local throughput, profile-guard vs a bare axum server, with wrk (3 bodies x 3 rounds; req/s, p50, p99, peak RSS, ratios)
	cd "$(BENCH_ROOT)" && cargo run --quiet --example bench_load

load-faults: ## bounded load against a directory stub that fails ~15% of calls; every answer checked, RSS sampled
	cd "$(BENCH_ROOT)" && cargo run --quiet --example load_faults

load-queue: ## 2,000 sensitive changes at ~200/s with queued alerts (moto's SQS, the consumer, an SES stub throttling above 14/s)
	cd "$(BENCH_ROOT)" && cargo run --quiet --example queue_load

startup-time: ## exec to first answered request (local and under the Lambda runtime API), release zip size
	cd "$(BENCH_ROOT)" && cargo run --quiet --example startup_time

bench-help:
	@grep -hE '^[a-zA-Z_-]+:.*## ' "$(BENCH_MK)" | awk 'BEGIN{FS=":.*## "}{printf "  make %-14s %s\n",$$1,$$2}'
