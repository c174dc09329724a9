# The README's two commands are `make run` and `make test`; the other targets serve them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# Debian packages `make run` needs on a fresh Debian 12: venv for .venv, a compiler and Python's
# headers for the dependencies that have no wheel for every machine (a Pi's among them).
BASE_APT_PACKAGES := python3-venv gcc python3-dev
# And the tests: pyscard's headers, the PC/SC daemon with its virtual reader, the browser for
# end-to-end tests with Japanese fonts for its screenshots, the reverse proxy, gettext for
# translations, promtool and systemd-analyze to check the deploy files, pgBackRest for the
# point-in-time recovery test (on a scratch cluster of PostgreSQL's own initdb).
APT_PACKAGES := $(BASE_APT_PACKAGES) libpcsclite-dev pcscd vsmartcard-vpcd chromium \
	fonts-noto-cjk caddy gettext prometheus systemd pgbackrest

.PHONY: run test base-packages system-packages requirements lint translations

run: export DEBUG = 1
run: export KIOSK_DEMO = 1
run: base-packages $(VENV)/.base-installed
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo --site http://$(HOST):$(PORT)
	$(BIN)/python manage.py ensure_admin --url http://$(HOST):$(PORT)/admin/
	@echo "API docs: http://$(HOST):$(PORT)/api/docs/"
	@# The scheduled jobs (backups, reminders, station watch) run beside the server and stop
	@# with it.
	$(BIN)/python manage.py run_huey --workers 1 & huey=$$!; \
	trap 'kill $$huey 2>/dev/null' EXIT INT TERM; \
	$(BIN)/daphne -b $(HOST) -p $(PORT) --websocket_timeout -1 config.asgi:application

# Browser tests get their own pytest process: Playwright leaves an event loop running in the
# main thread, which breaks async tests that run after it. The fault tests (PostgreSQL and Redis
# cut under live servers; skipped without DATABASE_URL and REDIS_URL) too: they time answers,
# which only means something on a machine not busy with the other tests.
test: system-packages $(VENV)/.dev-installed
	$(BIN)/python -m pytest
	$(BIN)/python -m pytest -m browser
	$(BIN)/python -m pytest -m faults

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.base-installed: requirements/base.txt | $(VENV)/bin/python
	$(BIN)/pip install --quiet --require-hashes -r requirements/base.txt
	touch $@

$(VENV)/.dev-installed: requirements/dev.txt | $(VENV)/bin/python
	$(BIN)/pip install --quiet --require-hashes -r requirements/dev.txt
	touch $@ $(VENV)/.base-installed

# Installs what is missing when run as root; otherwise stops at once with the line to run.
base-packages: PACKAGES = $(BASE_APT_PACKAGES)
system-packages: PACKAGES = $(APT_PACKAGES)
base-packages system-packages:
	@missing=$$(for p in $(PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Debian packages:" $$missing; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	      apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else \
	    echo "Missing Debian packages:" $$missing; \
	    echo "Install them with: sudo apt-get install --no-install-recommends" $$missing; \
	    exit 1; \
	  fi; \
	fi

# Recompile the pinned sets after editing a requirements/*.in file.
requirements: | $(VENV)/bin/python
	$(BIN)/pip install --quiet uv
	cd requirements && for set in base agent dev mutation; do \
	  ../$(BIN)/uv pip compile --python-version 3.11 --generate-hashes -q $$set.in -o $$set.txt; \
	done

# After adding or changing translatable strings: refresh the Japanese catalogue, translate every
# empty msgstr in locale/ja/LC_MESSAGES/django.po, then run this again to compile it.
I18N_IGNORE := --ignore 'tests/*' --ignore 'agent/*' --ignore 'var/*' --ignore 'deploy/*' \
  --ignore 'requirements/*'
translations: export DEBUG = 1
translations: $(VENV)/.dev-installed
	$(BIN)/python manage.py makemessages -l ja --no-location $(I18N_IGNORE)
	@# The extraction time changes on every run and would make every merge of the file conflict.
	sed -i '/^"POT-Creation-Date:/d' locale/ja/LC_MESSAGES/django.po
	$(BIN)/python manage.py compilemessages -l ja --ignore '.*'
