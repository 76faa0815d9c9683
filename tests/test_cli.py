"""The operator CLI, run for real: `flask --app wsgi <command>` in a subprocess.

Each command prints exactly one JSON object on stdout, and what it creates is
usable through the API (checked with the test client against the same database).
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import finished_photo, load_photo

PROJECT_ROOT = Path(__file__).resolve().parent.parent
FLASK = str(Path(sys.executable).parent / "flask")
LINE_ITEMS = ["job_inspection_line_item", "estimate_line_item", "supplemental_line_item",
              "change_order_line_item"]
PHOTOS = "/light/photos/"


@pytest.fixture
def cli(app, database_url):
    """`cli("create-job", "--company", 1, "Roof")` → the finished process (text output)."""
    env = dict(os.environ, DATABASE_URL=database_url, REDIS_URL=app.config["REDIS_URL"],
               WEBHOOK_SECRET_KEYS=app.config["WEBHOOK_SECRET_KEYS"])

    def run(*args):
        return subprocess.run([FLASK, "--app", "wsgi", *map(str, args)], cwd=PROJECT_ROOT, env=env,
                              capture_output=True, text=True, timeout=120)
    return run


@pytest.fixture
def cli_json(cli):
    """Run a command that must succeed; returns the one JSON object it printed."""
    def run(*args):
        done = cli(*args)
        assert done.returncode == 0, done.stderr
        printed = json.loads(done.stdout)  # fails on anything but one JSON document
        assert isinstance(printed, dict), done.stdout
        return printed
    return run


def key_headers(key):
    return {"X-API-KEY": key}


def create_photo(client, key, **body):
    body.setdefault("name", "CLI check")
    return client.post(PHOTOS, json=body, headers=key_headers(key))


# --- seed-demo ------------------------------------------------------------------

def assert_demo_company(client, company):
    assert set(company) == {"id", "users", "jobs", *LINE_ITEMS}
    assert isinstance(company["id"], int)
    assert sorted(u["role"] for u in company["users"]) == ["crew", "employee", "owner"]
    for user in company["users"]:
        assert set(user) == {"id", "role", "api_key"}
        assert isinstance(user["id"], int) and isinstance(user["api_key"], str)
        response = client.get(PHOTOS, headers=key_headers(user["api_key"]))
        assert response.status_code == 200, response.get_json()
    first, second = company["jobs"]
    assert isinstance(first, int) and isinstance(second, int) and first != second
    owner_key = next(u["api_key"] for u in company["users"] if u["role"] == "owner")
    for field in LINE_ITEMS:
        response = create_photo(client, owner_key, **{field: company[field]})
        assert response.status_code == 201, (field, response.get_json())
        assert response.get_json()["job"] == first, field
        assert response.get_json()[field] == company[field]
    assert create_photo(client, owner_key, job=second).status_code == 201


def test_seed_demo_prints_two_usable_companies(cli, client):
    done = cli("seed-demo")
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    assert set(printed) == {"companies"} and len(printed["companies"]) == 2
    first, second = printed["companies"]
    assert first["id"] != second["id"]
    for company in printed["companies"]:
        assert_demo_company(client, company)


def test_seed_demo_companies_are_separate_tenants(cli_json, client):
    first, second = cli_json("seed-demo")["companies"]
    second_owner = next(u["api_key"] for u in second["users"] if u["role"] == "owner")
    response = create_photo(client, second_owner, job=first["jobs"][0])
    assert response.status_code == 400
    assert set(response.get_json()["errors"]) == {"job"}


def test_seed_demo_twice_gives_new_companies(cli_json):
    runs = [cli_json("seed-demo")["companies"] for _ in range(2)]
    ids = [c["id"] for run in runs for c in run]
    keys = [u["api_key"] for run in runs for c in run for u in c["users"]]
    jobs = [j for run in runs for c in run for j in c["jobs"]]
    assert len(set(ids)) == 4 and len(set(keys)) == 12 and len(set(jobs)) == 8


# --- one object at a time ---------------------------------------------------------

@pytest.fixture
def operator_company(cli_json):
    """A company, an owner with a key, a job and an inspection, all made with the CLI."""
    company = cli_json("create-company", "Acme Roofing")
    assert company["name"] == "Acme Roofing"
    user = cli_json("create-user", "--company", company["id"], "--role", "owner", "Olive")
    assert user["company"] == company["id"] and user["role"] == "owner"
    key = cli_json("create-api-key", "--user", user["id"])
    assert key["user"] == user["id"] and isinstance(key["id"], int)
    job = cli_json("create-job", "--company", company["id"], "Main St")
    assert job["company"] == company["id"]
    inspection = cli_json("create-inspection", "--job", job["id"], "Roof inspection")
    assert inspection["job"] == job["id"]
    return {"company": company, "user": user, "key": key, "job": job, "inspection": inspection}


def test_created_user_and_key_work_through_the_api(client, operator_company):
    key = operator_company["key"]["api_key"]
    assert client.get(PHOTOS, headers=key_headers(key)).status_code == 200
    response = create_photo(client, key, job=operator_company["job"]["id"])
    assert response.status_code == 201, response.get_json()
    photo = response.get_json()
    assert photo["created_by"] == operator_company["user"]["id"]
    assert photo["job"] == operator_company["job"]["id"]


@pytest.mark.parametrize("role", ["owner", "employee", "crew"])
def test_create_user_with_each_role(cli_json, client, role):
    company = cli_json("create-company", "Roles Inc")
    user = cli_json("create-user", "--company", company["id"], "--role", role, "Someone")
    assert user["role"] == role
    key = cli_json("create-api-key", "--user", user["id"])["api_key"]
    assert client.get(PHOTOS, headers=key_headers(key)).status_code == 200


@pytest.mark.parametrize("kind, field", [
    ("estimate", "estimate_line_item"),
    ("supplemental", "supplemental_line_item"),
    ("change-order", "change_order_line_item"),
])
def test_create_job_line_item(cli_json, client, operator_company, kind, field):
    job_id = operator_company["job"]["id"]
    item = cli_json("create-line-item", "--kind", kind, "--parent", job_id, "Gutters")
    assert item["kind"] == kind and item["parent"] == job_id
    response = create_photo(client, operator_company["key"]["api_key"], **{field: item["id"]})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()[field] == item["id"]
    assert response.get_json()["job"] == job_id


def test_create_inspection_line_item(cli_json, client, operator_company):
    inspection_id = operator_company["inspection"]["id"]
    item = cli_json("create-line-item", "--kind", "inspection", "--parent", inspection_id, "Ridge")
    assert item["kind"] == "inspection" and item["parent"] == inspection_id
    response = create_photo(client, operator_company["key"]["api_key"],
                            job_inspection_line_item=item["id"])
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["job"] == operator_company["job"]["id"]


def test_revoke_api_key(cli_json, client, operator_company):
    key = operator_company["key"]
    assert client.get(PHOTOS, headers=key_headers(key["api_key"])).status_code == 200
    assert cli_json("revoke-api-key", key["id"]) == {"id": key["id"], "revoked": True}
    assert client.get(PHOTOS, headers=key_headers(key["api_key"])).status_code == 401
    # A new key for the same user works again.
    fresh = cli_json("create-api-key", "--user", operator_company["user"]["id"])
    assert fresh["api_key"] != key["api_key"]
    assert client.get(PHOTOS, headers=key_headers(fresh["api_key"])).status_code == 200


# --- rebuild-media ------------------------------------------------------------------

def test_rebuild_media_requeues_a_company_with_a_progress_line_per_batch(cli, app, company,
                                                                         other_company):
    ours = [finished_photo(app, company) for _ in range(5)]
    theirs = finished_photo(app, other_company)
    done = cli("rebuild-media", "--company", company["id"], "--batch", 2)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"requeued": 5, "company": company["id"], "photo": None}
    progress = [line for line in done.stderr.splitlines() if line.startswith("rebuild-media:")]
    assert progress == [f"rebuild-media: {count} photos re-queued, up to photo id {ours[count - 1]}"
                        for count in (2, 4, 5)]
    for photo_id in ours:
        photo = load_photo(app, photo_id)
        assert photo.media_status == "queued" and photo.sha256 is None
        assert photo.media_dispatched_at is not None  # the broker took it
    assert load_photo(app, theirs).media_status == "processed"


def test_rebuild_media_twice_requeues_nothing_still_queued(cli_json, app, company):
    photo_id = finished_photo(app, company)
    assert cli_json("rebuild-media", "--photo", photo_id) == {
        "requeued": 1, "company": None, "photo": photo_id}
    assert cli_json("rebuild-media") == {"requeued": 0, "company": None, "photo": None}
    assert load_photo(app, photo_id).media_status == "queued"


# --- refusals -----------------------------------------------------------------------

MISSING = 987_654


@pytest.mark.parametrize("args", [
    ["create-line-item", "--kind", "estimate", "--parent", MISSING, "x"],
    ["create-line-item", "--kind", "supplemental", "--parent", MISSING, "x"],
    ["create-line-item", "--kind", "change-order", "--parent", MISSING, "x"],
    ["create-line-item", "--kind", "inspection", "--parent", MISSING, "x"],
    ["create-inspection", "--job", MISSING, "x"],
    ["create-job", "--company", MISSING, "x"],
    ["create-user", "--company", MISSING, "--role", "owner", "x"],
    ["create-api-key", "--user", MISSING],
    ["revoke-api-key", MISSING],
    ["rebuild-media", "--company", MISSING],
    ["rebuild-media", "--photo", MISSING],
], ids=lambda args: " ".join(map(str, args[:3])))
def test_unknown_parent_fails_cleanly(cli, args):
    done = cli(*args)
    assert done.returncode != 0
    assert done.stdout == ""
    assert str(MISSING) in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("args", [
    ["create-line-item", "--kind", "invoice", "--parent", 1, "x"],
    ["create-user", "--company", 1, "--role", "admin", "x"],
    ["create-job", "--company", "abc", "x"],
    ["rebuild-media", "--photo", 2**31],
    ["rebuild-media", "--batch", 0],
], ids=["bad-kind", "bad-role", "non-integer-id", "id-out-of-range", "empty-batch"])
def test_bad_options_fail_cleanly(cli, args):
    done = cli(*args)
    assert done.returncode != 0
    assert done.stdout == ""
    assert "Traceback" not in done.stderr and done.stderr.strip()

