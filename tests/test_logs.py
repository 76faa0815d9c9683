"""Request ids and the log's lines, in process: which ids are kept, that every response
echoes one, what the request line says, and that no line carries a secret."""
import io
import json
import logging
import uuid

import pytest

from photoservice import logs, request_ids
from photoservice.photos import services
from tests.support import NEW_YORK


@pytest.mark.parametrize("incoming", [
    "a", "f3c1b0d2-6a6e-4a3b-9d7e-0c1f2e3d4a5b", "abc.DEF_123:456-789", "x" * 200,
])
def test_a_valid_incoming_id_is_kept(incoming):
    assert request_ids.accepted(incoming) == incoming


@pytest.mark.parametrize("incoming", [
    None, "", "x" * 201, "two words", "line\nbreak", "quote\"d", "a/b", "ünïcode", "a;b", "tab\t",
])
def test_anything_else_is_replaced_by_a_generated_id(incoming):
    replaced = request_ids.accepted(incoming)
    assert replaced != incoming and uuid.UUID(replaced)


@pytest.fixture
def log_lines():
    """`log_lines()` → the JSON objects the root logger wrote since the fixture began."""
    buffer = io.StringIO()
    handler = logs.prepare(logging.StreamHandler(buffer), "json")
    root = logging.getLogger()
    root.addHandler(handler)
    yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]
    root.removeHandler(handler)


def requests_logged(lines):
    return [line for line in lines if line["logger"] == "photoservice.requests"]


@pytest.mark.parametrize("method, path, with_key, status", [
    ("get", "/healthz", False, 200),
    ("get", "/light/photos/", False, 401),
    ("get", "/light/photos/999999999/", True, 404),
    ("get", "/no/such/route", False, 404),
    ("delete", "/light/photos/", True, 405),
])
def test_every_response_echoes_the_id(client, company, method, path, with_key, status):
    headers = {"X-API-KEY": company["users"][0]["api_key"]} if with_key else {}
    kept = getattr(client, method)(path, headers={**headers, "X-Request-ID": "router-1"})
    replaced = getattr(client, method)(path, headers={**headers, "X-Request-ID": "not valid"})
    assert (kept.status_code, replaced.status_code) == (status, status)
    assert kept.headers["X-Request-ID"] == "router-1"
    assert uuid.UUID(replaced.headers["X-Request-ID"])


def test_a_too_large_body_echoes_the_id(client, company):
    response = client.post("/light/photos/", data=b"x" * (client.application.config["MAX_CONTENT_LENGTH"] + 1),
                           headers={"X-API-KEY": company["users"][0]["api_key"], "X-Request-ID": "big-1",
                                    "Content-Type": "application/json"})
    assert response.status_code == 413 and response.headers["X-Request-ID"] == "big-1"


def test_a_refusal_by_the_rate_limit_or_a_dependency_echoes_the_id(app, client, company, monkeypatch):
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "1/minute")
    headers = {"X-API-KEY": company["users"][1]["api_key"], "X-Request-ID": "limited-1"}
    statuses = [client.get("/light/photos/", headers=headers) for _ in range(2)]
    assert statuses[-1].status_code == 429 and statuses[-1].headers["X-Request-ID"] == "limited-1"
    monkeypatch.setitem(app.config, "S3_ENDPOINT_URL", "http://127.0.0.1:9")
    ready = client.get("/readyz", headers={"X-Request-ID": "ready-1"})
    assert ready.status_code == 503 and ready.headers["X-Request-ID"] == "ready-1"


def test_one_line_per_request_with_the_route_and_the_caller(client, company, log_lines):
    user = company["users"][0]
    response = client.post("/light/photos/?token=secret", json={"name": "Hip", "exif": dict(NEW_YORK)},
                           headers={"X-API-KEY": user["api_key"], "X-Request-ID": "create-1"})
    assert response.status_code == 201
    photo_id = response.get_json()["id"]
    client.get(f"/light/photos/{photo_id}/", headers={"X-API-KEY": user["api_key"]})
    lines = log_lines()
    created, read = requests_logged(lines)
    assert {key: created[key] for key in ("method", "path", "status", "request_id", "user_id",
                                          "company_id")} == {
        "method": "POST", "path": "/light/photos/", "status": 201, "request_id": "create-1",
        "user_id": user["id"], "company_id": company["id"]}
    assert isinstance(created["duration_ms"], float) and created["duration_ms"] >= 0
    assert read["path"] == "/light/photos/<int:photo_id>/" and read["request_id"] != "create-1"
    text = json.dumps(lines)
    assert user["api_key"] not in text and "secret" not in text and "40.7128" not in text


def test_a_path_no_route_matches_cannot_forge_a_line(client, log_lines):
    client.get("/no/such%0A2026-01-01 INFO photoservice.requests: GET /forged")
    [line] = requests_logged(log_lines())
    assert line["status"] == 404 and line["path"] == "/no/such\\n2026-01-01 INFO photoservice.requests: GET /forged"


def test_an_unexpected_error_is_logged_redacted_and_echoes_the_id(client, company, log_lines, monkeypatch):
    def fail(caller, photo_id):
        raise RuntimeError("GET https://store.example/p.jpg?X-Amz-Signature=abc123 failed at 40.71280,-74.00600")

    monkeypatch.setattr(services, "get_photo", fail)
    response = client.get("/light/photos/1/", headers={"X-API-KEY": company["users"][0]["api_key"],
                                                       "X-Request-ID": "boom-1"})
    assert response.status_code == 500 and response.headers["X-Request-ID"] == "boom-1"
    lines = log_lines()
    [error] = [line for line in lines if line["level"] == "ERROR"]
    assert error["request_id"] == "boom-1" and "RuntimeError" in error["exc_info"]
    assert "store.example/p.jpg?[redacted]" in error["exc_info"]
    text = json.dumps(lines)
    assert "abc123" not in text and "40.7128" not in text and "74.006" not in text
    assert requests_logged(lines)[0]["status"] == 500


def test_the_text_format_is_a_readable_line_with_its_context():
    buffer = io.StringIO()
    logger = logging.getLogger("tests.text")
    logger.addHandler(logs.prepare(logging.StreamHandler(buffer), "text"))
    token = request_ids.bind(request_id="r-1", task="workers.tasks.process_photo", photo_id=7)
    try:
        logger.warning("upload https://s3/x?sig=1 failed")
    finally:
        request_ids.unbind(token)
        logger.handlers.clear()
    line = buffer.getvalue()
    assert line.endswith("WARNING tests.text: upload https://s3/x?[redacted] failed "
                         "request_id=r-1 task=workers.tasks.process_photo photo_id=7\n")
