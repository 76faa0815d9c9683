"""Helpers and constants shared by the tests."""
import secrets
from concurrent.futures import ThreadPoolExecutor

import requests

from photoservice import storage
from photoservice.database import utcnow
from photoservice.extensions import db
from photoservice.photos import deletions
from photoservice.photos.models import Photo, StoreDeletion

#: The first bytes of a JPEG, padded: what a store holds after a minimal upload.
JPEG_STUB = b"\xff\xd8\xff" + b"0" * 100
#: The first bytes of an MP4 video (an `ftyp` box), padded.
MP4_STUB = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + b"\x00" * 100
#: A point in Manhattan, as a client's decimal `exif` GPS.
NEW_YORK = {"latitude": 40.7128, "longitude": -74.0060}
#: One metre in degrees of latitude.
METRE = 1 / 111_320


class ApiClient:
    """The Flask test client, authenticated as one seeded user."""

    def __init__(self, client, user):
        self.client, self.user = client, user
        self.headers = {"X-API-KEY": user["api_key"]}

    @property
    def id(self):
        return self.user["id"]

    def create(self, status=201, **body):
        body.setdefault("name", "Front roof damage")
        response = self.client.post("/light/photos/", json=body, headers=self.headers)
        assert response.status_code == status, response.get_json()
        return response.get_json()

    def post(self, body, **kwargs):
        return self.client.post("/light/photos/", json=body, headers=self.headers, **kwargs)

    def get(self, path, **kwargs):
        return self.client.get(path, headers=self.headers, **kwargs)

    def put(self, path, **kwargs):
        return self.client.put(path, headers=self.headers, **kwargs)

    def finalize(self, photo_id):
        return self.put(f"/light/photos/{photo_id}/uploaded/")

    def patch(self, photo_id, body, **kwargs):
        return self.client.patch(f"/light/photos/{photo_id}/", json=body, headers=self.headers, **kwargs)

    def delete(self, photo_id):
        return self.client.delete(f"/light/photos/{photo_id}/", headers=self.headers)

    def renew_upload_url(self, photo_id):
        return self.client.post(f"/light/photos/{photo_id}/upload-url/", headers=self.headers)

    def upload_and_finalize(self, **body):
        """Create, upload a small file through the presigned POST, finalize."""
        photo = self.create(**body)
        content = MP4_STUB if body.get("is_video") else JPEG_STUB
        assert upload(photo["upload_url"], content).status_code == 204
        response = self.finalize(photo["id"])
        assert response.status_code == 200, response.get_json()
        return response.get_json()


def upload(upload_url, content, fields=None, filename="photo.jpg"):
    """POST a file to a presigned POST exactly as a phone would."""
    form = dict(upload_url["fields"], **(fields or {}))
    return requests.post(upload_url["url"], data=form, files={"file": (filename, content)},
                         timeout=30)


def load_photo(app, photo_id):
    """The photo as stored, read in a fresh session; None if there is none."""
    with app.app_context():
        photo = db.session.get(Photo, photo_id)
        if photo is not None:
            db.session.expunge(photo)
        return photo


def in_another_thread(function, *args):
    """`function(*args)` run in a thread of its own: its own app context and database
    session, as another request or worker would have."""
    with ThreadPoolExecutor(1) as executor:
        return executor.submit(function, *args).result(timeout=60)


def photo_columns(photo):
    """Every stored column of a photo, by attribute name."""
    return {c.key: getattr(photo, c.key) for c in Photo.__mapper__.column_attrs}


def in_store(app, key):
    """Whether the store holds an object under `key`."""
    with app.app_context():
        return storage.stat_object(key) is not None


def store_deletions(app):
    """Every row of the store-deletion outbox, by id."""
    with app.app_context():
        rows = db.session.execute(db.select(StoreDeletion).order_by(StoreDeletion.id)).scalars().all()
        db.session.expunge_all()
        return rows


def run_due_deletions(app):
    """What the worker does with every store deletion due now; returns how many rows it did."""
    with app.app_context():
        due_ids = db.session.execute(db.select(StoreDeletion.id).where(
            StoreDeletion.due_at <= utcnow())).scalars().all()
        return deletions.remove_objects(due_ids)


def finished_photo(app, company, media_status="processed", **values):
    """Insert an uploaded photo of `company` whose media work has ended, as that work
    leaves it (a hash, a size, a variant); returns its id."""
    key = f"ridge_{secrets.token_hex(4)}.jpg"
    values = {"name": "Ridge", "status": "uploaded", "media_status": media_status,
              "media_attempts": 2, "sha256": "ab" * 32, "width": 800, "height": 600,
              "variants": {"web": {"key": f"{key}.web.jpg", "width": 800, "height": 600}},
              **values}
    with app.app_context():
        photo = Photo(company_id=company["id"], created_by=company["users"][0]["id"], key=key, **values)
        db.session.add(photo)
        db.session.commit()
        return photo.id
