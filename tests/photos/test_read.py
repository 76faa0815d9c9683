"""GET /light/photos/ and /light/photos/{id}/: who sees what, in what order."""
from datetime import datetime, timedelta, timezone

import pytest
import requests

from photoservice.extensions import db
from photoservice.photos.models import Photo


def set_captured(app, photo_id, when):
    with app.app_context():
        db.session.get(Photo, photo_id).captured_at = when
        db.session.commit()


def listed_ids(caller, query=""):
    response = caller.get(f"/light/photos/?page_size=100{query}")
    assert response.status_code == 200, response.get_json()
    return [p["id"] for p in response.get_json()["results"]]


def test_visibility_by_role(as_user, other_company):
    owner, employee, crew = as_user("owner"), as_user("employee"), as_user("crew")
    by_crew = crew.upload_and_finalize(name="crew's")
    by_owner = owner.upload_and_finalize(name="owner's")
    pending = crew.create(name="not yet")
    outsider = as_user("owner", of=other_company)

    assert sorted(listed_ids(owner)) == sorted(listed_ids(employee)) == sorted([by_crew["id"], by_owner["id"]])
    assert listed_ids(crew) == [by_crew["id"]]
    assert listed_ids(outsider) == []

    def status(caller, photo):
        return caller.get(f"/light/photos/{photo['id']}/").status_code

    assert [status(c, by_crew) for c in (owner, employee, crew, outsider)] == [200, 200, 200, 404]
    assert [status(c, by_owner) for c in (owner, employee, crew, outsider)] == [200, 200, 404, 404]
    assert [status(c, pending) for c in (owner, employee, crew, outsider)] == [404, 404, 200, 404]


def test_not_found_reveals_nothing(as_user, other_company):
    theirs = as_user("owner", of=other_company).upload_and_finalize()
    mine_missing = as_user("owner").get("/light/photos/999999/")
    foreign = as_user("owner").get(f"/light/photos/{theirs['id']}/")
    assert foreign.status_code == mine_missing.status_code == 404
    assert foreign.get_json() == mine_missing.get_json()


def test_list_order_captured_desc_nulls_last_then_newest(app, as_user):
    owner = as_user("owner")
    ids = [owner.upload_and_finalize(name=f"p{n}")["id"] for n in range(5)]
    base = datetime(2026, 6, 1, tzinfo=timezone.utc)
    set_captured(app, ids[0], base)
    set_captured(app, ids[1], base + timedelta(days=1))
    set_captured(app, ids[3], base - timedelta(days=1))
    # Dated photos by capture time, then undated ones newest first.
    assert listed_ids(owner) == [ids[1], ids[0], ids[3], ids[4], ids[2]]


def test_single_photo_has_a_working_download_url(as_user):
    owner = as_user("owner")
    photo = owner.upload_and_finalize()
    detail = as_user("employee").get(f"/light/photos/{photo['id']}/").get_json()
    fetched = requests.get(detail["download_url"], timeout=10)
    assert fetched.status_code == 200 and fetched.content.startswith(b"\xff\xd8\xff")


def test_pending_photo_has_no_download_url(as_user):
    crew = as_user("crew")
    photo = crew.create()
    assert crew.get(f"/light/photos/{photo['id']}/").get_json()["download_url"] is None


