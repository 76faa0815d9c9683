"""Offline phones retry: concurrent creates with one client_id make one photo."""
import threading
from concurrent.futures import ThreadPoolExecutor

import requests

from photoservice.extensions import db
from photoservice.photos.models import Photo

RACERS = 16


def test_concurrent_duplicate_creates_make_one_row(app, live_server, company):
    key = next(u for u in company["users"] if u["role"] == "crew")["api_key"]
    start = threading.Barrier(RACERS)

    def create(_):
        start.wait()
        return requests.post(f"{live_server}/light/photos/", headers={"X-API-KEY": key},
                             json={"name": "Ridge vent", "client_id": "phone-9:1"}, timeout=30)

    with ThreadPoolExecutor(RACERS) as pool:
        responses = list(pool.map(create, range(RACERS)))

    assert sorted(r.status_code for r in responses) == [200] * (RACERS - 1) + [201]
    assert len({r.json()["id"] for r in responses}) == 1
    assert all(r.json()["upload_url"]["fields"]["key"] == responses[0].json()["key"] for r in responses)
    with app.app_context():
        rows = db.session.execute(
            db.select(db.func.count()).select_from(Photo).where(Photo.client_id == "phone-9:1")
        ).scalar_one()
    assert rows == 1


def test_concurrent_creates_with_distinct_client_ids_all_succeed(app, live_server, company):
    key = next(u for u in company["users"] if u["role"] == "owner")["api_key"]

    def create(n):
        return requests.post(f"{live_server}/light/photos/", headers={"X-API-KEY": key},
                             json={"name": "Same name", "client_id": f"c-{n}"}, timeout=30)

    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(create, range(40)))
    assert [r.status_code for r in responses] == [201] * 40
    assert len({r.json()["key"] for r in responses}) == 40
