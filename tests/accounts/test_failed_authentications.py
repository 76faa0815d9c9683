"""AUTH_FAILURE_RATE_LIMIT: failed authentications per client address (a flood of random
keys), never holding back valid keys; the address behind TRUSTED_PROXIES; fail open."""
import logging
import secrets
import subprocess
import sys
import time

import pytest
import requests

from photoservice.accounts.api_keys import digest, revoke_key
from photoservice.accounts.models import ApiKey
from photoservice.extensions import db

PHOTOS = "/light/photos/"


def random_address():
    """An address of its own per test: the failure counts live in the session's Redis."""
    return "10.{}.{}.{}".format(*secrets.token_bytes(3))


def random_key():
    return "psk_" + secrets.token_urlsafe(32)


@pytest.fixture
def failures_limited(app, monkeypatch):
    monkeypatch.setitem(app.config, "AUTH_FAILURE_RATE_LIMIT", "5/minute")


def from_address(client, address, headers=None, method="get"):
    return getattr(client, method)(PHOTOS, headers=headers or {}, environ_base={"REMOTE_ADDR": address})


def test_a_flood_of_random_keys_is_refused_with_429(failures_limited, client):
    address = random_address()
    statuses = [from_address(client, address, {"X-API-KEY": random_key()}).status_code
                for _ in range(8)]
    assert statuses == [401] * 5 + [429] * 3
    refused = from_address(client, address, {"Authorization": f"Bearer {random_key()}"})
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    body = refused.get_json()
    assert body["code"] == 429 and body["status"] == "Too Many Requests"
    assert body["message"].startswith("Too many failed authentications from this address (5 per 1 minute)")
    assert from_address(client, address).status_code == 429  # no key at all
    assert from_address(client, random_address(), {"X-API-KEY": random_key()}).status_code == 401


def test_a_revoked_key_counts_and_is_refused_like_an_unknown_one(failures_limited, app, client, company):
    key = company["users"][0]["api_key"]
    with app.app_context():
        revoke_key(db.session.execute(db.select(ApiKey.id).where(ApiKey.digest == digest(key))).scalar_one())
        db.session.commit()
    address = random_address()
    statuses = [from_address(client, address, {"X-API-KEY": key}).status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]


def test_valid_keys_from_a_locked_out_address_keep_working(failures_limited, client, company):
    """Coworkers behind one office or carrier NAT: a guesser among them stops no one."""
    address = random_address()
    valid = [user["api_key"] for user in company["users"]]
    for _ in range(4):  # valid requests never count towards the lockout
        assert from_address(client, address, {"X-API-KEY": valid[0]}).status_code == 200
    assert [from_address(client, address, {"X-API-KEY": random_key()}).status_code
            for _ in range(6)] == [401] * 5 + [429]
    for key in valid:
        assert from_address(client, address, {"X-API-KEY": key}).status_code == 200
        assert from_address(client, address, {"Authorization": f"Bearer {key}"}).status_code == 200
    assert from_address(client, address, {"X-API-KEY": random_key()}).status_code == 429


def test_without_trusted_proxies_x_forwarded_for_is_ignored(failures_limited, client):
    address = random_address()
    statuses = [from_address(client, address, {"X-API-KEY": random_key(),
                                               "X-Forwarded-For": random_address()}).status_code
                for _ in range(7)]
    assert statuses == [401] * 5 + [429] * 2


def test_preflights_never_count(failures_limited, client):
    address = random_address()
    preflight = {"Origin": "https://app.example", "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "x-api-key"}
    assert {from_address(client, address, preflight, method="options").status_code
            for _ in range(10)} == {401}
    assert [from_address(client, address, {"X-API-KEY": random_key()}).status_code
            for _ in range(6)] == [401] * 5 + [429]
    assert from_address(client, address, preflight, method="options").status_code == 401


def test_a_lockout_ends_when_the_window_passes(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "AUTH_FAILURE_RATE_LIMIT", "3/2 seconds")
    address = random_address()
    assert [from_address(client, address, {"X-API-KEY": random_key()}).status_code
            for _ in range(4)] == [401] * 3 + [429]
    refused = from_address(client, address, {"X-API-KEY": random_key()})
    assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 2
    time.sleep(2.1)
    assert [from_address(client, address, {"X-API-KEY": random_key()}).status_code
            for _ in range(4)] == [401] * 3 + [429]


def test_behind_a_trusted_proxy_the_last_forwarded_hop_is_the_client(company, web_server):
    """As Heroku's router: it appends the address it saw; what the client sent before stays."""
    server = web_server(workers=2, AUTH_FAILURE_RATE_LIMIT="3/minute", TRUSTED_PROXIES=1,
                        API_RATE_LIMIT="off")
    guesser, coworker, other = random_address(), random_address(), random_address()

    def get(forwarded_for, key=None):
        headers = {"X-API-KEY": key or random_key(), "X-Forwarded-For": forwarded_for}
        return requests.get(f"{server.url}{PHOTOS}", headers=headers, timeout=10).status_code

    assert [get(guesser) for _ in range(5)] == [401] * 3 + [429] * 2
    assert get(f"{other}, {guesser}") == 429  # a spoofed first hop does not escape
    assert get(other) == 401  # another client behind the same proxy is not locked out
    assert get(guesser, key=company["users"][0]["api_key"]) == 200
    assert get(coworker, key=company["users"][1]["api_key"]) == 200


def test_redis_down_fails_open_for_failed_authentications(failures_limited, client, redis_server, caplog):
    address = random_address()
    redis_server.stop()
    try:
        with caplog.at_level(logging.ERROR):
            statuses = [from_address(client, address, {"X-API-KEY": random_key()}).status_code
                        for _ in range(8)]
    finally:
        redis_server.start()
    assert statuses == [401] * 8
    assert any("AUTH_FAILURE_RATE_LIMIT not applied" in record.getMessage() for record in caplog.records)


@pytest.mark.parametrize("setting, value, message", [
    ("AUTH_FAILURE_RATE_LIMIT", "twenty", "AUTH_FAILURE_RATE_LIMIT must be like"),
    ("TRUSTED_PROXIES", "-1", "TRUSTED_PROXIES must be 0 or more"),
])
def test_a_malformed_setting_stops_the_start(app_env, setting, value, message):
    started = subprocess.run([sys.executable, "-c", "from photoservice import create_app; create_app()"],
                             env=app_env(**{setting: value}), capture_output=True, text=True, timeout=60)
    assert started.returncode != 0 and message in started.stderr
