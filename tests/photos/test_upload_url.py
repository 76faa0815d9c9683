"""POST /light/photos/{id}/upload-url/: a fresh presigned POST for a pending photo's key."""
import time

from tests.support import JPEG_STUB, MP4_STUB, upload


def test_a_phone_back_online_after_its_policy_expired_gets_a_fresh_one(app, as_user, monkeypatch):
    crew = as_user("crew")
    monkeypatch.setitem(app.config, "PHOTO_UPLOAD_EXPIRES", 1)
    photo = crew.create()
    time.sleep(2.1)
    assert upload(photo["upload_url"], JPEG_STUB).status_code == 403  # the store refuses it
    monkeypatch.setitem(app.config, "PHOTO_UPLOAD_EXPIRES", 3600)
    response = crew.renew_upload_url(photo["id"])
    assert response.status_code == 200
    policy = response.get_json()
    assert set(policy) == {"url", "fields"} and policy["fields"]["key"] == photo["key"]
    assert upload(policy, JPEG_STUB).status_code == 204
    finalized = crew.finalize(photo["id"])
    assert finalized.status_code == 200 and finalized.get_json()["key"] == photo["key"]


def test_the_fresh_policy_keeps_the_rules_of_the_first(as_user):
    crew = as_user("crew")
    video = crew.create(name="Walkaround", is_video=True)
    policy = crew.renew_upload_url(video["id"]).get_json()
    assert policy["fields"]["Content-Type"] == "video/mp4"
    assert upload(policy, MP4_STUB, fields={"Content-Type": "image/jpeg"}).status_code == 403
    assert upload(policy, MP4_STUB, fields={"key": "other_00000000.mp4"}).status_code == 403
    assert upload(policy, MP4_STUB).status_code == 204


def test_once_uploaded_it_is_409(as_user):
    crew = as_user("crew")
    photo = crew.upload_and_finalize()
    response = crew.renew_upload_url(photo["id"])
    assert response.status_code == 409 and "already uploaded" in response.get_json()["message"]


def test_only_the_creator_gets_one(as_user, second_crew, other_company):
    owner, employee, crew = as_user("owner"), as_user("employee"), as_user("crew")
    pending, uploaded = crew.create(), crew.upload_and_finalize()
    outsider = as_user("owner", of=other_company)

    def status(caller, photo):
        return caller.renew_upload_url(photo["id"]).status_code

    # A pending photo is its creator's alone: to anyone else it does not exist.
    assert [status(c, pending) for c in (owner, employee, second_crew, outsider)] == [404] * 4
    # Owners and employees see an uploaded photo, but may not upload its file.
    assert [status(c, uploaded) for c in (owner, employee, second_crew, outsider)] == [403, 403, 404, 404]
    assert status(crew, pending) == 200
