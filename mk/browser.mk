# The browser the report page's test drives: Debian's chromium and chromium-driver (chromedriver), installed with
# apt-get when missing (as root, or through sudo). Included by the Makefile; `make test` runs it before the tests.
# Elsewhere, install Chromium and its driver by hand and point CHROMIUM and CHROMEDRIVER at them.

.PHONY: browser

browser: ## Debian's chromium + chromium-driver for the report page's browser test (apt-get, when missing)
	@if command -v chromedriver >/dev/null 2>&1 && { [ -n "$$CHROMIUM" ] || command -v chromium >/dev/null 2>&1; }; then \
	  echo "browser: $$(chromedriver --version 2>/dev/null | cut -d' ' -f1-2)"; \
	elif ! command -v apt-get >/dev/null 2>&1; then \
	  echo "error: Chromium and chromedriver are missing and this is not Debian: install both, then set CHROMIUM and CHROMEDRIVER" >&2; exit 1; \
	else \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  echo "browser: installing Debian's chromium and chromium-driver"; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends \
	    chromium chromium-driver fonts-dejavu-core >/dev/null && \
	  echo "browser: $$(chromedriver --version | cut -d' ' -f1-2)"; \
	fi
