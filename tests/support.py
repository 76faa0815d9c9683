"""Helpers shared by the tests."""
import requests


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
        assert upload(photo["upload_url"], b"\xff\xd8\xff" + b"0" * 100).status_code == 204
        response = self.finalize(photo["id"])
        assert response.status_code == 200, response.get_json()
        return response.get_json()


def upload(upload_url, content, fields=None, filename="photo.jpg"):
    """POST a file to a presigned POST exactly as a phone would."""
    form = dict(upload_url["fields"], **(fields or {}))
    return requests.post(upload_url["url"], data=form, files={"file": (filename, content)},
                         timeout=30)
