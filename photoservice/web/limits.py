"""Per-API-key rate limiting (API_RATE_LIMIT), shared by web processes through Redis.

A moving window (the `limits` library's, one Lua script per request in Redis):
never more than the limit in any window, however requests straddle seconds.
Over the limit: 429 with Retry-After, in the usual error shape. If Redis is down
the API keeps serving without limits (fail open) and says so in the log.

The check is one `before_request` hook on `limits` itself. Flask-Limiter, built on
the same library, spent as much CPU resolving its decorators, scopes and
exemptions on every request as the Redis round trip costs.
"""
import logging
import math
import time
from functools import lru_cache

from flask import current_app, request
from limits import parse_many
from limits.storage import RedisStorage
from limits.strategies import MovingWindowRateLimiter
from redis.exceptions import RedisError

from ..accounts.api_keys import digest
from ..errors import ServiceError
from .auth import presented_key

log = logging.getLogger(__name__)

PREFIX = "photoservice"


class TooManyRequests(ServiceError):
    status_code = 429


def api_key_bucket():
    """One bucket per API key, by digest (never the key), whether it came as X-API-KEY
    or as a bearer token; requests without a key share their address's bucket."""
    key = presented_key()
    return "key:" + digest(key) if key else "addr:" + (request.remote_addr or "unknown")


def _is_off(setting):
    return setting.strip().lower() == "off"


@lru_cache(maxsize=8)
def _parsed(setting):
    """API_RATE_LIMIT as `limits` items; read per request, so tests may change it."""
    return () if _is_off(setting) else tuple(parse_many(setting))


@lru_cache(maxsize=8)
def _limiter(redis_url):
    # An unreachable Redis must cost a request milliseconds, not seconds.
    storage = RedisStorage(redis_url, socket_connect_timeout=0.5, socket_timeout=0.5)
    return MovingWindowRateLimiter(storage)


def check_limit():
    """`before_request` hook of the limited blueprints: 429 once the caller's bucket
    is spent; no limit at all while Redis cannot be reached."""
    if request.blueprint not in current_app.extensions["rate_limited_blueprints"]:
        return
    limits = _parsed(current_app.config["API_RATE_LIMIT"])
    if not limits:
        return
    limiter, bucket = _limiter(current_app.config["REDIS_URL"]), api_key_bucket()
    try:
        for limit in limits:
            if not limiter.hit(limit, PREFIX, bucket):
                reset_at = limiter.get_window_stats(limit, PREFIX, bucket).reset_time
                wait = max(math.ceil(reset_at - time.time()), 1)
                raise TooManyRequests(f"Rate limit exceeded ({limit}); retry after {wait} s.",
                                      headers={"Retry-After": str(wait)})
    except (RedisError, OSError) as error:
        log.error("rate limit not applied, Redis is unavailable: %s", error)


def init_limits(app, *blueprints):
    """Limit every request to `blueprints` per API key; a malformed setting stops the start."""
    setting = app.config["API_RATE_LIMIT"]
    try:
        _parsed(setting)
    except ValueError:
        raise RuntimeError(f"API_RATE_LIMIT must be like '5/second' or 'off', got {setting!r}") from None
    app.extensions["rate_limited_blueprints"] = frozenset(blueprint.name for blueprint in blueprints)
    app.before_request(check_limit)
