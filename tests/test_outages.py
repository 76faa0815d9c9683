"""Dependency outages: clear 503s with Retry-After, health and readiness probes."""
import requests

CLOSED_PORT_URL = "http://127.0.0.1:9"


def test_healthz_answers_while_the_process_lives(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_readyz_reports_each_dependency(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ready",
                                   "checks": {"database": "ok", "redis": "ok", "store": "ok"}}


def test_readyz_is_503_when_the_store_is_down(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "S3_ENDPOINT_URL", CLOSED_PORT_URL)
    response = client.get("/readyz")
    assert response.status_code == 503 and response.headers["Retry-After"]
    checks = response.get_json()["checks"]
    assert checks["store"].startswith("unavailable") and checks["database"] == "ok"


def test_redis_down_degrades_but_stays_ready(client, redis_server):
    redis_server.stop()
    try:
        response = client.get("/readyz")
    finally:
        redis_server.start()
    assert response.status_code == 200
    assert response.get_json()["checks"]["redis"].startswith("unavailable")


def test_database_down_is_503_not_a_stack_trace(web_server):
    server = web_server(workers=1, DATABASE_URL="postgresql://postgres@127.0.0.1:9/photoservice")
    headers = {"X-API-KEY": "psk_anything"}
    for response in (requests.get(f"{server.url}/light/photos/", headers=headers, timeout=30),
                     requests.post(f"{server.url}/light/photos/", json={"name": "x"},
                                   headers=headers, timeout=30)):
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "5"
        assert response.json() == {"code": 503, "status": "Service Unavailable",
                                   "message": "The database is unavailable; try again shortly."}
    assert requests.get(f"{server.url}/healthz", timeout=10).status_code == 200
    ready = requests.get(f"{server.url}/readyz", timeout=30)
    assert ready.status_code == 503
    assert ready.json()["checks"]["database"].startswith("unavailable")