def test_filters(app, as_user, company):
    owner = as_user("owner")
    first_job, second_job = company["jobs"]
    on_item = owner.upload_and_finalize(job_inspection_line_item=company["job_inspection_line_item"],
                                        tags=["hail", "ridge"])
    on_estimate = owner.upload_and_finalize(estimate_line_item=company["estimate_line_item"], tags=["hail"])
    on_supplement = owner.upload_and_finalize(supplemental_line_item=company["supplemental_line_item"])
    on_change = owner.upload_and_finalize(change_order_line_item=company["change_order_line_item"])
    on_second = owner.upload_and_finalize(job=second_job, is_video=True, name="clip")
    loose = owner.upload_and_finalize(tags=["ridge"])

    def ids(query):
        return sorted(listed_ids(owner, query))

    assert ids(f"&job={first_job}") == sorted([on_item["id"], on_estimate["id"], on_supplement["id"], on_change["id"]])
    assert ids(f"&job={second_job}") == [on_second["id"]]
    assert ids(f"&job_inspection_line_item={company['job_inspection_line_item']}") == [on_item["id"]]
    assert ids(f"&estimate_line_item={company['estimate_line_item']}") == [on_estimate["id"]]
    assert ids(f"&supplemental_line_item={company['supplemental_line_item']}") == [on_supplement["id"]]
    assert ids(f"&change_order_line_item={company['change_order_line_item']}") == [on_change["id"]]
    assert ids(f"&exclude_job_inspection_line_item={company['job_inspection_line_item']}") == sorted(
        [on_estimate["id"], on_supplement["id"], on_change["id"], on_second["id"], loose["id"]])
    assert ids("&tags=hail") == sorted([on_item["id"], on_estimate["id"]])
    assert ids("&tags=hail&tags=ridge") == [on_item["id"]]
    assert ids("&is_video=true") == [on_second["id"]]
    assert len(ids("&is_video=false")) == 5


def test_paging(as_user):
    owner = as_user("owner")
    ids = [owner.upload_and_finalize(name=f"p{n}")["id"] for n in range(5)]
    first = owner.get("/light/photos/?page_size=2").get_json()
    assert first["count"] == 5 and first["previous"] is None
    assert [p["id"] for p in first["results"]] == ids[::-1][:2]
    assert "page=2" in first["next"] and "page_size=2" in first["next"]
    last = owner.get("/light/photos/?page_size=2&page=3").get_json()
    assert [p["id"] for p in last["results"]] == [ids[0]]
    assert last["next"] is None and "page=2" in last["previous"]
    past = owner.get("/light/photos/?page_size=2&page=9").get_json()
    assert past["results"] == [] and past["count"] == 5 and "page=3" in past["previous"]


@pytest.mark.parametrize("role", ["owner", "employee", "crew"])
def test_default_page_size_is_ten(as_user, role):
    caller = as_user(role)
    for n in range(11):
        caller.upload_and_finalize(name=f"p{n}")
    page = caller.get("/light/photos/").get_json()
    assert len(page["results"]) == 10 and page["count"] == 11 and page["next"]


def test_a_listed_photo_is_the_photo_as_get_shows_it(app, as_user, company):
    """The list reads rows without the ORM and dumps them by its plan: nothing may differ."""
    owner = as_user("owner")
    photo = owner.upload_and_finalize(name="Ridge", description="Hail", job=company["jobs"][0],
                                      tags=["hail"], related_to=["claim-1"],
                                      exif={"timestamp": 1732790400000, "Model": "iPhone"})
    with app.app_context():
        db.session.execute(db.update(Photo).where(Photo.id == photo["id"]).values(
            latitude=40.7, longitude=-74.0, location={"city": "New York", "country_code": "us"},
            width=4000, height=3000, variants={"thumbnail": {"key": "t.jpg", "width": 400, "height": 300}}))
        db.session.commit()
    [listed] = owner.get("/light/photos/").get_json()["results"]
    shown = owner.get(f"/light/photos/{photo['id']}/").get_json()
    del shown["download_url"]
    strip = lambda url: url.split("?")[0]  # noqa: E731  (signed a moment apart)
    for body in (listed, shown):
        body["variants"]["thumbnail"]["url"] = strip(body["variants"]["thumbnail"]["url"])
    assert listed == shown
    assert listed["location"] == {"city": "New York", "country_code": "us"}


def test_reads_run_without_a_transaction_and_writes_in_one(app, as_user):
    from sqlalchemy import event
    owner = as_user("owner")
    seen = []
    with app.app_context():
        engine = db.engine
    listener = lambda conn, *args: seen.append(conn.connection.dbapi_connection.autocommit)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        photo = owner.create(name="A")
        writes, seen[:] = list(seen), []
        owner.get("/light/photos/")
        owner.get(f"/light/photos/{photo['id']}/")
        reads = list(seen)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert writes and not any(writes)
    assert reads and all(reads)
