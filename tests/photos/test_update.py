"""PATCH /light/photos/{id}/: the create's rules, applied to what changes."""
from datetime import datetime

import pytest

from photoservice.extensions import db
from photoservice.jobs import services as jobs
from photoservice.photos import events
from tests.support import JPEG_STUB, load_photo, upload

LINE_ITEMS = ["job_inspection_line_item", "estimate_line_item", "supplemental_line_item",
              "change_order_line_item"]
# What a response says about the photo's links, which change with every request.
SIGNED = ("download_url", "variants")


@pytest.fixture
def crew(as_user):
    return as_user("crew")


@pytest.fixture
def second_job_estimate_item(app, company):
    """An estimate line item of the company's second job (the seeded ones are all on the first)."""
    with app.app_context():
        item = jobs.create_job_line_item("estimate", company["jobs"][1], "Gutters")
        db.session.commit()
        return item.id


def patched(caller, photo_id, body):
    response = caller.patch(photo_id, body)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def unchanged_but(before, after, *fields):
    """`after` equals `before` in every field but `fields`, `updated_at` and the links."""
    skip = {*fields, "updated_at", *SIGNED}
    return {k: v for k, v in before.items() if k not in skip} == \
        {k: v for k, v in after.items() if k not in skip}


@pytest.mark.parametrize("field, value", [
    ("name", "Ridge, north side"),
    ("description", "Granule loss near the vent."),
    ("tags", ["hail", "north"]),
    ("related_to", ["claim 2024-117"]),
])
def test_each_text_field_changes_alone(crew, field, value):
    photo = crew.create(name="Ridge", description="old", tags=["old"], related_to=["old"])
    after = patched(crew, photo["id"], {field: value})
    assert after[field] == value
    assert unchanged_but(photo, after, field, "upload_url")
    assert crew.get(f"/light/photos/{photo['id']}/").get_json()[field] == value


@pytest.mark.parametrize("field", LINE_ITEMS)
def test_a_line_item_takes_the_photo_to_its_job(crew, company, field):
    photo = crew.create(job=company["jobs"][1])
    after = patched(crew, photo["id"], {field: company[field]})
    assert after[field] == company[field]
    assert after["job"] == company["jobs"][0]  # the job follows the line item
    assert unchanged_but(photo, after, field, "job", "upload_url")


def test_job_changes_alone(crew, company):
    photo = crew.create(job=company["jobs"][0])
    assert patched(crew, photo["id"], {"job": company["jobs"][1]})["job"] == company["jobs"][1]


def test_null_clears_and_arrays_are_replaced_whole(crew, company):
    photo = crew.create(description="Porch", tags=["a", "b"], related_to=["x", "y"],
                        estimate_line_item=company["estimate_line_item"])
    after = patched(crew, photo["id"], {"description": None, "estimate_line_item": None,
                                        "job": None, "tags": ["c", " c ", "d"], "related_to": None})
    assert after["description"] is None and after["estimate_line_item"] is None
    assert after["job"] is None
    assert after["tags"] == ["c", "d"]  # the new list, trimmed and deduplicated as at create
    assert after["related_to"] == []  # null clears a list, as [] does
    assert patched(crew, photo["id"], {"tags": []})["tags"] == []


def test_job_null_keeps_the_job_a_remaining_line_item_implies(crew, company):
    photo = crew.create(job_inspection_line_item=company["job_inspection_line_item"])
    after = patched(crew, photo["id"], {"job": None})
    assert after["job"] == company["jobs"][0]
    assert after["job_inspection_line_item"] == company["job_inspection_line_item"]


def test_a_job_that_contradicts_a_line_item_is_refused_naming_both(crew, company):
    photo = crew.create(job_inspection_line_item=company["job_inspection_line_item"])
    response = crew.patch(photo["id"], {"job": company["jobs"][1]})
    assert response.status_code == 400
    body = response.get_json()
    assert set(body["errors"]) == {"job", "job_inspection_line_item"}
    assert "job" in body["message"] and "job_inspection_line_item" in body["message"]
    assert crew.get(f"/light/photos/{photo['id']}/").get_json()["job"] == company["jobs"][0]


def test_a_line_item_of_another_job_than_the_photos_other_line_item_is_refused(
        crew, company, second_job_estimate_item):
    photo = crew.create(job_inspection_line_item=company["job_inspection_line_item"])
    response = crew.patch(photo["id"], {"estimate_line_item": second_job_estimate_item})
    assert response.status_code == 400
    assert set(response.get_json()["errors"]) == {"job_inspection_line_item", "estimate_line_item"}


def test_a_line_item_and_job_given_together_must_agree(crew, company, second_job_estimate_item):
    photo = crew.create()
    response = crew.patch(photo["id"], {"job": company["jobs"][0],
                                        "estimate_line_item": second_job_estimate_item})
    assert set(response.get_json()["errors"]) == {"job", "estimate_line_item"}
    after = patched(crew, photo["id"], {"job": company["jobs"][1],
                                        "estimate_line_item": second_job_estimate_item})
    assert after["job"] == company["jobs"][1]


