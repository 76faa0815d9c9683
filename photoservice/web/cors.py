"""CORS: browsers on the origins in CORS_ORIGINS may call the API (flask-cors).

A browser sends a preflight (OPTIONS with `Access-Control-Request-Method`) before a
request with `X-API-KEY` or a JSON body, and a preflight never carries the key. So an
app-level hook answers it before authentication, the rate limits and the blueprints'
own hooks (webhooks' owners-only check needs a caller) run; flask-cors then adds the
headers to that answer and to every other response, errors included, for allowed
origins only. With CORS_ORIGINS empty nothing is installed: no CORS headers, and a
preflight is a request like any other (401).
"""
import re

from flask import current_app, request
from flask_cors import CORS

#: Where CORS applies: the API and its OpenAPI document (an integrator's tools read it).
RESOURCES = r"^/(light/.*|openapi\.json)$"
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
#: Request headers clients send; anything else in a preflight is not allowed.
REQUEST_HEADERS = ["X-API-KEY", "Authorization", "Content-Type", "X-Request-ID"]
#: Response headers a script may read beyond the CORS-safelisted ones.
EXPOSED_HEADERS = ["Retry-After", "X-Request-ID", "WWW-Authenticate", "Allow"]
#: How long a browser may reuse a preflight's answer (Chromium caps it at 2 hours).
MAX_AGE_SECONDS = 600


def is_preflight():
    return request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers


def answer_preflight():
    """`before_request` hook: an existing route's preflight gets the default OPTIONS
    answer (200, `Allow`) at once; an unknown path goes on to its 404."""
    if is_preflight() and request.url_rule is not None:
        return current_app.make_default_options_response()
    return None


def vary_on_origin(response):
    """`after_request` hook: an API response differs by Origin (CORS headers or none), so
    a shared cache must key on it; flask-cors says so only when several origins are set."""
    if re.match(RESOURCES, request.path):
        response.vary.add("Origin")
    return response


def init_cors(app):
    """Install CORS for CORS_ORIGINS (["*"], exact origins, or [] for none)."""
    origins = app.config["CORS_ORIGINS"]
    if not origins:
        return
    app.before_request(answer_preflight)
    app.after_request(vary_on_origin)
    CORS(app, resources=RESOURCES, origins=origins, send_wildcard=origins == ["*"],
         methods=METHODS, allow_headers=REQUEST_HEADERS, expose_headers=EXPOSED_HEADERS,
         max_age=MAX_AGE_SECONDS, always_send=False, supports_credentials=False)
