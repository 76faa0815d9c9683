# photoservice: `make dev` runs the whole stack locally, `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000

.PHONY: install dev test migrate clean bench-pipeline

# Reinstall only when the requirements change.
$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

migrate: install
	mkdir -p .dev
	$(BIN)/flask --app wsgi db upgrade

# API on 127.0.0.1:$(PORT), SQLite under .dev/, SeaweedFS S3 on 127.0.0.1:8333.
dev: migrate
	$(BIN)/python -m devstack credentials --dir .dev/s3
	$(BIN)/honcho --procfile Procfile.dev start --port $(PORT)

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Photos/second through one worker process against a no-op task floor (needs PostgreSQL, Redis).
bench-pipeline: install
	$(BIN)/python -m bench.pipeline $(BENCH_ARGS)

clean:
	rm -rf .dev
