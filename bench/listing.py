"""What derivative links cost the list: web CPU per page of 100 photos, with and without them.

The same 100 photos are listed with `variants` set (two presigned GET URLs per
photo) and with `variants` NULL, in alternating rounds through the app's test
client, timing this process's CPU. Presigning needs no store: only credentials.
"""
import secrets
import time
from datetime import datetime, timezone

PAGE_SIZE = 100


def variants(key):
    """What the media work records for a portrait 12 MP photo stored under `key`."""
    from photoservice.photos.object_keys import derivative_key

    return {name: {"key": derivative_key(key, name), "width": width, "height": height}
            for name, (width, height) in (("thumbnail", (300, 400)), ("web", (1200, 1600)))}


def add_photos_with_variants(app, company, count=PAGE_SIZE):
    """`count` uploaded, processed photos of `company`, each with a thumbnail and a web size."""
    from photoservice.extensions import db
    from photoservice.photos.models import Photo

    rows = []
    for n in range(count):
        key = f"listed-{n}_{secrets.token_hex(4)}.jpg"
        rows.append({
            "company_id": company["id"], "created_by": company["users"][0]["id"],
            "name": f"listed {n}", "key": key, "tags": [], "related_to": [],
            "status": "uploaded", "processing_status": "processed", "media_status": "processed",
            "uploaded_at": datetime.now(timezone.utc), "width": 3000, "height": 4000,
            "variants": variants(key)})
    with app.app_context():
        db.session.execute(db.insert(Photo), rows)
        db.session.commit()
    return [row["key"] for row in rows]


def _set_variants(app, keys, on):
    from photoservice.extensions import db
    from photoservice.photos.models import Photo

    with app.app_context():
        for key in keys:  # one UPDATE each: a few ms, outside the timed requests
            db.session.execute(db.update(Photo).where(Photo.key == key)
                               .values(variants=variants(key) if on else None))
        db.session.commit()


def _page(client, headers):
    response = client.get(f"/light/photos/?page_size={PAGE_SIZE}", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["results"]


def list_cpu_ms(app, company, keys, rounds=3, requests=20):
    """{"variants": ms, "plain": ms}: this process's CPU per list request of PAGE_SIZE photos."""
    client = app.test_client()
    headers = {"X-API-KEY": company["users"][0]["api_key"]}
    spent = {"variants": 0.0, "plain": 0.0}
    for _ in range(rounds):
        for mode in spent:
            _set_variants(app, keys, mode == "variants")
            photos = _page(client, headers)  # warm-up, and a check of what is measured
            assert len(photos) == PAGE_SIZE
            assert all((p["variants"] is not None) == (mode == "variants") for p in photos)
            started = time.process_time()
            for _ in range(requests):
                _page(client, headers)
            spent[mode] += time.process_time() - started
    return {mode: 1000 * cpu / (rounds * requests) for mode, cpu in spent.items()}


def presign_us(app, key, calls=2000):
    """CPU microseconds of one storage.download_url()."""
    from photoservice import storage

    with app.app_context():
        storage.download_url(key)  # the client is made once per process
        started = time.process_time()
        for _ in range(calls):
            storage.download_url(key)
        return 1e6 * (time.process_time() - started) / calls


def measure(app, company):
    """The list figures `bench.media` prints: CPU per request both ways, per URL."""
    keys = add_photos_with_variants(app, company)
    figures = list_cpu_ms(app, company, keys)
    figures["presign_us"] = presign_us(app, keys[0])
    return figures
