"""serialization.FastDumpSchema: the same output as marshmallow's own dump, whatever the input.

Responses are dicts (each resource's presenter builds them from the stored row): those
follow the plan; anything else is dumped by marshmallow, to the same output."""
from datetime import datetime, timezone
from types import SimpleNamespace

import marshmallow as ma
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import fields

from photoservice import serialization
from photoservice.database import stored_row
from photoservice.photos.models import Photo
from photoservice.photos.representation import PhotoRecordSchema
from photoservice.photos.schemas import (PhotoCreatedSchema, PhotoDetailSchema, PhotoPageSchema,
                                         PhotoSchema, UploadPolicySchema, VariantSchema)
from photoservice.serialization import FastDumpSchema


def marshmallows(schema_class, obj, monkeypatch):
    """What marshmallow itself dumps: every FastDumpSchema falls back to it."""
    with monkeypatch.context() as patch:
        patch.setattr(serialization, "plan", lambda schema: None)
        return schema_class().dump(obj)


text = st.one_of(st.none(), st.text(max_size=8))
number = st.one_of(st.none(), st.integers(-2**40, 2**40))
when = st.one_of(st.none(), st.datetimes(timezones=st.just(timezone.utc)))
json_value = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                          lambda inner: st.lists(inner, max_size=3)
                          | st.dictionaries(st.text(max_size=4), inner, max_size=3), max_leaves=6)
link = st.fixed_dictionaries({"url": st.text(max_size=10), "width": st.integers(1, 5000),
                              "height": st.integers(1, 5000)})
photo_values = st.fixed_dictionaries({
    "id": st.integers(1, 2**31), "name": st.text(max_size=10), "description": text,
    "job_id": number, "estimate_line_item_id": number, "tags": st.lists(st.text(max_size=5), max_size=3),
    "related_to": st.lists(st.text(max_size=5), max_size=2), "exif": st.none() | st.dictionaries(
        st.text(max_size=4), json_value, max_size=3),
    "is_video": st.booleans(), "status": st.sampled_from(["pending_upload", "uploaded"]),
    "created_at": when, "captured_at": when, "latitude": st.none() | st.floats(-90, 90),
    "location": st.none() | st.dictionaries(st.sampled_from(["city", "state", "country", "extra"]),
                                            st.text(max_size=5)),
    "size": number, "width": number, "duration": st.none() | st.floats(0, 1e6),
    "variants": st.none() | st.dictionaries(st.sampled_from(["thumbnail", "web"]), link, min_size=1),
    "upload_url": st.none() | st.fixed_dictionaries({"url": st.text(max_size=5), "fields": st.dictionaries(
        st.text(max_size=3), st.text(max_size=3), max_size=2)}),
    "download_url": text,
})


def as_response(values):
    """A photo as a presenter builds it: the stored columns, then what the response adds
    (`variants` as links, `upload_url`, `download_url`)."""
    stored = {k: v for k, v in values.items() if k in Photo.__table__.columns and k not in ("id", "variants")}
    return dict(stored_row(Photo.__table__, stored), id=values["id"], variants=values["variants"],
                upload_url=values["upload_url"], download_url=values["download_url"])


def test_the_photo_responses_follow_their_plan():
    for schema in (PhotoPageSchema, PhotoSchema, PhotoDetailSchema, PhotoCreatedSchema, PhotoRecordSchema,
                   UploadPolicySchema, VariantSchema):
        assert serialization.plan(schema()) is not None, schema


@settings(max_examples=150, deadline=None)
@given(photos=st.lists(photo_values, max_size=3), count=st.integers(0, 10**6))
def test_photo_responses_dump_as_marshmallow_does(photos, count):
    with pytest.MonkeyPatch.context() as monkeypatch:
        items = [as_response(values) for values in photos]
        page = {"count": count, "next": None, "previous": "http://x/?page=1", "results": items}
        assert PhotoPageSchema().dump(page) == marshmallows(PhotoPageSchema, page, monkeypatch)
        for schema in (PhotoSchema, PhotoDetailSchema, PhotoCreatedSchema, PhotoRecordSchema):
            for item in items:
                assert schema().dump(item) == marshmallows(schema, item, monkeypatch)


def test_an_object_that_is_not_a_dict_is_dumped_by_marshmallow():
    photo = as_response({"id": 7, "name": "ridge", "tags": ["roof"], "related_to": [], "is_video": False,
                         "status": "uploaded", "variants": None, "upload_url": None, "download_url": None})
    page = {"count": 1, "next": None, "previous": None, "results": [SimpleNamespace(**photo)]}
    assert PhotoPageSchema().dump(page) == ma.Schema.dump(PhotoPageSchema(), page)
    assert PhotoPageSchema().dump(page)["results"][0] == PhotoSchema().dump(photo)
    assert PhotoSchema().dump(photo)["name"] == "ridge"


def test_values_of_other_types_are_converted_by_the_field():
    class Thing(FastDumpSchema):
        count = fields.Integer()
        ratio = fields.Float()
        label = fields.String()
        flag = fields.Boolean()
        when = fields.AwareDateTime()
        many = fields.List(fields.Integer())

    thing = {"count": True, "ratio": 3, "label": 12, "flag": 0, "many": [1.0, "2"],
             "when": datetime(2026, 11, 28, 12, tzinfo=timezone.utc)}
    assert Thing().dump(thing) == ma.Schema.dump(Thing(), thing) == {
        "count": 1, "ratio": 3.0, "label": "12", "flag": False, "many": [1, 2],
        "when": "2026-11-28T12:00:00+00:00"}


def test_missing_values_are_left_out_or_defaulted():
    class Thing(FastDumpSchema):
        present = fields.String()
        absent = fields.String()
        defaulted = fields.Integer(dump_default=7)
        renamed = fields.String(attribute="source", data_key="shown")

    assert Thing().dump({"present": None, "source": "s"}) == {"present": None, "defaulted": 7, "shown": "s"}


def test_a_field_named_like_a_dict_method_reads_a_dicts_item():
    class Thing(FastDumpSchema):
        items = fields.List(fields.String())
        name = fields.String()

    thing = {"items": ["a", "b"], "name": "n"}
    assert serialization.plan(Thing()) is None  # marshmallow reads the method when the item is absent
    assert Thing().dump(thing) == ma.Schema.dump(Thing(), thing) == thing


def test_a_schema_with_a_dump_hook_is_dumped_by_marshmallow():
    class Hooked(FastDumpSchema):
        name = fields.String()

        @ma.post_dump
        def shout(self, data, **kwargs):
            return {key: value.upper() for key, value in data.items()}

    assert serialization.plan(Hooked()) is None
    assert Hooked().dump({"name": "ridge"}) == {"name": "RIDGE"}
    assert Hooked(many=True).dump([{"name": "a"}]) == [{"name": "A"}]


def test_a_field_with_its_own_serialize_keeps_it():
    class Upper(fields.String):
        def _serialize(self, value, attr, obj, **kwargs):
            return None if value is None else value.upper()

    class Thing(FastDumpSchema):
        name = Upper()

    assert Thing().dump({"name": "ridge"}) == {"name": "RIDGE"}
