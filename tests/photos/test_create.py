"""POST /light/photos/: the record, its references and its object key."""
import re

import pytest

from photoservice import queue
from photoservice.photos.models import REFERENCES
from photoservice.work import KINDS

KEY_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*_[0-9a-f]{8}\.[a-z0-9]+$")

LINE_ITEM_FIELDS = [f for f in REFERENCES if f != "job"]


def test_minimal_create_returns_pending_photo_and_policy(as_user):
    owner = as_user("owner")
    photo = owner.create(name="Front Roof Damage")
    assert photo["status"] == "pending_upload"
    assert photo["created_by"] == owner.id
    assert photo["tags"] == [] and photo["related_to"] == []
    assert photo["is_video"] is False and photo["captured_at"] is None
    assert KEY_PATTERN.match(photo["key"]) and photo["key"].startswith("front-roof-damage_")
    assert photo["key"].endswith(".jpg")
    assert photo["upload_url"]["fields"]["key"] == photo["key"]
    assert photo["upload_url"]["fields"]["Content-Type"] == "image/jpeg"
    assert photo["created_at"].endswith("+00:00")


def test_every_field_round_trips(as_user, company):
    photo = as_user("employee").create(
        name="North slope.HEIC", description="Hail hits", job=company["jobs"][0],
        job_inspection_line_item=company["job_inspection_line_item"],
        estimate_line_item=company["estimate_line_item"],
        supplemental_line_item=company["supplemental_line_item"],
        change_order_line_item=company["change_order_line_item"],
        tags=["hail", " hail ", "ridge"], related_to=["claim-1"],
        exif={"timestamp": 1732790400000, "GPS": {"GPSLatitude": "40/1,48/1,5556/100"}},
        client_id="phone-1:42",
    )
    for field in REFERENCES:
        assert photo[field] == (company["jobs"][0] if field == "job" else company[field])
    assert photo["tags"] == ["hail", "ridge"]
    assert photo["related_to"] == ["claim-1"]
    assert photo["exif"]["GPS"] == {"GPSLatitude": "40/1,48/1,5556/100"}
    assert photo["client_id"] == "phone-1:42"
    assert photo["key"].endswith(".heic")
    assert photo["upload_url"]["fields"]["Content-Type"] == "image/heic"


def test_the_created_photo_is_the_row_as_stored(as_user, company):
    """The create's answer is built without reading the row back: the GET that reads it
    shows the same photo, field for field."""
    owner = as_user("owner")
    created = owner.create(
        name="  Ridge cap ", description=None, job_inspection_line_item=company["job_inspection_line_item"],
        tags=["b", "a", "b"], related_to=[], client_id="device-7:1",
        exif={"timestamp": 1732790400000, "Model": "iPhone 15", "GPS": {"Alt": 12.5, "nested": [1, None]}})
    stored = owner.get(f"/light/photos/{created['id']}/").get_json()
    upload_url = created.pop("upload_url")
    assert upload_url["fields"]["key"] == stored["key"]
    assert stored.pop("download_url") is None
    assert created == stored


def test_null_references_mean_none(as_user):
    photo = as_user("owner").create(**{field: None for field in REFERENCES})
    assert all(photo[field] is None for field in REFERENCES)


@pytest.mark.parametrize("field", LINE_ITEM_FIELDS)
def test_line_item_sets_its_parent_job(as_user, company, field):
    photo = as_user("owner").create(**{field: company[field]})
    assert photo["job"] == company["jobs"][0]


@pytest.mark.parametrize("name, is_video, expected", [
    ("Front roof damage", False, r"front-roof-damage_[0-9a-f]{8}\.jpg"),
    ("Gutter.PNG", False, r"gutter_[0-9a-f]{8}\.png"),
    ("Walkaround", True, r"walkaround_[0-9a-f]{8}\.mp4"),
    ("walkaround.MOV", True, r"walkaround_[0-9a-f]{8}\.mov"),
    ("still.jpg", True, r"still-jpg_[0-9a-f]{8}\.mp4"),
    ("Dégâts sur la toiture Ü", False, r"degats-sur-la-toiture-u_[0-9a-f]{8}\.jpg"),
    ("../../etc/passwd", False, r"etc-passwd_[0-9a-f]{8}\.jpg"),
    ("!!!", False, r"photo_[0-9a-f]{8}\.jpg"),
    ("😀", True, r"video_[0-9a-f]{8}\.mp4"),
])
def test_object_key_is_slug_suffix_extension(as_user, name, is_video, expected):
    photo = as_user("crew").create(name=name, is_video=is_video)
    assert re.fullmatch(expected, photo["key"]), photo["key"]
    assert "/" not in photo["key"]


def test_keys_are_unique_for_the_same_name(as_user):
    owner = as_user("owner")
    keys = {owner.create(name="Same")["key"] for _ in range(5)}
    assert len(keys) == 5


def test_video_policy_asks_for_video(as_user):
    photo = as_user("owner").create(name="clip", is_video=True)
    assert photo["upload_url"]["fields"]["Content-Type"] == "video/mp4"


@pytest.mark.parametrize("field", list(REFERENCES))
def test_foreign_ids_and_missing_ids_get_the_same_400(as_user, company, other_company, field):
    owner = as_user("owner")
    foreign = other_company["jobs"][0] if field == "job" else other_company[field]
    missing = 999_999
    foreign_response = owner.post({"name": "x", field: foreign})
    missing_response = owner.post({"name": "x", field: missing})
    assert foreign_response.status_code == missing_response.status_code == 400
    assert foreign_response.get_json() == missing_response.get_json()
    assert foreign_response.get_json()["errors"] == {field: ["Does not exist."]}


