"""Marshmallow fields and validators for what clients send as JSON."""
import math

import marshmallow as ma
from marshmallow import fields, validate

MAX_ID = 2**31 - 1
EXIF_MAX_DEPTH = 8
EXIF_MAX_ITEMS = 500


def storable_text_error(value):
    """Why a string cannot be stored as text (NUL, lone surrogate), or None."""
    if "\x00" in value:
        return "must not contain NUL characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "must be valid Unicode text"
    return None


class Text(fields.String):
    """A string that PostgreSQL can store: no NUL, no lone surrogates."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        problem = storable_text_error(text)
        if problem:
            raise ma.ValidationError(problem)
        return text


def Id(strict=True, **kwargs):
    """A positive integer id; `strict=False` for query strings, where it comes as text."""
    return fields.Integer(strict=strict, validate=validate.Range(1, MAX_ID), **kwargs)


class JSONObject(fields.Dict):
    """A free-form JSON object with bounded depth and storable content."""

    def _deserialize(self, value, attr, data, **kwargs):
        obj = super()._deserialize(value, attr, data, **kwargs)
        counter = [0]
        _check_json_value(obj, 1, counter)
        return obj


def _check_json_value(value, depth, counter):
    counter[0] += 1
    if counter[0] > EXIF_MAX_ITEMS:
        raise ma.ValidationError(f"must hold at most {EXIF_MAX_ITEMS} values")
    if depth > EXIF_MAX_DEPTH:
        raise ma.ValidationError(f"must not be nested deeper than {EXIF_MAX_DEPTH} levels")
    if isinstance(value, float) and not math.isfinite(value):
        raise ma.ValidationError("numbers must be finite")
    if isinstance(value, str):
        _check_text(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key)
            _check_json_value(item, depth + 1, counter)
    elif isinstance(value, list):
        for item in value:
            _check_json_value(item, depth + 1, counter)


def _check_text(text):
    problem = storable_text_error(text)
    if problem:
        raise ma.ValidationError(f"text {problem}")
