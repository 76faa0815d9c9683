"""API_RATE_LIMIT: per API key, shared by web processes through Redis, fail open.
(Failed authentications per address: tests/accounts/test_failed_authentications.py.)"""
import logging

import pytest
import requests


@pytest.fixture
def limited(app, monkeypatch):
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "5/second")


def burst(call, times):
    return [call().status_code for _ in range(times)]


def test_over_the_limit_is_429_with_retry_after(limited, as_user):
    owner = as_user("owner")
    statuses = burst(lambda: owner.get("/light/photos/"), 8)
    assert statuses.count(200) == 5 and statuses[5:] == [429] * 3
    refused = owner.get("/light/photos/")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    body = refused.get_json()
    assert body["code"] == 429 and body["status"] == "Too Many Requests" and body["message"]
    assert owner.headers["X-API-KEY"] not in refused.get_data(as_text=True)


def test_a_key_has_one_budget_across_the_api(limited, as_user):
    owner = as_user("owner")
    statuses = [owner.get("/light/photos/" if n % 2 else "/light/webhooks/").status_code for n in range(7)]
    assert statuses[:5].count(429) == 0 and statuses[5:] == [429, 429]


def test_each_key_has_its_own_budget(limited, as_user):
    owner, crew = as_user("owner"), as_user("crew")
    assert burst(lambda: owner.get("/light/photos/"), 6)[-1] == 429
    assert crew.get("/light/photos/").status_code == 200


def test_a_key_has_one_budget_whichever_header_carries_it(limited, client, company):
    key = company["users"][0]["api_key"]
    as_header = {"X-API-KEY": key}
    as_bearer = {"Authorization": f"Bearer {key}"}
    statuses = [client.get("/light/photos/", headers=as_header if n % 2 else as_bearer).status_code
                for n in range(8)]
    assert statuses.count(200) == 5 and statuses[5:] == [429] * 3


def test_docs_and_health_are_not_limited(limited, client):
    assert set(burst(lambda: client.get("/openapi.json"), 12)) == {200}
    assert set(burst(lambda: client.get("/healthz"), 12)) == {200}


def test_off_disables_limits(app, as_user, monkeypatch):
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "off")
    owner = as_user("owner")
    assert set(burst(lambda: owner.get("/light/photos/"), 12)) == {200}


def test_limit_is_shared_across_web_processes(company, web_server):
    server = web_server(workers=2, API_RATE_LIMIT="5/second")
    key = company["users"][0]["api_key"]
    with requests.Session() as session:
        statuses = [session.get(f"{server.url}/light/photos/", headers={"X-API-KEY": key},
                                timeout=10).status_code for _ in range(10)]
    assert sorted(statuses) == [200] * 5 + [429] * 5


def test_redis_down_fails_open_and_logs(limited, as_user, redis_server, caplog):
    owner = as_user("owner")
    redis_server.stop()
    try:
        with caplog.at_level(logging.ERROR):
            statuses = burst(lambda: owner.get("/light/photos/"), 8)
    finally:
        redis_server.start()
    assert statuses == [200] * 8
    assert any("rate limit" in record.getMessage().lower() for record in caplog.records)

