# photoservice: `make dev` runs the whole stack locally, `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000

.PHONY: install dev test test-fast migrate clean bench bench-pipeline bench-media bench-webhooks \
	bench-multipart bench-scale soak

# Reinstall only when the requirements change.
$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

# PostgreSQL (127.0.0.1:5433) and Redis (127.0.0.1:6380) come from devstack unless
# DATABASE_URL / REDIS_URL name servers of your own.
DEV_PROCESSES := web s3 worker media webhooks flower $(if $(DATABASE_URL),,postgres) $(if $(REDIS_URL),,redis)

# S3 credentials and the key that encrypts webhook secrets first: the app (the
# migrations too) refuses to start without the key.
migrate: install
	mkdir -p .dev
	$(BIN)/python -m devstack credentials --dir .dev/s3
ifdef DATABASE_URL
	$(BIN)/flask --app wsgi db upgrade
else
	$(BIN)/python -m devstack postgres --dir .dev/postgres --port 5433 -- $(BIN)/flask --app wsgi db upgrade
endif

# The whole stack: API on 127.0.0.1:$(PORT), PostgreSQL, Redis, SeaweedFS S3 on
# 127.0.0.1:8333, a Celery worker with beat, a webhook-delivery worker, Flower on
# 127.0.0.1:5555. Data under .dev/. The store lets pages on CORS_ORIGINS and PUBLIC_URL
# (the photo desk, http://127.0.0.1:$(PORT)/app/) upload.
dev: migrate
	PUBLIC_URL="$${PUBLIC_URL:-http://127.0.0.1:$(PORT)}" $(BIN)/honcho --procfile Procfile.dev start --port $(PORT) $(DEV_PROCESSES)

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The suite without the tests that start real workers, gunicorn or schemathesis.
test-fast: install
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

# The create benchmark against its floor, the list and the pipeline (needs PostgreSQL,
# Redis, and wrk from Debian's packages, installed here if missing).
bench: install
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python -m bench.run $(BENCH_ARGS)

# Photos/second through one worker process against a no-op task floor (needs PostgreSQL, Redis).
bench-pipeline: install
	$(BIN)/python -m bench.pipeline $(BENCH_ARGS)

# Webhook deliveries/second through one worker process to a local receiver, and the
# extra time of a finalize with 3 subscribed endpoints (needs PostgreSQL, Redis).
bench-webhooks: install
	$(BIN)/python -m bench.webhooks $(BENCH_ARGS)

# Photos/second through the real media task (one worker process, SeaweedFS) against bare
# Pillow, the worker's peak RSS on a 48 MP photo, videos/second (30 s 1080p H.264 and 4K
# HEVC) against bare PyAV and the peak on the 4K one, and the list's cost of derivative
# links (needs PostgreSQL, Redis). Generated photos and clips are kept in .dev/bench-media.
bench-media: install
	$(BIN)/python -m bench.media $(BENCH_ARGS)

# A 200 MB file in parts (multipart, 2 at a time) against one presigned POST of it to the
# same SeaweedFS, and the part-URL route's CPU (needs PostgreSQL, Redis).
bench-multipart: install
	$(BIN)/python -m bench.multipart $(BENCH_ARGS)

# The list on a year of a large company (1,000,000 photos, 2,000 jobs) against
# required_list, p50/p99 and CPU per page with the query plans, page numbers and
# cursors. Its own PostgreSQL and data under .dev/bench-scale/ (loaded once, ~1 min;
# again after a schema change), an embedded Redis. Then a burst of 500 photos of one
# company with another company's photo during it and during the re-queue of its media,
# before and with the fair share (its own SeaweedFS, gunicorn, a worker process per queue).
bench-scale: install
	$(BIN)/python -m bench.scale $(BENCH_ARGS)

# A soak of `make dev`: starts it, sends 2 photos/s for SOAK_SECONDS, fails if a process
# stops, a photo is not processed or Ctrl-C leaves anything running (ports of `make dev`
# must be free). SOAK_ARGS="--fresh" times a first start on an emptied .dev/;
# SOAK_ARGS="--private-clone" runs it from a fresh clone of HEAD in a 0700 directory (as
# root: PostgreSQL's account cannot enter it) and checks that `make clean` there leaves nothing.
SOAK_SECONDS ?= 300
soak: install
	$(BIN)/python -m bench.soak --seconds $(SOAK_SECONDS) $(SOAK_ARGS)

# As root in a private checkout, PostgreSQL's cluster lives under /var/lib/photoservice-dev/
# (devstack/unprivileged.py) and .dev/postgres/data links to it: it goes too.
clean:
	@cluster=$$(readlink .dev/postgres/data); case "$$cluster" in *..*) ;; \
	  /var/lib/photoservice-dev/?*/data) echo "rm -rf $${cluster%/data}"; rm -rf "$${cluster%/data}";; esac
	rm -rf .dev
