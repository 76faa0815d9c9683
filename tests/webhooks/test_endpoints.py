"""The endpoints API: owners only, validation, the secret shown once, rotation,
the deliveries log and redelivery."""
from datetime import timedelta

import pytest
from standardwebhooks import Webhook

from photoservice.database import utcnow
from photoservice.extensions import db
from photoservice.webhooks import services
from photoservice.webhooks.models import WebhookEndpoint
from photoservice.webhooks.secret_keys import unseal
from tests.webhooks.conftest import ALL_EVENTS

URL = "https://crm.example.com/hooks/photos"
SECRET_PREFIX = "whsec_"


def call(caller, method, path, **kwargs):
    return caller.client.open(path, method=method, headers=caller.headers, **kwargs)


def test_create_shows_the_secret_once(owner, register):
    created = register(URL, ["photo.uploaded"], description="Back office")
    assert created["secret"].startswith(SECRET_PREFIX)
    Webhook(created["secret"])  # the package accepts it as a key
    assert (created["url"], created["events"], created["description"]) == (URL, ["photo.uploaded"],
                                                                          "Back office")
    assert created["enabled"] is True and created["consecutive_failures"] == 0
    shown = owner.get(f"/light/webhooks/{created['id']}/").get_json()
    listed = owner.get("/light/webhooks/").get_json()
    assert "secret" not in shown and [e["id"] for e in listed] == [created["id"]]
    assert created["secret"] not in str(listed) + str(shown)


@pytest.mark.parametrize("role", ["employee", "crew"])
def test_only_owners_manage_webhooks(as_user, register, role):
    endpoint = register(URL)
    caller = as_user(role)
    for method, path, body in [("GET", "/light/webhooks/", None),
                               ("POST", "/light/webhooks/", {"url": URL, "events": ALL_EVENTS}),
                               ("POST", "/light/webhooks/", {"nonsense": 1}),
                               ("GET", f"/light/webhooks/{endpoint['id']}/", None),
                               ("PATCH", f"/light/webhooks/{endpoint['id']}/", {"enabled": False}),
                               ("DELETE", f"/light/webhooks/{endpoint['id']}/", None),
                               ("POST", f"/light/webhooks/{endpoint['id']}/rotate-secret/", None),
                               ("GET", f"/light/webhooks/{endpoint['id']}/deliveries/", None),
                               ("POST", f"/light/webhooks/{endpoint['id']}/deliveries/1/redeliver/", None)]:
        response = call(caller, method, path, **({"json": body} if body is not None else {}))
        assert response.status_code == 403, (method, path, response.get_json())
        assert response.get_json()["message"] == "Only the company's owners manage webhooks."


@pytest.mark.parametrize("body, field", [
    ({"events": ALL_EVENTS}, "url"),
    ({"url": URL}, "events"),
    ({"url": URL, "events": []}, "events"),
    ({"url": URL, "events": ["photo.created"]}, "events"),
    ({"url": "ftp://crm.example.com/x", "events": ALL_EVENTS}, "url"),
    ({"url": "https://user:pw@crm.example.com/", "events": ALL_EVENTS}, "url"),
    ({"url": "https://crm.example.com:99999/", "events": ALL_EVENTS}, "url"),
    ({"url": "https:///nohost", "events": ALL_EVENTS}, "url"),
    ({"url": "https://crm.example.com/" + "a" * 2048, "events": ALL_EVENTS}, "url"),
    ({"url": URL, "events": ALL_EVENTS, "description": "x" * 501}, "description"),
    ({"url": URL, "events": ALL_EVENTS, "secret": "whsec_mine"}, "secret"),
])
def test_bad_bodies_are_400_naming_the_field(owner, body, field):
    response = owner.client.post("/light/webhooks/", json=body, headers=owner.headers)
    assert response.status_code == 400
    assert set(response.get_json()["errors"]) == {field}


def test_events_are_kept_once_each(register):
    assert register(URL, ["photo.deleted", "photo.uploaded", "photo.deleted"])["events"] == [
        "photo.deleted", "photo.uploaded"]


def test_a_company_has_at_most_so_many_endpoints(register, monkeypatch):
    monkeypatch.setattr(services, "MAX_ENDPOINTS", 2)
    register(URL)
    register(URL)
    assert "at most 2" in register(URL, status=409)["message"]


