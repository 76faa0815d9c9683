"""CORS_ORIGINS: preflights answered without a key, and every response to an allowed
origin (errors included) carries the CORS headers; other origins get none."""
import pytest

from photoservice import create_app
from photoservice.web.cors import MAX_AGE_SECONDS

ALLOWED, OTHER = "https://office.example", "https://evil.example"
CLOSED_PORT_URL = "http://127.0.0.1:9"


@pytest.fixture(scope="module")
def cors_apps():
    return {}


@pytest.fixture
def cors_app(app, app_config, cors_apps):
    """`cors_app(origins)` → an app like the suite's with CORS_ORIGINS = `origins`."""
    def make(origins=(ALLOWED, "https://field.example")):
        if origins not in cors_apps:
            cors_apps[origins] = create_app({**app_config, "CORS_ORIGINS": list(origins)})
        return cors_apps[origins]
    return make


def preflight(client, path, method="POST", origin=ALLOWED,
              headers="x-api-key, content-type, x-request-id"):
    return client.options(path, headers={"Origin": origin, "Access-Control-Request-Method": method,
                                         "Access-Control-Request-Headers": headers})


def owner_key(company):
    return next(u for u in company["users"] if u["role"] == "owner")["api_key"]


@pytest.mark.parametrize("path, method", [
    ("/light/photos/", "POST"),
    ("/light/photos/", "GET"),
    ("/light/photos/7/", "PATCH"),
    ("/light/photos/7/uploaded/", "PUT"),
    ("/light/photos/7/", "DELETE"),
    ("/light/photos/7/multipart/parts/", "POST"),
    ("/light/webhooks/", "POST"),
    ("/light/webhooks/3/", "PATCH"),
    ("/light/webhooks/3/deliveries/", "GET"),
])
def test_a_preflight_is_answered_without_a_key(cors_app, path, method):
    response = preflight(cors_app().test_client(), path, method)
    assert response.status_code == 200, response.get_data(as_text=True)
    headers = response.headers
    assert headers["Access-Control-Allow-Origin"] == ALLOWED
    assert method in headers["Access-Control-Allow-Methods"].split(", ")
    assert {h.strip().lower() for h in headers["Access-Control-Allow-Headers"].split(",")} == {
        "x-api-key", "content-type", "x-request-id"}
    assert headers["Access-Control-Max-Age"] == str(MAX_AGE_SECONDS)
    assert "Access-Control-Allow-Credentials" not in headers  # keys travel in headers, not cookies


def test_a_preflight_allows_a_bearer_key(cors_app):
    response = preflight(cors_app().test_client(), "/light/photos/", "GET", headers="authorization")
    assert response.headers["Access-Control-Allow-Headers"].lower() == "authorization"


def test_a_header_clients_do_not_send_is_not_allowed(cors_app):
    response = preflight(cors_app().test_client(), "/light/photos/", headers="x-api-key, x-debug")
    assert response.headers["Access-Control-Allow-Headers"].lower() == "x-api-key"


def test_preflights_count_against_no_limit(cors_app):
    app = cors_app()
    app.config.update(API_RATE_LIMIT="2/minute", AUTH_FAILURE_RATE_LIMIT="2/minute")
    try:
        client = app.test_client()
        statuses = [preflight(client, "/light/photos/").status_code for _ in range(6)]
    finally:
        app.config.update(API_RATE_LIMIT="off", AUTH_FAILURE_RATE_LIMIT="off")
    assert statuses == [200] * 6


