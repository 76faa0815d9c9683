"""Per-API-key rate limiting (API_RATE_LIMIT), shared by web processes through Redis.

Over the limit: 429 with Retry-After, in the usual error shape. If Redis is
down the API keeps serving without limits (fail open) and says so in the log.
"""
import math
import time

from flask import current_app
from flask_limiter import RateLimitExceeded
from limits import parse_many

from .errors import error_body
from .extensions import limiter


def limit_is_off():
    return current_app.config["API_RATE_LIMIT"].strip().lower() == "off"


def current_limit():
    """API_RATE_LIMIT as read now, e.g. `5/second`.

    When it is `off`, `limit_is_off` exempts every request; the limiter still
    parses the limit first, so it gets a well-formed one that is never applied.
    """
    return "1/second" if limit_is_off() else current_app.config["API_RATE_LIMIT"]


def too_many_requests(error):
    """429 in the common error shape, with the seconds until a request is allowed."""
    window = limiter.current_limit
    wait = math.ceil(window.reset_at - time.time()) if window else 1
    body = error_body(429, f"Rate limit exceeded ({error.description}); retry after {max(wait, 1)} s.")
    return body, 429, {"Retry-After": str(max(wait, 1))}


def init_limits(app, *blueprints):
    """Bind the limiter to `app` and limit every request to `blueprints` per API key."""
    setting = app.config["API_RATE_LIMIT"]
    if setting.strip().lower() != "off":
        try:
            parse_many(setting)
        except ValueError:
            raise RuntimeError(f"API_RATE_LIMIT must be like '5/second' or 'off', got {setting!r}") from None
    redis_url = app.config["REDIS_URL"]
    app.config.setdefault("RATELIMIT_STORAGE_URI", redis_url or "memory://")
    if redis_url:
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
        limiter.limit(current_limit, exempt_when=limit_is_off)(blueprint)
