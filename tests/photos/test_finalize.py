"""PUT /light/photos/{id}/uploaded/: the store decides, the photo follows."""
from tests.support import upload

JPEG = b"\xff\xd8\xff\xe0" + b"2" * 500


def test_finalize_before_upload_is_409_and_photo_stays_pending(as_user):
    crew = as_user("crew")
    photo = crew.create()
    response = crew.finalize(photo["id"])
    assert response.status_code == 409
    assert "upload" in response.get_json()["message"]
    assert crew.get(f"/light/photos/{photo['id']}/").get_json()["status"] == "pending_upload"


def test_finalize_records_what_the_store_holds(as_user):
    crew = as_user("crew")
    photo = crew.create(name="Eave")
    upload(photo["upload_url"], JPEG, fields={"Content-Type": "image/png"})
    done = crew.finalize(photo["id"]).get_json()
    assert done["status"] == "uploaded"
    assert done["size"] == len(JPEG)
    assert done["content_type"] == "image/png"
    assert done["uploaded_at"] is not None


def test_finalize_is_repeatable(as_user):
    crew = as_user("crew")
    first = crew.upload_and_finalize()
    again = crew.finalize(first["id"])
    assert again.status_code == 200
    assert again.get_json()["uploaded_at"] == first["uploaded_at"]
    assert again.get_json()["size"] == first["size"]


def test_others_cannot_finalize_a_pending_photo(as_user, other_company):
    photo = as_user("crew").create()
    for caller in (as_user("owner"), as_user("employee"), as_user("owner", of=other_company)):
        response = caller.finalize(photo["id"])
        assert response.status_code == 404
        assert response.get_json()["message"] == "Photo not found."


def test_store_down_is_503_and_photo_stays_pending(app, as_user, monkeypatch):
    crew = as_user("crew")
    photo = crew.create()
    upload(photo["upload_url"], JPEG)
    monkeypatch.setitem(app.config, "S3_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens
    response = crew.finalize(photo["id"])
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    monkeypatch.undo()
    assert crew.get(f"/light/photos/{photo['id']}/").get_json()["status"] == "pending_upload"
    assert crew.finalize(photo["id"]).status_code == 200
