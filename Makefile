# The two commands of the README: `make run` (set up and serve the app) and `make test`.
# `make run` serves with debug off, as in production (the site's own error pages, static files
# through WhiteNoise); a developer who wants Django's debug pages runs `DJANGO_DEBUG=1 make run`.
# It starts the web server and a task worker (training jobs) together; Ctrl-C stops both.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run serve worker test install install-dev chromium

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

install: $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt

install-dev: $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt

run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py train_models --if-missing --seed 1
	PYTHON=$(BIN)/python scripts/run $(HOST):$(PORT)

# Production mode (README "Deploying for a class"): collectstatic, migrate, gunicorn. Needs
# DJANGO_PRODUCTION=1, DJANGO_SECRET_KEY, PSEUDONYM_KEY, AUDIT_KEY, DJANGO_ALLOWED_HOSTS, DATABASE_URL.
serve: install
	PYTHON=$(BIN)/python scripts/serve

# A task worker for production, beside `make serve` (README "Deploying for a class"): run as many as
# you like, on any machine with the same settings.
worker: install
	$(BIN)/python manage.py db_worker --no-reload

# Browser tests drive Debian's Chromium; Playwright cannot download its own browser here.
chromium:
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }

# The suite runs on every core (pytest-xdist), a test module to a worker; TEST_WORKERS=0 runs it in
# this one process (for --pdb, say).
TEST_WORKERS ?= auto
test: install-dev chromium
	$(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)
