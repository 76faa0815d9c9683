"""Settings, read once from the environment, with the defaults `make dev` runs on.

Every setting here is documented in docs/settings.md (`tests/test_docs.py` checks
it). The defaults are the servers `make dev` starts (PostgreSQL, Redis and
SeaweedFS on 127.0.0.1), so `flask --app wsgi …` run from the repository root with
no environment talks to the same database, broker and store as `make dev`. Celery's settings are a
view of the same values (`celery_config`), used by the app and `celeryconfig.py`.
"""
import json
import os
from pathlib import Path

from . import work

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEV_DIR = PROJECT_ROOT / ".dev"
DEV_S3_CREDENTIALS = DEV_DIR / "s3" / "credentials.json"
DEV_WEBHOOK_SECRET_KEYS = DEV_DIR / "webhook-secret-keys"
# The servers `make dev` runs (devstack): off the standard ports, so a machine's
# own PostgreSQL or Redis can run beside them.
DEV_DATABASE_URL = "postgresql://postgres@127.0.0.1:5433/photoservice"
DEV_REDIS_URL = "redis://127.0.0.1:6380/0"


def database_url(environ):
    """The SQLAlchemy URL, with Heroku's `postgres://` scheme fixed."""
    url = environ.get("DATABASE_URL") or DEV_DATABASE_URL
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


# Give up connecting after 5 s. The pool hands out the connection returned last, so
# a busy process keeps reusing a warm one (and database.ping_idle_connections never
# needs to ping it) while spare ones sit idle.
ENGINE_OPTIONS = {"pool_use_lifo": True, "connect_args": {"connect_timeout": 5}}


def dev_s3_credentials():
    """The credentials `make dev` generated for its SeaweedFS, or (None, None)."""
    try:
        data = json.loads(DEV_S3_CREDENTIALS.read_text())
    except (OSError, ValueError):
        return None, None
    return data.get("access_key"), data.get("secret_key")


def dev_webhook_secret_keys():
    """The Fernet key `make dev` generated for webhook secrets, or None."""
    try:
        return DEV_WEBHOOK_SECRET_KEYS.read_text().strip() or None
    except OSError:
        return None


def _number(kind, environ, name, default):
    raw = environ.get(name)
    if raw in (None, ""):
        return default
    try:
        return kind(raw)
    except ValueError:
        raise RuntimeError(f"setting {name} must be a {kind.__name__}, got {raw!r}") from None


def _int(environ, name, default, minimum=None):
    value = _number(int, environ, name, default)
    if minimum is not None and value < minimum:
        raise RuntimeError(f"setting {name} must be {minimum} or more, got {value}")
    return value


def _float(environ, name, default):
    return _number(float, environ, name, default)


def _flag(environ, name):
    raw = (environ.get(name) or "0").strip().lower()
    if raw not in ("0", "1", "true", "false", "yes", "no", "on", "off"):
        raise RuntimeError(f"setting {name} must be 0 or 1, got {raw!r}")
    return raw in ("1", "true", "yes", "on")


def _seconds_list(environ, name, default):
    raw = environ.get(name) or default
    try:
        waits = [float(part) for part in raw.split(",")]
    except ValueError:
        raise RuntimeError(f"setting {name} must be seconds separated by commas, got {raw!r}") from None
    if not waits or any(wait < 0 for wait in waits):
        raise RuntimeError(f"setting {name} must list at least one wait of 0 s or more")
    return waits


def _origins(raw):
    """CORS_ORIGINS as a list: ["*"], exact origins, or [] (no CORS headers)."""
    origins = [origin.strip().rstrip("/") for origin in raw.split(",") if origin.strip()]
    if "*" in origins and len(origins) > 1:
        raise RuntimeError("setting CORS_ORIGINS must be * alone or exact origins, not both")
    for origin in origins:
        if origin != "*" and not origin.startswith(("http://", "https://")):
            raise RuntimeError(f"setting CORS_ORIGINS must list origins like https://app.example, got {origin!r}")
    return origins


def _choice(environ, name, choices, upper=False):
    raw = (environ.get(name) or choices[0]).strip()
    raw = raw.upper() if upper else raw.lower()
    if raw not in choices:
        raise RuntimeError(f"setting {name} must be one of {', '.join(choices)}, got {raw!r}")
    return raw


#: Waits before each retry of a webhook delivery, after the first (immediate)
#: attempt: the Standard Webhooks schedule, about three days in all.
WEBHOOK_RETRY_SCHEDULE = "5,300,1800,7200,18000,36000,36000"