@pytest.mark.parametrize("body", [
    {"name": ""}, {"name": "   "}, {"name": "n" * 151}, {"name": 7}, {"description": 5},
    {"tags": "hail"}, {"tags": [" "]}, {"tags": ["t" * 101]}, {"related_to": ["x"] * 26},
    {"job": "1"}, {"job": 0}, {"job": 2**31}, {"estimate_line_item": True},
    {"name": "a\x00b"},
], ids=repr)
def test_bad_values_get_exactly_the_creates_400(crew, body):
    photo = crew.create()
    refused = crew.patch(photo["id"], body)
    assert refused.status_code == 400
    assert refused.data == crew.post({"name": "Valid", **body}).data


def test_a_reference_to_another_company_gets_exactly_the_creates_400(crew, other_company):
    photo = crew.create()
    for field in ["job", *LINE_ITEMS]:
        foreign = other_company["jobs"][0] if field == "job" else other_company[field]
        refused = crew.patch(photo["id"], {field: foreign})
        assert refused.status_code == 400
        assert refused.data == crew.post({"name": "Valid", field: foreign}).data
        assert refused.get_json()["errors"] == {field: ["Does not exist."]}


@pytest.mark.parametrize("field", ["exif", "is_video", "client_id", "key", "status", "id", "nonsense"])
def test_fields_that_cannot_change_are_unknown(crew, field):
    photo = crew.create()
    response = crew.patch(photo["id"], {field: "x"})
    assert response.status_code == 400
    assert response.get_json()["errors"] == {field: ["Unknown field."]}


def test_name_cannot_be_cleared(crew):
    response = crew.patch(crew.create()["id"], {"name": None})
    assert response.status_code == 400 and set(response.get_json()["errors"]) == {"name"}


def test_a_body_that_is_not_json_is_415(crew):
    photo = crew.create()
    response = crew.client.patch(f"/light/photos/{photo['id']}/", data="name=x",
                                 content_type="application/x-www-form-urlencoded",
                                 headers=crew.headers)
    assert response.status_code == 415


def test_the_key_and_the_upload_policy_stay(app, crew):
    photo = crew.create(name="Front roof damage")
    after = patched(crew, photo["id"], {"name": "Back porch.png"})
    assert after["key"] == photo["key"] and after["key"].startswith("front-roof-damage_")
    # The policy given at create still uploads the file, and finalize finds it.
    assert upload(photo["upload_url"], JPEG_STUB).status_code == 204
    assert crew.finalize(photo["id"]).status_code == 200
    assert load_photo(app, photo["id"]).key == photo["key"]


def test_updated_at_moves_only_when_something_changes(crew):
    photo = crew.create(name="Ridge", tags=["a"])
    same = patched(crew, photo["id"], {"name": "Ridge", "tags": ["a"]})
    empty = patched(crew, photo["id"], {})
    assert same["updated_at"] == empty["updated_at"] == photo["updated_at"]
    assert unchanged_but(photo, empty, "upload_url")
    changed = patched(crew, photo["id"], {"name": "Ridge 2"})
    assert datetime.fromisoformat(changed["updated_at"]) > datetime.fromisoformat(photo["updated_at"])


def test_an_uploaded_photo_comes_back_with_its_links(crew):
    photo = crew.upload_and_finalize()
    after = patched(crew, photo["id"], {"tags": ["done"]})
    assert after["status"] == "uploaded" and after["download_url"].startswith("http")


def test_who_may_change_a_photo(as_user, second_crew):
    owner, employee, crew, other_crew = as_user("owner"), as_user("employee"), as_user("crew"), second_crew
    crews_uploaded = crew.upload_and_finalize()
    crews_pending = crew.create()
    owners_uploaded = owner.upload_and_finalize()

    def status(caller, photo):
        return caller.patch(photo["id"], {"tags": [f"by {caller.user['role']}"]}).status_code

    # Owners and employees change whatever they can see; crew only their own photos.
    assert [status(c, crews_uploaded) for c in (owner, employee, crew, other_crew)] == [200, 200, 200, 404]
    assert [status(c, owners_uploaded) for c in (owner, employee, crew, other_crew)] == [200, 200, 404, 404]
    # A pending photo is its creator's alone.
    assert [status(c, crews_pending) for c in (owner, employee, crew, other_crew)] == [404, 404, 200, 404]


def test_the_change_is_announced_inside_its_transaction(app, crew, monkeypatch):
    announced = []
    monkeypatch.setattr(events, "photo_updated", lambda photo: announced.append(
        (photo.id, photo.name, load_photo(app, photo.id).name)) or [])
    photo = crew.create(name="Before")
    patched(crew, photo["id"], {})
    patched(crew, photo["id"], {"name": "Before"})
    patched(crew, photo["id"], {"name": "After"})
    # Once, for the real change, before it was committed (another session still saw the old name).
    assert announced == [(photo["id"], "After", "Before")]
