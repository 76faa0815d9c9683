"""photoservice: the photo-upload backend of a contractor platform."""
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from . import logs, settings, work
from .database import ping_idle_connections, utc_sessions
from .desk.routes import blp as desk_blp
from .extensions import api, db, migrate
from .geocoding import models as _geocoding_models  # noqa: F401  (its table joins the metadata)
from .queue import celery_init_app
from .web import docs
from .web.auth import SECURITY_SCHEMES
from .web.cors import init_cors
from .web.errors import ErrorSchema, register_error_handlers
from .web.health import blp as health_blp
from .web.limits import init_limits
from .web.openapi import register_components
from .web.request_log import register_request_ids
from .webhooks import secret_keys as webhook_secret_keys

API_SPEC = {
    "API_TITLE": "photoservice",
    "API_VERSION": "1.0",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/",
    "OPENAPI_JSON_PATH": "openapi.json",
    "OPENAPI_SWAGGER_UI_PATH": "docs",
    "OPENAPI_SWAGGER_UI_URL": docs.ASSETS_URL,
}


def create_app(config=None):
    """Build the Flask app; `config` overrides settings read from the environment."""
    app = Flask(__name__)
    app.json.sort_keys = False  # fields in schema order: id first, as documented
    app.config.update(API_SPEC)
    app.config.update(settings.from_environ())
    app.config.update(config or {})
    app.config["CELERY"] = settings.celery_config(app.config)
    logs.configure(app.config["LOG_FORMAT"], app.config["LOG_LEVEL"])
    trust_proxies(app, app.config["TRUSTED_PROXIES"])

    register_extensions(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_commands(app)
    register_request_ids(app)
    return app


def trust_proxies(app, proxies):
    """Behind `proxies` proxies (Heroku's router: 1), the client's address (rate limits)
    and scheme (links) are those the outermost of them forwarded, not the socket's peer."""
    if proxies < 0:
        raise RuntimeError(f"TRUSTED_PROXIES must be 0 or more, got {proxies}")
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)


def register_extensions(app):
    webhook_secret_keys.init_app(app)  # first: no usable key, no start
    db.init_app(app)
    with app.app_context():
        ping_idle_connections(db.engine)
        utc_sessions(db.engine)
    migrate.init_app(app, db, directory=str(settings.PROJECT_ROOT / "migrations"))
    api.ERROR_SCHEMA = ErrorSchema
    api.DEFAULT_ERROR_RESPONSE_NAME = None  # each operation lists the errors it can send
    api.init_app(app)
    for name, scheme in SECURITY_SCHEMES.items():
        api.spec.components.security_scheme(name, scheme)
    register_components(api.spec)
    celery_init_app(app)
    work.load_rows()
    init_cors(app)  # before the rate limits' hook: a preflight is answered first


def register_blueprints(app):
    from .photos.routes import blp as photos_blp
    from .webhooks.routes import blp as webhooks_blp

    api.register_blueprint(photos_blp)
    api.register_blueprint(webhooks_blp)
    init_limits(app, photos_blp, webhooks_blp)
    app.register_blueprint(health_blp)
    app.register_blueprint(docs.blp)
    app.register_blueprint(desk_blp)


def register_commands(app):
    from .cli import register_commands as register

    register(app)
