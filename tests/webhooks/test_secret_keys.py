"""Signing secrets at rest: sealed with WEBHOOK_SECRET_KEYS (Fernet, the first key seals,
all open), shown once in clear, opened to sign; no usable key, no start."""
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet, InvalidToken
from flask_migrate import downgrade, upgrade
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from devstack.__main__ import main as devstack
from photoservice import create_app, settings
from photoservice.extensions import db
from photoservice.webhooks import secret_keys

ROOT = Path(__file__).resolve().parents[2]
CELERY = str(Path(sys.executable).with_name("celery"))


def stored(app, endpoint_id):
    """(secret, previous_secret) as the database holds them."""
    with app.app_context():
        return tuple(db.session.execute(db.text(
            "SELECT secret, previous_secret FROM webhook_endpoints WHERE id = :id"),
            {"id": endpoint_id}).one())


def test_the_database_holds_a_token_not_the_secret(app, owner, register):
    endpoint = register("https://crm.example.com/hooks")
    rotated = owner.client.post(f"/light/webhooks/{endpoint['id']}/rotate-secret/",
                                headers=owner.headers).get_json()
    secret, previous = stored(app, endpoint["id"])
    for token, clear in ((secret, rotated["secret"]), (previous, endpoint["secret"])):
        assert clear not in token and not token.startswith("whsec_")
        assert Fernet(app.config["WEBHOOK_SECRET_KEYS"]).decrypt(token.encode()).decode() == clear


def test_keys_rotate_the_old_one_still_opens(app, owner, register, receiver, deliveries, attempt,
                                             monkeypatch):
    old_key = app.config["WEBHOOK_SECRET_KEYS"]
    before = register(receiver.url, ["photo.uploaded"])  # sealed with the old key
    new_key = Fernet.generate_key().decode()
    monkeypatch.setitem(app.extensions, "webhook_secret_keys", secret_keys.keyring(f"{new_key},{old_key}"))
    after = register(receiver.url, ["photo.uploaded"])  # sealed with the new one
    assert Fernet(new_key).decrypt(stored(app, after["id"])[0].encode())
    with pytest.raises(InvalidToken):
        Fernet(old_key).decrypt(stored(app, after["id"])[0].encode())

    owner.upload_and_finalize()
    for row in deliveries():
        attempt(row.id)
    assert [row.status for row in deliveries()] == ["succeeded", "succeeded"]
    # Each endpoint's request verifies with its own secret, and only with it.
    assert sorted([verifies(before["secret"], request), verifies(after["secret"], request)]
                  for request in receiver.requests) == [[False, True], [True, False]]


def verifies(secret, request):
    try:
        Webhook(secret).verify(request["body"], request["headers"])
    except WebhookVerificationError:
        return False
    return True


def test_a_secret_no_key_opens_is_a_failed_attempt(app, owner, register, receiver, deliveries,
                                                   attempt, monkeypatch):
    register(receiver.url, ["photo.uploaded"])
    monkeypatch.setitem(app.extensions, "webhook_secret_keys",
                        secret_keys.keyring(Fernet.generate_key().decode()))  # the old key dropped
    owner.upload_and_finalize()
    attempt(deliveries()[0].id)
    [row] = deliveries()
    assert row.status == "pending" and row.attempts == 1 and receiver.requests == []
    assert row.last_error == "The signing secret cannot be decrypted with WEBHOOK_SECRET_KEYS"


@pytest.mark.parametrize("value", [None, "", " , "])
def test_no_key_no_start(value):
    with pytest.raises(RuntimeError) as refused:
        create_app({"WEBHOOK_SECRET_KEYS": value})
    assert "WEBHOOK_SECRET_KEYS is not set" in str(refused.value)
    assert secret_keys.HOW_TO_MAKE_ONE in str(refused.value)


def test_a_malformed_key_stops_the_start_without_quoting_it():
    good = Fernet.generate_key().decode()
    with pytest.raises(RuntimeError) as refused:
        create_app({"WEBHOOK_SECRET_KEYS": f"{good},not-a-fernet-key"})
    assert "key 2 of 2 is not a Fernet key" in str(refused.value)
    assert "not-a-fernet-key" not in str(refused.value) and good not in str(refused.value)


def test_a_worker_refuses_to_start_with_a_malformed_key(app_env):
    done = subprocess.run([CELERY, "--app", "workers.worker:celery_app", "worker", "--pool", "solo"],
                          cwd=ROOT, env=app_env(WEBHOOK_SECRET_KEYS="c2hvcnQ="), capture_output=True,
                          text=True, timeout=60)
    assert done.returncode != 0
    assert "WEBHOOK_SECRET_KEYS: key 1 of 1 is not a Fernet key" in done.stderr


def test_the_dev_key_is_the_default(tmp_path, monkeypatch):
    monkeypatch.setattr(settings, "DEV_WEBHOOK_SECRET_KEYS", tmp_path / "webhook-secret-keys")
    assert settings.from_environ({})["WEBHOOK_SECRET_KEYS"] is None
    (tmp_path / "webhook-secret-keys").write_text("dev-key\n")
    assert settings.from_environ({})["WEBHOOK_SECRET_KEYS"] == "dev-key"
    assert settings.from_environ({"WEBHOOK_SECRET_KEYS": "mine"})["WEBHOOK_SECRET_KEYS"] == "mine"


def test_make_dev_makes_one_key_once_readable_by_its_owner_only(tmp_path):
    path = tmp_path / "webhook-secret-keys"
    assert devstack(["credentials", "--dir", str(tmp_path / "s3"), "--webhook-keys", str(path)]) == 0
    key = path.read_text().strip()
    secret_keys.keyring(key)  # a usable key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert devstack(["credentials", "--dir", str(tmp_path / "s3")]) == 0  # beside --dir by default
    assert path.read_text().strip() == key  # never replaced


def test_the_migration_encrypts_clear_secrets_and_back(app, owner, register):
    endpoint = register("https://crm.example.com/hooks")
    rotated = owner.client.post(f"/light/webhooks/{endpoint['id']}/rotate-secret/",
                                headers=owner.headers).get_json()
    with app.app_context():
        downgrade(revision="0008")
    try:
        assert stored(app, endpoint["id"]) == (rotated["secret"], endpoint["secret"])
    finally:
        with app.app_context():
            upgrade()
    secret, previous = stored(app, endpoint["id"])
    with app.app_context():
        assert (secret_keys.unseal(secret), secret_keys.unseal(previous)) == (
            rotated["secret"], endpoint["secret"])
    assert not secret.startswith("whsec_") and not previous.startswith("whsec_")
