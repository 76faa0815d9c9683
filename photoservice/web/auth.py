"""Request authentication by API key (`X-API-KEY` or `Authorization: Bearer`).

Every refusal (`Unauthorized`) but a CORS preflight's also counts against the
client's address: past AUTH_FAILURE_RATE_LIMIT, unknown keys from there get 429
instead (web/limits.py).
"""
from dataclasses import dataclass

from flask import g, request

from ..accounts.api_keys import identity_for_key
from ..database import without_transaction
from ..accounts.models import Role
from ..errors import ServiceError

SECURITY_SCHEMES = {
    "ApiKeyHeader": {"type": "apiKey", "in": "header", "name": "X-API-KEY"},
    "BearerKey": {"type": "http", "scheme": "bearer", "description": "The API key as a bearer token."},
}
SECURITY = [{"ApiKeyHeader": []}, {"BearerKey": []}]


class Unauthorized(ServiceError):
    status_code = 401

    def __init__(self, message):
        super().__init__(message, headers={"WWW-Authenticate": 'Bearer realm="photoservice"'})


@dataclass(frozen=True)
class Caller:
    """Who is making the request: what every service call is scoped by."""

    user_id: int
    company_id: int
    role: Role


def presented_key():
    key = request.headers.get("X-API-KEY")
    if key:
        return key.strip()
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def authenticate():
    """`before_request` hook: set `g.caller` or refuse with 401."""
    key = presented_key()
    if not key:
        raise Unauthorized("Authentication required: send your API key in the X-API-KEY header.")
    if request.method in ("GET", "HEAD"):
        without_transaction()  # a read: no BEGIN and ROLLBACK round trips around its queries
    identity = identity_for_key(key)
    if identity is None:
        raise Unauthorized("Invalid or revoked API key.")
    g.caller = Caller(*identity)


def current_caller():
    return g.caller