def test_responses_to_an_allowed_origin_carry_and_expose_headers(cors_app, company):
    client = cors_app().test_client()
    headers = {"Origin": ALLOWED, "X-API-KEY": owner_key(company)}
    responses = {
        "ok": client.get("/light/photos/", headers=headers),
        "created": client.post("/light/photos/", json={"name": "Ridge"}, headers=headers),
        "bad input": client.post("/light/photos/", json={"name": ""}, headers=headers),
        "no key": client.get("/light/photos/", headers={"Origin": ALLOWED}),
        "unknown photo": client.get("/light/photos/999999/", headers=headers),
        "unknown path": client.get("/light/nothing/", headers=headers),
        "webhooks": client.get("/light/webhooks/", headers=headers),
        "openapi": client.get("/openapi.json", headers={"Origin": ALLOWED}),
    }
    statuses = {name: response.status_code for name, response in responses.items()}
    assert statuses == {"ok": 200, "created": 201, "bad input": 400, "no key": 401,
                        "unknown photo": 404, "unknown path": 404, "webhooks": 200, "openapi": 200}
    for name, response in responses.items():
        assert response.headers.get("Access-Control-Allow-Origin") == ALLOWED, name
        exposed = {h.strip() for h in response.headers["Access-Control-Expose-Headers"].split(",")}
        assert {"Retry-After", "X-Request-ID"} <= exposed, name
        assert "Origin" in response.headers["Vary"], name


def test_429_and_503_carry_the_headers(cors_app, company, as_user):
    app = cors_app()
    client = app.test_client()
    headers = {"Origin": ALLOWED, "X-API-KEY": owner_key(company)}
    app.config["API_RATE_LIMIT"] = "1/minute"
    try:
        statuses = [client.get("/light/photos/", headers=headers) for _ in range(2)]
    finally:
        app.config["API_RATE_LIMIT"] = "off"
    refused = statuses[-1]
    assert refused.status_code == 429 and refused.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert "Retry-After" in refused.headers["Access-Control-Expose-Headers"]

    photo = as_user("owner").create()
    store, app.config["S3_ENDPOINT_URL"] = app.config["S3_ENDPOINT_URL"], CLOSED_PORT_URL
    try:
        outage = client.put(f"/light/photos/{photo['id']}/uploaded/", headers=headers)
    finally:
        app.config["S3_ENDPOINT_URL"] = store
    assert outage.status_code == 503 and outage.headers["Retry-After"]
    assert outage.headers["Access-Control-Allow-Origin"] == ALLOWED


def test_other_origins_get_no_cors_headers(cors_app, company):
    client = cors_app().test_client()
    answer = preflight(client, "/light/photos/", origin=OTHER)
    response = client.get("/light/photos/", headers={"Origin": OTHER, "X-API-KEY": owner_key(company)})
    assert response.status_code == 200
    for r in (answer, response):
        assert not [name for name, _ in r.headers if name.startswith("Access-Control-")]


def test_a_request_without_origin_gets_no_cors_headers(cors_app, company):
    response = cors_app().test_client().get("/light/photos/", headers={"X-API-KEY": owner_key(company)})
    assert response.status_code == 200 and "Access-Control-Allow-Origin" not in response.headers


def test_one_allowed_origin_still_varies_on_origin(cors_app, company):
    client = cors_app(("https://office.example",)).test_client()
    for origin in ("https://office.example", OTHER):
        response = client.get("/light/photos/", headers={"Origin": origin, "X-API-KEY": owner_key(company)})
        assert response.headers["Vary"] == "Origin", origin


def test_any_origin_with_a_wildcard(cors_app):
    response = preflight(cors_app(("*",)).test_client(), "/light/photos/", origin=OTHER)
    assert response.status_code == 200 and response.headers["Access-Control-Allow-Origin"] == "*"


def test_without_cors_origins_no_headers_and_a_preflight_needs_a_key(client):
    response = preflight(client, "/light/photos/")
    assert response.status_code == 401
    assert not [name for name, _ in response.headers if name.startswith("Access-Control-")]


def test_pages_outside_the_api_get_no_cors_headers(cors_app):
    response = cors_app().test_client().get("/healthz", headers={"Origin": ALLOWED})
    assert "Access-Control-Allow-Origin" not in response.headers

