"""Rate limits shared by web processes through Redis: requests per API key
(API_RATE_LIMIT) and failed authentications per client address (AUTH_FAILURE_RATE_LIMIT).

A moving window (the `limits` library's, one Lua script per hit in Redis): never
more than the limit in any window, however requests straddle seconds. Over a
limit: 429 with Retry-After, in the usual error shape. If Redis is down the API
keeps serving without limits (fail open) and says so in the log.

The per-key check is one `before_request` hook on `limits` itself. Flask-Limiter, built
on the same library, spent as much CPU resolving its decorators, scopes and
exemptions on every request as the Redis round trip costs.

Failed authentications are counted where they are refused: as the handler of
`auth.Unauthorized`. Random keys each have a fresh per-key budget, so a guesser is
limited by address instead; only refusals count, so valid keys from the same
address (an office or a carrier's NAT) are never held back by it. The address is
the socket's peer, or the X-Forwarded-For hop that `ProxyFix` trusts (TRUSTED_PROXIES).
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
from .auth import Unauthorized, presented_key
from .errors import handle_service_error

log = logging.getLogger(__name__)

PREFIX = "photoservice"
SETTINGS = ("API_RATE_LIMIT", "AUTH_FAILURE_RATE_LIMIT")


class TooManyRequests(ServiceError):
    status_code = 429


def api_key_bucket():
    """One bucket per API key, by digest (never the key), whether it came as X-API-KEY
    or as a bearer token; requests without a key share their address's bucket."""
    key = presented_key()
    return "key:" + digest(key) if key else "addr:" + client_address()


def client_address():
    return request.remote_addr or "unknown"


def _is_off(setting):
    return setting.strip().lower() == "off"


@lru_cache(maxsize=8)
def _parsed(setting):
    """A limit setting as `limits` items; read per request, so tests may change it."""
    return () if _is_off(setting) else tuple(parse_many(setting))


@lru_cache(maxsize=8)
def _limiter(redis_url):
    # An unreachable Redis must cost a request milliseconds, not seconds.
    storage = RedisStorage(redis_url, socket_connect_timeout=0.5, socket_timeout=0.5)
    return MovingWindowRateLimiter(storage)


def refusal(setting_name, bucket, what="Rate limit exceeded"):
    """Count one hit on `bucket` against the setting's limits: None while within them,
    else the TooManyRequests to raise, saying `what`. None too while Redis cannot be reached."""
    limits = _parsed(current_app.config[setting_name])
    if not limits:
        return None
    limiter = _limiter(current_app.config["REDIS_URL"])
    try:
        for limit in limits:
            if not limiter.hit(limit, PREFIX, bucket):
                reset_at = limiter.get_window_stats(limit, PREFIX, bucket).reset_time
                wait = max(math.ceil(reset_at - time.time()), 1)
                return TooManyRequests(f"{what} ({limit}); retry after {wait} s.",
                                       headers={"Retry-After": str(wait)})
    except (RedisError, OSError) as error:
        log.error("rate limit %s not applied, Redis is unavailable: %s", setting_name, error)
    return None


def check_limit():
    """`before_request` hook of the limited blueprints: 429 once the caller's bucket
    is spent."""
    if request.blueprint not in current_app.extensions["rate_limited_blueprints"]:
        return
    refused = refusal("API_RATE_LIMIT", api_key_bucket())
    if refused:
        raise refused


def count_failed_authentication(error):
    """Handler of `Unauthorized`: the 401, or a 429 once the client's address has
    failed AUTH_FAILURE_RATE_LIMIT times in the window. A CORS preflight (OPTIONS)
    carries no key by design: it never counts."""
    refused = None
    if request.method != "OPTIONS":
        refused = refusal("AUTH_FAILURE_RATE_LIMIT", "auth-failure:" + client_address(),
                          "Too many failed authentications from this address")
    return handle_service_error(refused or error)


def init_limits(app, *blueprints):
    """Limit every request to `blueprints` per API key, and failed authentications per
    client address; a malformed setting stops the start."""
    for name in SETTINGS:
        setting = app.config[name]
        try:
            _parsed(setting)
        except ValueError:
            raise RuntimeError(f"{name} must be like '5/second' or 'off', got {setting!r}") from None
    app.extensions["rate_limited_blueprints"] = frozenset(blueprint.name for blueprint in blueprints)
    app.before_request(check_limit)
    app.register_error_handler(Unauthorized, count_failed_authentication)
