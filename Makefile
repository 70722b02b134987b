# Two commands for a newcomer: `make run` and `make test`. Everything else is set up on the way.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
BENCH_PG_URL ?= postgresql://postgres@127.0.0.1:5432/bench_governance
export FLASK_APP := app

.PHONY: run test bench setup dev-setup clean translations

# Reinstall only when a requirements file changes (the stamp files record the last install). The packages
# are installed by uv (pinned here), ten times faster than pip from a warm cache; where uv cannot be had, by pip.
UV_VERSION := 0.13.9
INSTALL = if [ -x $(BIN)/uv ]; then $(BIN)/uv pip install --quiet --python $(BIN)/python -r $(1); \
	else $(BIN)/pip install --quiet -r $(1); fi

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or newer is needed") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION) \
	  || echo "uv could not be installed: installing with pip (slower)"

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(call INSTALL,requirements.txt)
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(call INSTALL,requirements-dev.txt)
	touch $(VENV)/.runtime $@

# Translations: the .po catalogs are committed; the compiled .mo files are build artifacts (gitignored), made
# again whenever their .po changes. Flask-Babel reads them when the app starts.
MO_FILES := $(patsubst %.po,%.mo,$(wildcard translations/*/LC_MESSAGES/messages.po))

translations/%/LC_MESSAGES/messages.mo: translations/%/LC_MESSAGES/messages.po | $(VENV)/.runtime
	$(BIN)/pybabel compile --statistics -l $* -i $< -o $@

setup: $(VENV)/.runtime $(MO_FILES)
dev-setup: $(VENV)/.dev $(MO_FILES)

# After adding or changing a user-facing string: `make translations`, fill in the new (empty) entries of
# translations/fr and translations/ar (messages.po), then `make test`, which lists anything still missing.
# No fuzzy matching: a guess borrowed from another string could carry placeholders that break compilation.
# tests/test_translations.py reads PYBABEL_EXTRACT_FLAGS from this line: keep it on one line.
PYBABEL_EXTRACT_FLAGS := -F babel.cfg -k _l -k lazy_gettext -k ngettext:1,2 -k lazy_ngettext:1,2 --ignore-dirs='.* __pycache__' --sort-output --project=Kafaa --version=1
translations: $(VENV)/.runtime
	$(BIN)/pybabel -q extract $(PYBABEL_EXTRACT_FLAGS) -o translations/messages.pot.new .
	@# Keep messages.pot untouched (creation date included) when no string moved.
	@if [ -f translations/messages.pot ] && diff -q -I '^"POT-Creation-Date: ' translations/messages.pot translations/messages.pot.new >/dev/null; \
	  then rm translations/messages.pot.new; else mv translations/messages.pot.new translations/messages.pot; fi
	$(BIN)/pybabel -q update -i translations/messages.pot -d translations --ignore-obsolete --no-fuzzy-matching
	@# Compile now: the statistics say how many entries are left to translate in each language.
	@$(MAKE) --no-print-directory $(MO_FILES)

# PORT reaches the app too: without BASE_URL, its links and the demo's QR codes use that port (app.py).
run: setup
	PORT=$(PORT) $(BIN)/flask db upgrade
	PORT=$(PORT) $(BIN)/flask demo --if-empty
	@echo "Kafaa is on http://127.0.0.1:$(PORT) — demo accounts are listed in README.md"
	PORT=$(PORT) $(BIN)/flask run --port $(PORT)

# The browser tests inject axe-core (accessibility checks) from npm, pinned in tests/browser/package.json.
# Without npm they skip those checks and say why.
AXE := tests/browser/node_modules/axe-core/axe.min.js
$(AXE): tests/browser/package.json tests/browser/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  (npm ci --prefix tests/browser --no-audit --no-fund --silent && touch $@) \
	    || echo "npm ci failed: the browser tests' accessibility checks (axe-core) will be skipped"; \
	else echo "npm is missing: the browser tests' accessibility checks (axe-core) will be skipped"; fi

# On every core: each worker has its own databases (tests/conftest.py). `make test PYTEST_ARGS=` runs in one.
PYTEST_ARGS ?= -n auto
test: dev-setup $(AXE)
	$(BIN)/lint-imports --no-cache
	$(BIN)/pytest $(PYTEST_ARGS)

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
	@# The governance figures are also measured on PostgreSQL when one answers here (BENCH_PG_URL).
	@if [ -z "$$BENCH_DATABASE_URL" ] && command -v pg_isready >/dev/null 2>&1 && pg_isready -q -d "$(BENCH_PG_URL)"; then \
	  BENCH_DATABASE_URL="$(BENCH_PG_URL)" $(BIN)/python -m bench governance --database postgresql \
	    || echo "the governance benchmark on PostgreSQL failed: see above"; \
	else echo "PostgreSQL not reachable at $(BENCH_PG_URL): governance measured on SQLite only"; fi

clean:
	rm -rf $(VENV) .pytest_cache
	rm -f translations/*/LC_MESSAGES/messages.mo
