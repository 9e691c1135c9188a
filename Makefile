# The two set-up commands of the README: `make run` and `make test`. Both create the
# virtual environment in .venv on first use (and refresh it when requirements change).
PYTHON ?= python3
VENV ?= .venv
HOST ?= 127.0.0.1
PORT ?= 5000
FLASK = $(VENV)/bin/flask --app web.app
STAMP = $(VENV)/.installed
# Debian packages the tests need: fonts that draw Chinese on labels and pages, and the
# headless Chromium that the browser tests drive (tests/web/test_browser.py).
SYSTEM_PACKAGES = fonts-wqy-zenhei fonts-dejavu-core chromium

.PHONY: run test lint bench clean system-packages

$(STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11 or newer is needed")'
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $(STAMP)

# The URLs the demo prints (and labels carry) are this server's, unless set otherwise.
run: export TRACE_PUBLIC_BASE_URL ?= http://$(HOST):$(PORT)
run: $(STAMP)
	$(FLASK) db upgrade
	$(FLASK) demo load
	@echo ""
	@echo "  Start page:     http://$(HOST):$(PORT)/"
	@echo "  API docs:       http://$(HOST):$(PORT)/api/v1/docs"
	@echo "  OpenAPI:        http://$(HOST):$(PORT)/api/v1/openapi.json"
	@echo "  Admin API key:  $$(cat instance/demo-admin-key 2>/dev/null || echo 'flask --app web.app keys create --role admin')"
	@echo ""
	@echo "  Scan pages to try (a phone-sized window shows them best):"
	@$(FLASK) demo urls
	@echo ""
	$(FLASK) run --host $(HOST) --port $(PORT)

test: $(STAMP) system-packages
	$(VENV)/bin/python -m pytest

# Installs what is missing when it can (root with apt-get); otherwise says what to install.
system-packages:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing $$missing"; apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "please install the Debian packages: $$missing"; fi; \
	fi

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: $(STAMP)
	$(VENV)/bin/python bench/serialize.py
	$(VENV)/bin/python bench/labels.py

clean:
	rm -rf $(VENV) instance
