# Two commands for a newcomer: `make run` and `make test`. Everything else is set up on the way.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
export FLASK_APP := app

.PHONY: run test bench setup dev-setup clean

# Reinstall only when a requirements file changes (the stamp files record the last install).
$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or newer is needed") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.runtime $@

setup: $(VENV)/.runtime
dev-setup: $(VENV)/.dev

run: setup
	$(BIN)/flask db upgrade
	$(BIN)/flask demo --if-empty
	@echo "Kafaa is on http://127.0.0.1:$(PORT) — demo accounts are listed in README.md"
	$(BIN)/flask run --port $(PORT)

test: dev-setup
	$(BIN)/pytest

# The certificates benchmark loads the verification URL with wrk: installed here when missing (as root, on
# Debian); otherwise that part of the benchmark says it is skipped.
bench: dev-setup
	@command -v wrk >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing wrk (HTTP load generator for the benchmarks) ..."; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null) \
	      || echo "could not install wrk: the HTTP benchmarks will be skipped"; \
	  else \
	    echo "wrk is not installed and this is not root: run 'apt-get install wrk' as root, or the HTTP benchmarks are skipped"; \
	  fi; }
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache
