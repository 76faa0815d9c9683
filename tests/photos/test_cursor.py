"""GET /light/photos/?cursor=: keyset pages, with no count, in the display order."""
import base64
from datetime import datetime, timedelta, timezone

import pytest

BASE = datetime(2026, 6, 1, tzinfo=timezone.utc)


@pytest.fixture
def photos(make_photo):
    """Uploaded photos with ties on captured_at and on created_at, and undated ones."""
    made = []
    for n in range(11):
        captured = None if n % 4 == 3 else BASE - timedelta(hours=n // 2)
        made.append(make_photo(status="uploaded", captured_at=captured,
                               created_at=BASE + timedelta(minutes=n % 3), tags=["hail"] if n % 2 else []))
    return made


def walk(caller, query, page_size):
    """Every page by cursor from the first: (ids in order, bodies)."""
    bodies, cursor = [], ""
    while cursor is not None:
        response = caller.get(f"/light/photos/?page_size={page_size}{query}&cursor={cursor}")
        assert response.status_code == 200, response.get_json()
        bodies.append(response.get_json())
        cursor = bodies[-1]["next_cursor"]
        assert len(bodies) < 50
    return [photo["id"] for body in bodies for photo in body["results"]], bodies


def by_number(caller, query=""):
    return [p["id"] for p in caller.get(f"/light/photos/?page_size=100{query}").get_json()["results"]]


@pytest.mark.parametrize("page_size", [1, 3, 4, 100])
def test_cursor_pages_walk_the_list_in_display_order(as_user, photos, page_size):
    owner = as_user("owner")
    ids, bodies = walk(owner, "", page_size)
    assert ids == by_number(owner) and sorted(ids) == sorted(photos)
    assert all(body["count"] is None and body["previous"] is None for body in bodies)
    assert bodies[-1]["next"] is None and bodies[-1]["next_cursor"] is None
    for body in bodies[:-1]:
        assert "cursor=" in body["next"] and "page=" not in body["next"]
        assert f"page_size={page_size}" in body["next"]


def test_cursor_pages_keep_their_filters(as_user, photos):
    owner = as_user("owner")
    ids, _ = walk(owner, "&tags=hail", 2)
    assert ids == by_number(owner, "&tags=hail") and len(ids) == 5


def test_crew_pages_by_cursor_through_their_own_photos_only(as_user, photos):
    crew = as_user("crew")
    mine = [crew.upload_and_finalize(name=f"mine {n}")["id"] for n in range(3)]
    ids, _ = walk(crew, "", 2)
    assert ids == by_number(crew) and sorted(ids) == sorted(mine)


def test_a_photo_added_between_pages_shifts_nothing(as_user, make_photo, photos):
    owner = as_user("owner")
    first = owner.get("/light/photos/?page_size=4&cursor=").get_json()
    make_photo(status="uploaded", captured_at=BASE + timedelta(days=1))  # would top page 1
    second = owner.get(f"/light/photos/?page_size=4&cursor={first['next_cursor']}").get_json()
    expected = by_number(owner)
    seen = [p["id"] for p in first["results"] + second["results"]]
    assert seen == expected[1:9]


def test_page_number_pages_give_the_cursor_of_the_next(as_user, photos):
    owner = as_user("owner")
    first = owner.get("/light/photos/?page_size=4").get_json()
    assert first["count"] == 11
    second = owner.get("/light/photos/?page_size=4&page=2").get_json()
    following = owner.get(f"/light/photos/?page_size=4&cursor={first['next_cursor']}").get_json()
    assert following["results"] == second["results"]
    assert owner.get("/light/photos/?page_size=4&page=3").get_json()["next_cursor"] is None


def _cursor(text):
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize("cursor", [
    "zz", "%00", "!!!", _cursor("a|b|c"), _cursor("2026-01-01T00:00:00+00:00|2026-01-01T00:00:00+00:00|0"),
    _cursor("|2026-01-01T00:00:00|5"), _cursor("2026-01-01T00:00:00+00:00|x"),
    _cursor("|2026-01-01T00:00:00+00:00|99999999999999"), base64.b64encode("é".encode()).decode()])
def test_a_cursor_the_list_did_not_give_is_refused(as_user, cursor):
    response = as_user("owner").get(f"/light/photos/?cursor={cursor}")
    assert response.status_code == 400, response.get_json()
    assert set(response.get_json()["errors"]) == {"cursor"}
