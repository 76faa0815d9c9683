"""Helpers and constants shared by the tests."""
import requests

from photoservice.extensions import db
from photoservice.photos.models import Photo

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
    """The photo as stored, read in a fresh session."""
    with app.app_context():
        photo = db.session.get(Photo, photo_id)
        db.session.expunge(photo)
        return photo


def photo_columns(photo):
    """Every stored column of a photo, by attribute name."""
    return {c.key: getattr(photo, c.key) for c in Photo.__mapper__.column_attrs}
