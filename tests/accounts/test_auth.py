"""API-key authentication: X-API-KEY or Bearer, stored hashed, revocable, 401 otherwise."""
import base64

import pytest

from photoservice.accounts.api_keys import digest, revoke_key
from photoservice.accounts.models import ApiKey
from photoservice.extensions import db

PHOTOS = "/light/photos/"


def user_of(company, role):
    return next(u for u in company["users"] if u["role"] == role)


def key_of(company, role="owner"):
    return user_of(company, role)["api_key"]


def assert_401(response, *secrets):
    """A JSON 401 in the common error shape that echoes none of `secrets`."""
    assert response.status_code == 401, (response.status_code, response.get_data(as_text=True))
    assert response.is_json
    body = response.get_json()
    assert body["code"] == 401 and body["status"] == "Unauthorized" and body["message"]
    text = response.get_data(as_text=True)
    for secret in secrets:
        assert secret not in text
        assert all(secret not in value for value in response.headers.values())


@pytest.fixture
def photo(as_user):
    """A pending photo of `company`, so per-photo endpoints have a real target."""
    return as_user("owner").create(name="Ridge")


def endpoints(photo_id):
    """(method, path, kwargs) for every endpoint of the API."""
    return [
        ("get", PHOTOS, {}),
        ("post", PHOTOS, {"json": {"name": "x"}}),
        ("get", f"{PHOTOS}{photo_id}/", {}),
        ("put", f"{PHOTOS}{photo_id}/uploaded/", {}),
    ]


def call(client, method, path, headers=None, **kwargs):
    return getattr(client, method)(path, headers=headers or {}, **kwargs)


def test_no_key_is_401_on_every_endpoint(client, photo):
    for method, path, kwargs in endpoints(photo["id"]):
        assert_401(call(client, method, path, **kwargs))


@pytest.mark.parametrize("bad_key", [
    "psk_" + "A" * 43, "not-a-key", "é-latin1", "k" * 10_000, " ",
], ids=["well-formed", "garbage", "non-ascii", "very-long", "blank"])
def test_wrong_key_is_401_on_every_endpoint(client, photo, bad_key):
    for method, path, kwargs in endpoints(photo["id"]):
        response = call(client, method, path, {"X-API-KEY": bad_key}, **kwargs)
        assert_401(response, *([bad_key] if bad_key.strip() else []))


def test_key_of_one_user_with_a_character_changed_is_401(client, company):
    key = key_of(company)
    tampered = key[:-1] + ("A" if key[-1] != "A" else "B")
    assert_401(client.get(PHOTOS, headers={"X-API-KEY": tampered}), tampered)


def test_x_api_key_header_authenticates_as_its_user(client, company):
    crew = user_of(company, "crew")
    response = client.post(PHOTOS, json={"name": "x"}, headers={"X-API-KEY": crew["api_key"]})
    assert response.status_code == 201
    assert response.get_json()["created_by"] == crew["id"]


@pytest.mark.parametrize("scheme", ["Bearer", "bearer"])
def test_bearer_key_works(client, company, scheme):
    employee = user_of(company, "employee")
    headers = {"Authorization": f"{scheme} {employee['api_key']}"}
    assert client.get(PHOTOS, headers=headers).status_code == 200
    response = client.post(PHOTOS, json={"name": "x"}, headers=headers)
    assert response.status_code == 201
    assert response.get_json()["created_by"] == employee["id"]


def test_bearer_with_a_wrong_key_is_401(client):
    assert_401(client.get(PHOTOS, headers={"Authorization": "Bearer psk_nope"}), "psk_nope")


@pytest.mark.parametrize("credentials", ["{key}:", "{key}:{key}", "user:{key}"])
def test_basic_auth_is_401(client, company, credentials):
    key = key_of(company)
    token = base64.b64encode(credentials.format(key=key).encode()).decode()
    assert_401(client.get(PHOTOS, headers={"Authorization": f"Basic {token}"}), key, token)


@pytest.mark.parametrize("value", ["{key}", "Token {key}", "Bearer", "Bearer "])
def test_other_authorization_forms_are_401(client, company, value):
    key = key_of(company)
    assert_401(client.get(PHOTOS, headers={"Authorization": value.format(key=key)}), key)


def test_key_in_the_query_string_is_not_accepted(client, company):
    key = key_of(company)
    assert_401(client.get(PHOTOS, query_string={"api_key": key}), key)


def _key_id(app, key):
    with app.app_context():
        return db.session.execute(
            db.select(ApiKey.id).where(ApiKey.digest == digest(key))).scalar_one()


def test_revoked_key_stops_working_on_the_next_request(app, client, company):
    key = key_of(company)
    headers = {"X-API-KEY": key}
    assert client.get(PHOTOS, headers=headers).status_code == 200
    key_id = _key_id(app, key)
    with app.app_context():
        assert revoke_key(key_id) is True
        db.session.commit()
    assert_401(client.get(PHOTOS, headers=headers), key)
    assert_401(client.post(PHOTOS, json={"name": "x"}, headers={"Authorization": f"Bearer {key}"}),
               key)
    # Only that key: the company's other users keep working.
    assert client.get(PHOTOS, headers={"X-API-KEY": key_of(company, "crew")}).status_code == 200


def test_revoking_twice_and_unknown_keys(app, company):
    key_id = _key_id(app, key_of(company))
    with app.app_context():
        assert revoke_key(key_id) is True
        db.session.commit()
        first = db.session.get(ApiKey, key_id).revoked_at
        assert revoke_key(key_id) is True
        db.session.commit()
        assert db.session.get(ApiKey, key_id).revoked_at == first
        assert revoke_key(999_999) is False


def test_database_stores_only_a_digest(app, company, other_company):
    keys = [u["api_key"] for c in (company, other_company) for u in c["users"]]
    with app.app_context():
        rows = db.session.execute(db.text("SELECT * FROM api_keys")).mappings().all()
    assert len(rows) == len(keys)
    for row in rows:
        stored = " ".join(str(value) for value in row.values())
        for key in keys:
            assert key not in stored
            assert key[::-1] not in stored
    assert {row["digest"] for row in rows} == {digest(key) for key in keys}
    assert all(digest(key) != key and len(digest(key)) == 64 for key in keys)


def test_keys_are_distinct_and_long(company, other_company):
    keys = [u["api_key"] for c in (company, other_company) for u in c["users"]]
    assert len(set(keys)) == len(keys)
    assert all(len(key) >= 32 for key in keys)