@pytest.mark.parametrize("field", LINE_ITEM_FIELDS)
def test_job_contradicting_a_line_item_names_both(as_user, company, field):
    response = as_user("owner").post({"name": "x", "job": company["jobs"][1], field: company[field]})
    assert response.status_code == 400
    errors = response.get_json()["errors"]
    assert set(errors) == {"job", field}


def test_line_items_of_different_jobs_are_refused(app, as_user, company):
    from photoservice.extensions import db
    from photoservice.jobs.services import create_job_line_item
    with app.app_context():
        other_job_item = create_job_line_item("estimate", company["jobs"][1], "Gutters").id
        db.session.commit()
    response = as_user("owner").post({
        "name": "x", "job_inspection_line_item": company["job_inspection_line_item"],
        "estimate_line_item": other_job_item})
    assert response.status_code == 400
    assert set(response.get_json()["errors"]) == {"job_inspection_line_item", "estimate_line_item"}


def test_client_id_replay_returns_the_same_photo_with_a_fresh_policy(as_user):
    crew = as_user("crew")
    first = crew.create(name="A", client_id="offline-7")
    again = crew.create(status=200, name="A", client_id="offline-7")
    assert again["id"] == first["id"] and again["key"] == first["key"]
    assert again["upload_url"]["fields"]["key"] == first["key"]
    assert again["upload_url"]["fields"]["x-amz-signature"]


def test_client_id_replay_after_upload_has_no_policy(as_user):
    crew = as_user("crew")
    photo = crew.upload_and_finalize(name="A", client_id="offline-8")
    again = crew.create(status=200, name="A", client_id="offline-8")
    assert again["id"] == photo["id"]
    assert again["status"] == "uploaded" and again["upload_url"] is None


def test_a_replay_with_references_returns_the_photo_and_a_wrong_one_is_still_a_400(as_user, company):
    crew = as_user("crew")
    body = {"name": "A", "client_id": "offline-9", "estimate_line_item": company["estimate_line_item"]}
    first = crew.create(**body)
    again = crew.create(status=200, **body)
    assert again["id"] == first["id"] and again["job"] == company["jobs"][0]
    refused = crew.post(dict(body, estimate_line_item=999_999))
    assert refused.status_code == 400
    assert refused.get_json()["errors"] == {"estimate_line_item": ["Does not exist."]}


@pytest.mark.parametrize("body", [
    {"job": 999_999},
    {"job": "second", "estimate_line_item": "estimate_line_item"},
    {"job_inspection_line_item": "job_inspection_line_item", "change_order_line_item": 999_999},
])
def test_a_refused_reference_stores_nothing(app, as_user, company, body):
    from photoservice.extensions import db
    from photoservice.photos.models import Photo
    named = {"second": company["jobs"][1]}
    body = {field: named.get(value, company.get(value, value)) for field, value in body.items()}
    assert as_user("owner").post({"name": "refused", **body}).status_code == 400
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).where(Photo.name == "refused")) == 0


def test_a_create_is_two_statements_whatever_its_references(app, as_user, company):
    """The API key lookup, then one INSERT … SELECT that checks every reference."""
    from sqlalchemy import event

    from photoservice.extensions import db
    owner = as_user("owner")
    owner.create(name="warm-up")  # the connection is open, the statements are built
    statements = []
    with app.app_context():
        engine = db.engine
    listener = lambda conn, cursor, sql, *rest: statements.append(sql)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        owner.create(name="counted", **{field: company[field] for field in LINE_ITEM_FIELDS},
                     job=company["jobs"][0])
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert len(statements) == 2, statements
    assert "api_keys" in statements[0] and statements[1].startswith("INSERT INTO photos")


def test_client_id_is_scoped_per_company(as_user, other_company):
    mine = as_user("owner").create(client_id="same")
    theirs = as_user("owner", of=other_company).create(client_id="same")
    assert mine["id"] != theirs["id"]


def test_client_id_is_scoped_per_creator(as_user, second_crew):
    """Two crew members of one company send one client_id: each gets a photo of their own,
    and nothing of the first one's (its exif, GPS, key) reaches the second."""
    first = as_user("crew").create(name="First crew's roof", client_id="phone-1",
                                   exif={"latitude": 40.7128, "longitude": -74.006})
    second = second_crew.create(name="Second crew's roof", client_id="phone-1")
    assert second["id"] != first["id"]
    assert second["name"] == "Second crew's roof" and second["exif"] is None
    assert second["key"] != first["key"] and second["upload_url"]["fields"]["key"] == second["key"]
    # Each replay still returns its own creator's photo.
    assert as_user("crew").create(status=200, name="x", client_id="phone-1")["id"] == first["id"]
    assert second_crew.create(status=200, name="x", client_id="phone-1")["id"] == second["id"]


def test_new_photo_is_enqueued_after_commit(app, as_user, monkeypatch):
    from photoservice.extensions import db
    from photoservice.photos.models import Photo
    seen = []

    def send(task_name, photo_id, countdown=None):
        # Another session must already see the row: the hand-off follows the commit.
        with db.engine.connect() as connection:
            seen.append((task_name, connection.execute(
                db.select(Photo.id).where(Photo.id == photo_id)).scalar_one_or_none()))

    monkeypatch.setattr(queue, "send", send)
    photo = as_user("owner").create(client_id="announce")
    as_user("owner").create(status=200, client_id="announce")
    assert seen == [(KINDS["metadata"].task, photo["id"])]
