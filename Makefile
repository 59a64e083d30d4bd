# fundwatch — two commands on a fresh machine: `make run`, then `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DB     ?= var/fundwatch.duckdb
INBOX  ?= data_samples
SAMPLE_PERSONS ?= 3000
SAMPLE_SEED    ?= 20251

export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1

.PHONY: setup system-deps run test test-fast lint format sample clean bench bench-quick profile serve web
PORT ?= 4200
WEB_PORT ?= 8000

setup: $(STAMP)

# The virtualenv, from the lock file (name==version pins, no download addresses).
$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

# The nightly job on the bundled sample inbox. The sample is dirty on purpose:
# exit status 1 means "done, with quarantined rows or rejected files" and is
# reported, not treated as a failure of make; any other non-zero status is.
run: setup
	@$(BIN)/fundwatch run --inbox $(INBOX) --db $(DB) --create-folder; status=$$?; \
	if [ $$status -eq 1 ]; then echo "(exit 1: the sample inbox carries planted bad rows and files, as intended)"; \
	elif [ $$status -ne 0 ]; then exit $$status; fi

# The nightly run on a schedule (02:00 Asia/Shanghai) served from a local Prefect server, and beside it the
# analysts' workbench (as `make web`) over the same database; Ctrl-C stops all of them.
# UI: http://127.0.0.1:$(PORT)   server database and log: var/prefect/ (prefect.db, server.log)
# Workbench: http://127.0.0.1:$(WEB_PORT) (it needs the register a first run creates: `make run` once before)
serve: setup
	@$(BIN)/fundwatch web --db $(DB) --port $(WEB_PORT) & web=$$!; \
	trap 'kill -TERM $$web 2>/dev/null' INT TERM; \
	FUNDWATCH_INBOX=$(INBOX) FUNDWATCH_DB=$(DB) $(BIN)/fundwatch serve --port $(PORT); status=$$?; \
	kill -TERM $$web 2>/dev/null; wait $$web 2>/dev/null; exit $$status

# The analysts' workbench in the browser, on the loopback: http://127.0.0.1:$(WEB_PORT) (docs/workbench.md).
# Staff log in with a password an admin set: fundwatch staff --db $(DB) passwd STAFF_ID
web: setup
	$(BIN)/fundwatch web --db $(DB) --port $(WEB_PORT)

# What the tests need from the system. The print test (tests/cases/test_print.py): LibreOffice to print the
# workbooks, a CJK font to print their Chinese, poppler's pdftotext/pdffonts to read the PDFs back. The browser
# test (tests/web/test_browser.py): Debian's headless Chromium and its chromedriver, at /usr/bin/chromium and
# /usr/bin/chromedriver (Selenium is pointed at them; nothing is downloaded), and the same CJK font for the pages.
# Installed when missing and we are root with apt (CI is); otherwise named, and those tests fail naming them too.
SYSTEM_PACKAGES := libreoffice-calc fonts-noto-cjk poppler-utils chromium chromium-driver
system-deps:
	@missing=""; \
	command -v localc >/dev/null 2>&1 || missing="$$missing libreoffice-calc"; \
	command -v lowriter >/dev/null 2>&1 || missing="$$missing libreoffice-writer"; \
	[ -n "$$(fc-list :lang=zh family 2>/dev/null)" ] || missing="$$missing fonts-noto-cjk"; \
	command -v pdftotext >/dev/null 2>&1 || missing="$$missing poppler-utils"; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	[ -x /usr/bin/chromedriver ] || missing="$$missing chromium-driver"; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing$$missing (for the print and browser tests)"; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	else \
		echo "missing system packages:$$missing — as root: apt-get install -y --no-install-recommends$$missing" \
			"(the print, DOCX and browser tests fail without them)" >&2; \
	fi

# Every test (what CI runs).
test: setup system-deps lint
	$(BIN)/python -m pytest

# The inner loop: every test not marked slow (real runs through Prefect, generated provinces, a server).
test-fast: setup system-deps lint
	$(BIN)/python -m pytest -m "not slow"

lint: setup
	$(BIN)/ruff check .

format: setup
	$(BIN)/ruff format .

# Regenerate the committed sample inbox (deterministic by seed).
sample: setup
	rm -rf data_samples
	$(BIN)/fundwatch synth --persons $(SAMPLE_PERSONS) --seed $(SAMPLE_SEED) --out data_samples --batch

# fundwatch, run as the README runs it, against the hand-written DuckDB-SQL peer at 100k, 1M and 10M persons:
# clean, rerun, dirty and finding-dense inboxes (generated once into bench/cache/, ~45 GB of disk at 10M), the
# workbench's pages and screening at 1M, the identity resolution at 1M and 10M; the issue 17 targets in
# bench/results.md. Well over an hour on 2 cores. One size or kind alone, the others' numbers kept:
#   make bench BENCH_SIZES=10000000 BENCH_KINDS=clean
BENCH_SIZES ?= 100000 1000000 10000000
BENCH_KINDS ?= peer clean rerun dirty dense
bench: setup
	$(BIN)/python bench/run.py --sizes $(BENCH_SIZES) --kinds $(BENCH_KINDS)

# The same at 100k and 1M only (tens of minutes).
bench-quick: setup
	$(BIN)/python bench/run.py --sizes 100000 1000000 --kinds $(BENCH_KINDS)

# Where the time of a run goes: pyinstrument over one in-process run (PERSONS, clean inbox from bench/cache/).
PERSONS ?= 1000000
profile: setup
	$(BIN)/python bench/profile_run.py --persons $(PERSONS)

clean:
	rm -rf var
