"""Liveness and readiness for load balancers and Heroku; no auth, no rate limit."""
import redis
from flask import Blueprint, current_app

from .. import storage
from ..errors import RETRY_AFTER_SECONDS
from ..extensions import db

blp = Blueprint("health", __name__)


@blp.get("/healthz")
def healthz():
    """The process is up and answering."""
    return {"status": "ok"}


def _check_database():
    db.session.execute(db.text("SELECT 1"))
    db.session.rollback()


def _check_redis():
    redis.Redis.from_url(current_app.config["REDIS_URL"], socket_connect_timeout=1,
                         socket_timeout=1).ping()


@blp.get("/readyz")
def readyz():
    """Each dependency's state; 503 if the database or the store is down."""
    checks, ready = {}, True
    for name, check, required in (("database", _check_database, True),
                                  ("redis", _check_redis, False),
                                  ("store", storage.check_bucket, True)):
        try:
            checks[name] = check() or "ok"
        except Exception as error:  # a readiness probe reports failures, it does not raise them
            checks[name] = f"unavailable: {type(error).__name__}"
            ready = ready and not required
    body = {"status": "ready" if ready else "unavailable", "checks": checks}
    return (body, 200) if ready else (body, 503, {"Retry-After": str(RETRY_AFTER_SECONDS)})
