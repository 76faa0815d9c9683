"""The derivatives table is what the response schema, the store keys and the OpenAPI
example read: each lists exactly the table's sizes, in its order."""
from types import SimpleNamespace

import pytest

from photoservice.derivatives import DERIVATIVES, fitted, largest_first
from photoservice.photos.object_keys import derivative_key, stored_keys
from photoservice.photos.schemas import VariantsSchema
from photoservice.web.openapi import PHOTO_EXAMPLE


def test_the_variants_schema_has_a_field_per_size_described_by_its_box():
    fields = VariantsSchema().fields
    assert list(fields) == list(DERIVATIVES)
    for name, longest in DERIVATIVES.items():
        assert fields[name].metadata["description"] == f"JPEG fitting {longest}×{longest}."
        assert fields[name].required  # sent in full, like every response field


def test_the_openapi_example_shows_every_size_fitted_to_the_photo():
    variants = PHOTO_EXAMPLE["variants"]
    assert list(variants) == list(DERIVATIVES)
    for name, longest in DERIVATIVES.items():
        size = fitted((PHOTO_EXAMPLE["width"], PHOTO_EXAMPLE["height"]), longest)
        assert (variants[name]["width"], variants[name]["height"]) == size
        assert f"/{derivative_key(PHOTO_EXAMPLE['key'], name)}?" in variants[name]["url"]


def test_the_keys_a_photo_may_have_include_every_size_and_any_it_was_given_before(monkeypatch):
    monkeypatch.setitem(DERIVATIVES, "extra", 200)
    retired = {"key": "ridge_a1b2c3d4.jpg.square.jpg", "width": 300, "height": 300}
    photo = SimpleNamespace(key="ridge_a1b2c3d4.jpg", original_key=None, variants={"square": retired})
    keys = stored_keys(photo)
    assert [derivative_key(photo.key, name) for name in DERIVATIVES] == keys[2:-1]
    assert keys[-1] == retired["key"]


@pytest.mark.parametrize("size, longest, expected", [
    ((4032, 3024), 400, (400, 300)),
    ((3024, 4032), 1600, (1200, 1600)),
    ((300, 200), 400, (300, 200)),  # never scaled up
    ((6000, 40), 400, (400, 3)),
    ((9000, 1), 400, (400, 1)),  # never below one pixel
])
def test_fitted_keeps_the_aspect_within_the_box(size, longest, expected):
    assert fitted(size, longest) == expected


def test_sizes_are_made_largest_first():
    assert [longest for _, longest in largest_first()] == sorted(DERIVATIVES.values(), reverse=True)
