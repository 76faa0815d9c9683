"""Bad input to the photo endpoints: always a JSON 400 (413/415 where stated), never a 500.

Every error body has the common shape `{code, status, message, errors}`, and
`errors` names each offending field.
"""
import json
from http import HTTPStatus

import pytest

PHOTOS = "/light/photos/"
ID_FIELDS = ["job", "job_inspection_line_item", "estimate_line_item",
             "supplemental_line_item", "change_order_line_item"]


@pytest.fixture
def owner(as_user):
    return as_user("owner")


def post_raw(owner, text, content_type="application/json"):
    """POST a body exactly as given (str or bytes), bypassing the client's JSON encoder."""
    return owner.client.post(PHOTOS, data=text, content_type=content_type, headers=owner.headers)


def assert_error(response, status, *fields):
    """The response is a JSON error of `status` whose `errors` names exactly `fields`."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.is_json, response.get_data(as_text=True)
    body = response.get_json()
    assert body["code"] == status
    assert body["status"] == HTTPStatus(status).phrase
    assert isinstance(body["message"], str) and body["message"]
    if fields:
        assert set(body["errors"]) == set(fields), body
        for messages in body["errors"].values():
            assert messages and all(isinstance(m, str) and m for m in messages), body
    return body


def assert_bad_field(response, *fields):
    return assert_error(response, 400, *fields)


# --- name -------------------------------------------------------------------

def test_missing_name(owner):
    assert_bad_field(owner.post({"description": "no name"}), "name")


@pytest.mark.parametrize("name", ["", " ", "   \t\n  "], ids=["empty", "space", "whitespace"])
def test_empty_or_blank_name(owner, name):
    assert_bad_field(owner.post({"name": name}), "name")


def test_name_of_151_chars_is_refused_and_150_accepted(owner):
    assert_bad_field(owner.post({"name": "n" * 151}), "name")
    photo = owner.create(name="n" * 150)
    assert photo["name"] == "n" * 150


def test_unknown_field(owner):
    body = assert_bad_field(owner.post({"name": "x", "colour": "red"}), "colour")
    assert body["errors"]["colour"] == ["Unknown field."]


# --- wrong types and out-of-range ids ------------------------------------------

@pytest.mark.parametrize("field", ID_FIELDS)
@pytest.mark.parametrize("value", ["1", 1.5, True, 0, -1, 2**31, 2**70],
                         ids=["string", "float", "bool", "zero", "negative", "2**31", "2**70"])
def test_bad_id(owner, field, value):
    assert_bad_field(owner.post({"name": "x", field: value}), field)


@pytest.mark.parametrize("field, value", [
    ("name", ["a", "b"]),
    ("name", 12),
    ("description", {"a": 1}),
    ("tags", "hail"),
    ("tags", [1, 2]),
    ("tags", [None]),
    ("tags", [["nested"]]),
    ("related_to", {"claim": 1}),
    ("related_to", [3]),
    ("is_video", "maybe"),
    ("client_id", 42),
    ("exif", "not an object"),
    ("exif", [1, 2]),
    ("exif", 5),
])
def test_wrong_type(owner, field, value):
    assert_bad_field(owner.post({"name": "x", field: value}), field)


# --- lists --------------------------------------------------------------------

def test_related_to_holds_at_most_25_items(owner):
    assert_bad_field(owner.post({"name": "x", "related_to": [f"r{i}" for i in range(26)]}),
                     "related_to")
    photo = owner.create(related_to=[f"r{i}" for i in range(25)])
    assert len(photo["related_to"]) == 25


@pytest.mark.parametrize("tag", ["", " ", "\t"], ids=["empty", "space", "tab"])
def test_blank_tag(owner, tag):
    assert_bad_field(owner.post({"name": "x", "tags": ["ok", tag]}), "tags")


# --- exif ---------------------------------------------------------------------

@pytest.mark.parametrize("stamp", [1_700_000_000, "1700000000000", True, -1_700_000_000_000],
                         ids=["seconds", "string", "bool", "negative"])
def test_bad_exif_timestamp(owner, stamp):
    assert_bad_field(owner.post({"name": "x", "exif": {"timestamp": stamp}}), "exif")


def test_exif_timestamp_in_milliseconds_is_accepted(owner):
    photo = owner.create(exif={"timestamp": 1_700_000_000_000})
    assert photo["exif"] == {"timestamp": 1_700_000_000_000}


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_exif_non_finite_number(owner, literal):
    assert_bad_field(post_raw(owner, '{"name":"x","exif":{"a":%s}}' % literal), "exif")


def test_exif_nested_50_levels(owner):
    exif = "leaf"
    for _ in range(50):
        exif = {"k": exif}
    assert_bad_field(owner.post({"name": "x", "exif": exif}), "exif")


@pytest.mark.parametrize("exif", [{"make": "Can\x00on"}, {"ma\x00ke": "Canon"},
                                  {"GPS": {"deep": ["a\x00"]}}],
                         ids=["value", "key", "nested-value"])
def test_exif_nul_char(owner, exif):
    assert_bad_field(owner.post({"name": "x", "exif": exif}), "exif")


# --- text that PostgreSQL cannot store ------------------------------------------

@pytest.mark.parametrize("field, value", [
    ("name", "front\x00roof"),
    ("description", "a\x00b"),
    ("tags", ["ha\x00il"]),
    ("client_id", "phone\x00-1"),
    ("related_to", ["claim\x00"]),
])
def test_nul_char_in_text(owner, field, value):
    assert_bad_field(owner.post({"name": "x", field: value}), field)


@pytest.mark.parametrize("field, fragment", [
    ("name", '"name":"a\\ud800b"'),
    ("description", '"name":"x","description":"\\udfff"'),
    ("tags", '"name":"x","tags":["\\ud800"]'),
    ("client_id", '"name":"x","client_id":"\\ud800"'),
])
def test_lone_surrogate(owner, field, fragment):
    assert_bad_field(post_raw(owner, "{%s}" % fragment), field)


# --- the body as a whole --------------------------------------------------------

def test_json_nested_100000_levels(owner):
    depth = 100_000  # 200 KB of brackets: under the size cap, so the parser must cope
    nested = "[" * depth + "]" * depth
    assert_error(post_raw(owner, nested), 400)
    assert_error(post_raw(owner, '{"name":"x","exif":{"a":%s}}' % nested), 400)


@pytest.mark.parametrize("text", ['{"name": "x",}', "{name: 'x'}", '{"name": "x"', "nope"])
def test_invalid_json(owner, text):
    body = assert_error(post_raw(owner, text), 400)
    assert body["errors"]


@pytest.mark.parametrize("text", ['[{"name": "x"}]', '"just a string"', "42", "null"])
def test_body_that_is_not_an_object(owner, text):
    body = assert_error(post_raw(owner, text), 400)
    assert body["errors"]


def test_body_that_is_not_utf8(owner):
    body = assert_error(post_raw(owner, b'{"name": "\xff\xfe caf\xe9"}'), 400)
    assert body["errors"]


def test_form_encoded_body_is_unsupported(owner):
    response = owner.client.post(PHOTOS, data={"name": "x"}, headers=owner.headers)
    assert_error(response, 415)


def test_body_over_the_size_cap(app, owner):
    cap = app.config["MAX_CONTENT_LENGTH"]
    assert cap == 256 * 1024
    text = json.dumps({"name": "x", "description": "d" * cap})
    assert_error(post_raw(owner, text), 413)


def test_integer_literal_with_5000_digits(owner):
    assert_error(post_raw(owner, '{"name": "x", "job": %s}' % ("9" * 5000)), 400)


def test_several_errors_are_named_at_once(owner):
    response = owner.post({
        "name": "", "job": "seven", "estimate_line_item": -3, "tags": "hail",
        "related_to": [f"r{i}" for i in range(26)], "exif": {"timestamp": 1_700_000_000},
        "client_id": "a\x00", "is_video": "maybe", "colour": "red",
    })
    assert_bad_field(response, "name", "job", "estimate_line_item", "tags", "related_to",
                     "exif", "client_id", "is_video", "colour")


def test_refused_input_creates_nothing(app, owner):
    from photoservice.extensions import db
    from photoservice.photos.models import Photo
    assert_bad_field(owner.post({"name": "x", "job": 0}), "job")
    with app.app_context():
        assert db.session.execute(db.select(db.func.count()).select_from(Photo)).scalar() == 0


# --- GET /light/photos/ query -------------------------------------------------------

@pytest.mark.parametrize("param, value", [
    ("page", "0"), ("page", "abc"), ("page", "-1"), ("page_size", "0"), ("page_size", "101"),
    ("job", "abc"), ("job", "99999999999999"), ("job", "0"),
    ("job_inspection_line_item", "1.5"), ("exclude_job_inspection_line_item", "x"),
    ("is_video", "maybe"),
])
def test_bad_list_query(owner, param, value):
    assert_bad_field(owner.get(PHOTOS, query_string={param: value}), param)


def test_list_query_bounds_are_accepted(owner):
    for query in ({"page": "1", "page_size": "1"}, {"page_size": "100"}, {"job": "2147483647"}):
        response = owner.get(PHOTOS, query_string=query)
        assert response.status_code == 200, (query, response.get_json())


@pytest.mark.parametrize("path", ["/light/photos/99999999999999/",
                                  "/light/photos/99999999999999/uploaded/"])
def test_huge_photo_id_is_not_found(owner, path):
    response = owner.put(path) if path.endswith("uploaded/") else owner.get(path)
    assert_error(response, 404)