def from_environ(environ=None):
    """Build the Flask config mapping from an environment mapping."""
    environ = os.environ if environ is None else environ
    dev_key, dev_secret = dev_s3_credentials()
    s3_endpoint = environ.get("S3_ENDPOINT_URL", "http://127.0.0.1:8333")
    return {
        "SQLALCHEMY_DATABASE_URI": database_url(environ),
        "SQLALCHEMY_ENGINE_OPTIONS": ENGINE_OPTIONS,
        "REDIS_URL": environ.get("REDIS_URL") or DEV_REDIS_URL,
        "S3_ENDPOINT_URL": s3_endpoint,
        "S3_PUBLIC_ENDPOINT_URL": environ.get("S3_PUBLIC_ENDPOINT_URL", s3_endpoint),
        "S3_BUCKET": environ.get("S3_BUCKET", "photos"),
        "AWS_ACCESS_KEY_ID": environ.get("AWS_ACCESS_KEY_ID", dev_key),
        "AWS_SECRET_ACCESS_KEY": environ.get("AWS_SECRET_ACCESS_KEY", dev_secret),
        "AWS_REGION": environ.get("AWS_REGION", "us-east-1"),
        "PHOTO_UPLOAD_MAX_BYTES": _int(environ, "PHOTO_UPLOAD_MAX_BYTES", 100 * 1024 * 1024),
        "PHOTO_UPLOAD_EXPIRES": _int(environ, "PHOTO_UPLOAD_EXPIRES", 3600),
        "PHOTO_DOWNLOAD_EXPIRES": _int(environ, "PHOTO_DOWNLOAD_EXPIRES", 900),
        # A photo still pending this long after its create is purged by the sweep.
        "PHOTO_PENDING_TTL": _int(environ, "PHOTO_PENDING_TTL", 2 * 24 * 3600),
        "GEOCODER": environ.get("GEOCODER", "offline"),
        "GEOCODER_MAX_RPS": _float(environ, "GEOCODER_MAX_RPS", 1.0),
        "GEOCODER_TIMEOUT": _float(environ, "GEOCODER_TIMEOUT", 10.0),
        "GEOCODER_USER_AGENT": environ.get(
            "GEOCODER_USER_AGENT", "photoservice/1.0 (roofing photo uploads)"),
        "GEOCODER_CACHE_METERS": _float(environ, "GEOCODER_CACHE_METERS", 100.0),
        "NOMINATIM_DOMAIN": environ.get("NOMINATIM_DOMAIN", "nominatim.openstreetmap.org"),
        "NOMINATIM_SCHEME": environ.get("NOMINATIM_SCHEME", "https"),
        "OFFLINE_GEOCODER_MAX_KM": _float(environ, "OFFLINE_GEOCODER_MAX_KM", 50.0),
        "PROCESSING_MAX_ATTEMPTS": _int(environ, "PROCESSING_MAX_ATTEMPTS", 8),
        "PROCESSING_REDISPATCH_AFTER": _int(environ, "PROCESSING_REDISPATCH_AFTER", 600),
        "PROCESSING_SWEEP_INTERVAL": _float(environ, "PROCESSING_SWEEP_INTERVAL", 15.0),
        # Media tasks one company may have with the broker at once (photos/outbox.py);
        # with none, no company's media work would ever be sent.
        "DISPATCH_PER_COMPANY": _int(environ, "DISPATCH_PER_COMPANY", 8, minimum=1),
        # An unacknowledged task goes to another worker after this long; it must
        # exceed the longest retry countdown (BACKOFF_MAX in workers.tasks).
        "CELERY_VISIBILITY_TIMEOUT": _int(environ, "CELERY_VISIBILITY_TIMEOUT", 3600),
        "API_RATE_LIMIT": environ.get("API_RATE_LIMIT", "5/second"),
        # Images with more pixels are refused before they are decoded.
        "MEDIA_MAX_PIXELS": _int(environ, "MEDIA_MAX_PIXELS", 100_000_000),
        # Webhooks: private and loopback receivers (and plain http) only when this is on.
        "WEBHOOK_ALLOW_PRIVATE": _flag(environ, "WEBHOOK_ALLOW_PRIVATE"),
        # An endpoint failing this many attempts in a row is disabled.
        "WEBHOOK_DISABLE_AFTER": _int(environ, "WEBHOOK_DISABLE_AFTER", 100),
        "WEBHOOK_TIMEOUT": _float(environ, "WEBHOOK_TIMEOUT", 15.0),
        "WEBHOOK_RETRY_SCHEDULE": _seconds_list(environ, "WEBHOOK_RETRY_SCHEDULE", WEBHOOK_RETRY_SCHEDULE),
        # JSON bodies of this API are small; anything larger is refused with 413.
        "MAX_CONTENT_LENGTH": _int(environ, "MAX_REQUEST_BYTES", 256 * 1024),
        # Hostile input and isolation: hard limits on every task, a worker child's memory.
        "TASK_TIME_LIMIT": _float(environ, "TASK_TIME_LIMIT", 120.0),
        "MEDIA_TIME_LIMIT": _float(environ, "MEDIA_TIME_LIMIT", 900.0),
        "WORKER_MAX_MEMORY_MB": _int(environ, "WORKER_MAX_MEMORY_MB", 512),
        # Fernet keys, comma-separated: the first encrypts webhook secrets, all decrypt.
        "WEBHOOK_SECRET_KEYS": environ.get("WEBHOOK_SECRET_KEYS") or dev_webhook_secret_keys(),
        "WEBHOOK_DELIVERY_RETENTION": _int(environ, "WEBHOOK_DELIVERY_RETENTION", 30 * 24 * 3600),
        # Failed authentications per client address; "off" disables.
        "AUTH_FAILURE_RATE_LIMIT": environ.get("AUTH_FAILURE_RATE_LIMIT", "20/minute"),
        # Proxies in front of the web whose X-Forwarded-For hop is trusted (Heroku: 1).
        "TRUSTED_PROXIES": _int(environ, "TRUSTED_PROXIES", 0),
        # Resumable (multipart) uploads of videos may be this large; photos keep
        # PHOTO_UPLOAD_MAX_BYTES on both paths.
        "VIDEO_UPLOAD_MAX_BYTES": _int(environ, "VIDEO_UPLOAD_MAX_BYTES", 10 * 1024 ** 3),
        # Browsers: origins allowed to call the API ("*" or exact origins, comma-separated).
        "CORS_ORIGINS": _origins(environ.get("CORS_ORIGINS", "")),
        # The origin that serves /app/ (the store's CORS rule allows it too).
        "PUBLIC_URL": (environ.get("PUBLIC_URL") or f"http://127.0.0.1:{environ.get('PORT') or 5000}").rstrip("/"),
        # Logs: "text" (readable) or "json" (one object per line), and the level.
        "LOG_FORMAT": _choice(environ, "LOG_FORMAT", ("text", "json")),
        "LOG_LEVEL": _choice(environ, "LOG_LEVEL", ("INFO", "DEBUG", "WARNING", "ERROR"), upper=True),
    }


