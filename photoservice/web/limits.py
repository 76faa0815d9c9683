"""Per-API-key rate limiting (API_RATE_LIMIT), shared by web processes through Redis.

Over the limit: 429 with Retry-After, in the usual error shape. If Redis is
down the API keeps serving without limits (fail open) and says so in the log.
"""
import math
import time

from flask import current_app, request
from flask_limiter import RateLimitExceeded
from limits import parse_many

from ..accounts.api_keys import digest
from ..extensions import limiter
from .auth import presented_key
from .errors import error_body


def api_key_bucket():
    """One bucket per API key, by digest (never the key), whether it came as X-API-KEY
    or as a bearer token; requests without a key share their address's bucket."""
    key = presented_key()
    return "key:" + digest(key) if key else "addr:" + (request.remote_addr or "unknown")


def _is_off(setting):
    return setting.strip().lower() == "off"


def limit_is_off():
    return _is_off(current_app.config["API_RATE_LIMIT"])


def current_limit():
    """API_RATE_LIMIT as read now, e.g. `5/second`.

    When it is `off`, `limit_is_off` exempts every request; the limiter still
    parses the limit first, so it gets a well-formed one that is never applied.
    """
    return "1/second" if limit_is_off() else current_app.config["API_RATE_LIMIT"]


def too_many_requests(error):
    """429 in the common error shape, with the seconds until a request is allowed."""
    window = limiter.current_limit
    wait = max(math.ceil(window.reset_at - time.time()), 1) if window else 1
    body = error_body(429, f"Rate limit exceeded ({error.description}); retry after {wait} s.")
    return body, 429, {"Retry-After": str(wait)}


def init_limits(app, *blueprints):
    """Bind the limiter to `app` and limit every request to `blueprints` per API key."""
    setting = app.config["API_RATE_LIMIT"]
    if not _is_off(setting):
        try:
            parse_many(setting)
        except ValueError:
            raise RuntimeError(f"API_RATE_LIMIT must be like '5/second' or 'off', got {setting!r}") from None
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["REDIS_URL"])
    # An unreachable Redis must cost a request milliseconds, not seconds.
    app.config.setdefault("RATELIMIT_STORAGE_OPTIONS",
                          {"socket_connect_timeout": 0.5, "socket_timeout": 0.5})
    # Exact: never more than the limit in any window, however requests straddle seconds.
    app.config.setdefault("RATELIMIT_STRATEGY", "moving-window")
    # Our own Retry-After, on 429s only: the library's headers would also rewrite
    # the Retry-After of every other response (a 503's included).
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", False)
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)  # fail open; Flask-Limiter logs it
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "photoservice")
    limiter.init_app(app)
    app.register_error_handler(RateLimitExceeded, too_many_requests)
    for blueprint in blueprints:
        limiter.limit(current_limit, key_func=api_key_bucket, exempt_when=limit_is_off)(blueprint)