def test_patch_changes_fields_and_switches_deliveries(owner, register):
    endpoint = register(URL)
    path = f"/light/webhooks/{endpoint['id']}/"
    changed = call(owner, "PATCH", path, json={"url": URL + "/v2", "events": ["photo.processed"],
                                               "description": None}).get_json()
    assert (changed["url"], changed["events"], changed["description"]) == (
        URL + "/v2", ["photo.processed"], None)
    off = call(owner, "PATCH", path, json={"enabled": False}).get_json()
    assert off["enabled"] is False and off["disabled_reason"] == "Disabled by an owner."
    assert off["disabled_at"] is not None
    on = call(owner, "PATCH", path, json={"enabled": True}).get_json()
    assert (on["enabled"], on["disabled_reason"], on["consecutive_failures"]) == (True, None, 0)
    assert call(owner, "PATCH", path, json={"events": []}).status_code == 400


def test_reenabling_resets_the_failure_count(app, owner, register):
    endpoint = register(URL)
    with app.app_context():
        row = db.session.get(WebhookEndpoint, endpoint["id"])
        row.enabled, row.disabled_reason, row.consecutive_failures = False, "too many", 40
        db.session.commit()
    on = call(owner, "PATCH", f"/light/webhooks/{endpoint['id']}/", json={"enabled": True}).get_json()
    assert (on["enabled"], on["consecutive_failures"], on["disabled_reason"]) == (True, 0, None)


def test_delete_removes_the_endpoint(owner, register):
    endpoint = register(URL)
    path = f"/light/webhooks/{endpoint['id']}/"
    response = call(owner, "DELETE", path)
    assert response.status_code == 204 and response.data == b""
    assert call(owner, "GET", path).status_code == 404
    assert call(owner, "DELETE", path).status_code == 404


def test_rotation_shows_a_new_secret_and_keeps_the_old_one_signing_a_day(app, owner, register):
    endpoint = register(URL)
    rotated = call(owner, "POST", f"/light/webhooks/{endpoint['id']}/rotate-secret/")
    assert rotated.status_code == 200
    body = rotated.get_json()
    assert body["secret"].startswith(SECRET_PREFIX) and body["secret"] != endpoint["secret"]
    expires = body["previous_secret_expires_at"]
    with app.app_context():
        row = db.session.get(WebhookEndpoint, endpoint["id"])
        assert unseal(row.previous_secret) == endpoint["secret"]
        assert unseal(row.secret) == body["secret"]
        left = row.previous_secret_expires_at - utcnow()
    assert timedelta(hours=23, minutes=59) < left <= timedelta(hours=24) and expires


def test_ids_past_the_database_range_are_404(owner):
    assert owner.get(f"/light/webhooks/{2**40}/").status_code == 404
    assert call(owner, "POST", f"/light/webhooks/{2**40}/deliveries/{2**40}/redeliver/").status_code == 404


def test_deliveries_log_and_redelivery(owner, register, deliveries):
    endpoint = register(URL, ["photo.uploaded"])
    photos = [owner.upload_and_finalize(name=f"Ridge {n}") for n in range(3)]
    log_path = f"/light/webhooks/{endpoint['id']}/deliveries/"
    page = owner.get(log_path, query_string={"page_size": 2}).get_json()
    assert page["count"] == 3 and page["next"] and len(page["results"]) == 2
    newest = page["results"][0]
    assert newest["event"] == "photo.uploaded" and newest["status"] == "pending"
    assert newest["payload"]["data"]["id"] == photos[-1]["id"]
    assert newest["message_id"].startswith("msg_") and newest["attempts"] == 0
    again = call(owner, "POST", f"{log_path}{newest['id']}/redeliver/")
    assert again.status_code == 202
    assert again.get_json()["message_id"] == newest["message_id"]
    assert call(owner, "POST", f"{log_path}999999/redeliver/").status_code == 404


def test_redelivery_needs_an_enabled_endpoint(owner, register, deliveries):
    endpoint = register(URL, ["photo.uploaded"])
    owner.upload_and_finalize()
    [delivery] = deliveries()
    call(owner, "PATCH", f"/light/webhooks/{endpoint['id']}/", json={"enabled": False})
    response = call(owner, "POST", f"/light/webhooks/{endpoint['id']}/deliveries/{delivery.id}/redeliver/")
    assert response.status_code == 409 and "disabled" in response.get_json()["message"]


def test_another_companys_endpoint_is_a_missing_one(as_user, other_company, register):
    theirs = register(URL, caller=as_user("owner", of=other_company))
    ours = as_user("owner")
    for path in (f"/light/webhooks/{theirs['id']}/", f"/light/webhooks/{theirs['id']}/deliveries/"):
        foreign, missing = ours.get(path), ours.get(path.replace(str(theirs["id"]), "2000000000"))
        assert foreign.status_code == 404 and foreign.data == missing.data
    assert ours.get("/light/webhooks/").get_json() == []
