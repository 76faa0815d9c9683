"""Secrets stay secret: API keys out of logs and bodies, the S3 secret on the server."""
import logging

import requests

from photoservice.accounts.api_keys import revoke_key
from photoservice.extensions import db


def test_api_keys_never_reach_the_logs(app, company, web_server, tmp_path):
    owner, crew = company["users"][0], company["users"][2]
    server = web_server(workers=1)
    with app.app_context():
        revoke_key(db.session.execute(db.text(
            "SELECT id FROM api_keys WHERE user_id = :u"), {"u": crew["id"]}).scalar_one())
        db.session.commit()
    sent = [owner["api_key"], crew["api_key"], "psk_made-up-key-that-does-not-exist"]
    for key in sent:
        for headers in ({"X-API-KEY": key}, {"Authorization": f"Bearer {key}"}):
            requests.get(f"{server.url}/light/photos/", headers=headers, timeout=10)
            requests.post(f"{server.url}/light/photos/", headers=headers, json={"name": None}, timeout=10)
            requests.get(f"{server.url}/light/photos/1/", headers=headers, timeout=10)
    log_text = "".join(path.read_text() for path in tmp_path.glob("web*.log"))
    assert "photoservice.requests: GET /light/photos/ " in log_text  # the request lines were written
    for key in sent:
        assert key not in log_text


def test_api_keys_never_reach_application_logs_or_bodies(client, company, caplog):
    key = company["users"][0]["api_key"]
    with caplog.at_level(logging.DEBUG):
        bodies = [
            client.get("/light/photos/", headers={"X-API-KEY": key + "x"}).get_data(as_text=True),
            client.post("/light/photos/", headers={"X-API-KEY": key}, json={"bad": 1}).get_data(as_text=True),
            client.get("/light/photos/1/", headers={"Authorization": f"Bearer {key}"}).get_data(as_text=True),
        ]
    assert all(key not in body for body in bodies)
    assert key not in caplog.text


def test_the_s3_secret_never_leaves_the_server(app, as_user, client):
    secret = app.config["AWS_SECRET_ACCESS_KEY"]
    owner = as_user("owner")
    photo = owner.upload_and_finalize()
    bodies = [
        owner.post({"name": "another"}).get_data(as_text=True),
        owner.get(f"/light/photos/{photo['id']}/").get_data(as_text=True),
        owner.get("/light/photos/").get_data(as_text=True),
        client.get("/openapi.json").get_data(as_text=True),
        client.get("/readyz").get_data(as_text=True),
    ]
    assert all(secret not in body for body in bodies)
    assert photo["key"] in bodies[1]  # the bodies are real ones