#: The soft limit (SoftTimeLimitExceeded, raised in the task) comes this long before
#: the hard one (the child is killed), at most a quarter of the limit: time to record
#: the stopped attempt on its row.
SOFT_LIMIT_GRACE = 5.0


def time_limits(limit):
    """Celery's task attributes for a hard limit of `limit` seconds, with its soft limit."""
    return {"time_limit": limit, "soft_time_limit": limit - min(SOFT_LIMIT_GRACE, limit / 4)}


def _check_time_limits(config):
    # A message still unacknowledged after the visibility timeout goes to another
    # worker: a task allowed to run longer would run twice at once.
    for name in sorted(set(work.time_limits().values())):
        if not 0 < config[name] < config["CELERY_VISIBILITY_TIMEOUT"]:
            raise RuntimeError(
                f"setting {name} ({config[name]:g} s) must be above 0 and below "
                f"CELERY_VISIBILITY_TIMEOUT ({config['CELERY_VISIBILITY_TIMEOUT']} s)")


def celery_config(config):
    """Celery's settings (lowercase names) for a Flask config built by `from_environ`.

    No result backend: nothing reads task results, the photo row holds the state.
    Raises RuntimeError when a task's time limit is not below CELERY_VISIBILITY_TIMEOUT.
    """
    _check_time_limits(config)
    return {
        "broker_url": config["REDIS_URL"],
        **({"broker_transport": "photoservice.broker:Transport"}
           if config["REDIS_URL"].startswith(("redis://", "rediss://")) else {}),
        "broker_transport_options": {
            "visibility_timeout": config["CELERY_VISIBILITY_TIMEOUT"],
            "socket_connect_timeout": 2,
            # A publisher whose broker is down fails at once instead of sleeping through
            # retries: the web answers, the photo waits for the sweep. (A worker's own
            # consumer connection keeps retrying: broker_connection_max_retries.)
            "max_retries": 0,
        },
        # At least once: acknowledge after the task ran, requeue if its process dies.
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_ignore_result": True,
        "task_serializer": "json",
        "accept_content": ["json"],
        "timezone": "UTC",
        "broker_connection_retry_on_startup": True,
        "worker_hijack_root_logger": False,
        # Every task stops within its time limit; a child that has grown past
        # WORKER_MAX_MEMORY_MB (KiB here) is replaced after its task, as a backstop.
        "task_annotations": {task: time_limits(config[setting])
                             for task, setting in work.time_limits().items()},
        "worker_max_memory_per_child": config["WORKER_MAX_MEMORY_MB"] * 1024,
        # Image work and webhook deliveries on queues of their own (photoservice.work):
        # each Procfile process consumes its `work.queues(process)`.
        "task_routes": work.task_routes(),
        "beat_schedule": {
            "sweep-photo-processing": {
                "task": work.SWEEP_TASK,
                "schedule": config["PROCESSING_SWEEP_INTERVAL"],
                # Sweeps a busy worker never got to are dropped, not run in a burst.
                "options": {"expires": config["PROCESSING_SWEEP_INTERVAL"]},
            },
        },
    }
