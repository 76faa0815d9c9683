"""Marshmallow fields and validators for what clients send as JSON."""
import math

import marshmallow as ma
from marshmallow import fields, validate

from ..database import MAX_ID

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


# The rules below as OpenAPI `pattern`s, so generated clients and fuzzers know them.
# Whitespace is spelled out as `str.isspace()` has it: `\s` differs between Python and ECMA.
WHITESPACE = (r"\t\n\u000b\f\r\u001c-\u001f \u0085\u00a0\u1680\u2000-\u200a"
              r"\u2028\u2029\u202f\u205f\u3000")
TEXT_PATTERN = r"^[^\u0000]*$"
NON_BLANK_TEXT_PATTERN = rf"^[^\u0000]*[^\u0000{WHITESPACE}][^\u0000]*$"


def not_blank(text):
    if not text.strip():
        raise ma.ValidationError("Must not be blank.")


class Text(fields.String):
    """A string that PostgreSQL can store: no NUL, no lone surrogates.

    `blank=False` also refuses text that is only whitespace.
    """

    def __init__(self, *, blank=True, validate=None, metadata=None, **kwargs):
        validators = [validate] if callable(validate) else list(validate or [])
        if not blank:
            validators.append(not_blank)
        pattern = TEXT_PATTERN if blank else NON_BLANK_TEXT_PATTERN
        super().__init__(validate=validators, metadata={"pattern": pattern, **(metadata or {})},
                         **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        problem = storable_text_error(text)
        if problem:
            raise ma.ValidationError(problem)
        return text


def Id(strict=True, **kwargs):
    """A positive integer id; `strict=False` for query strings, where it comes as text."""
    return fields.Integer(strict=strict, validate=validate.Range(1, MAX_ID), **kwargs)


# How a JSONObject's values are documented. The rules (no NUL characters in
# keys or text, finite numbers, bounded depth and count) are enforced below; the
# document states them in words, since a recursive `anyOf` of every JSON type is
# what SDK generators (openapi-python-client among them) cannot parse.
JSON_VALUE_RULES = ("Any JSON values; keys and text without NUL characters, numbers finite, "
                    f"at most {EXIF_MAX_DEPTH} levels deep and {EXIF_MAX_ITEMS} values in all.")


class JSONObject(fields.Dict):
    """A free-form JSON object with bounded depth and storable content."""

    def __init__(self, *, metadata=None, **kwargs):
        documented = {
            "description": JSON_VALUE_RULES,
            "additionalProperties": True,
            "maxProperties": EXIF_MAX_ITEMS - 1,
        }
        super().__init__(metadata={**documented, **(metadata or {})}, **kwargs)

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


def sent_in_full(schema_class):
    """Document every field of a response schema as required: each is sent, null if unknown."""
    for field in schema_class._declared_fields.values():
        field.required = True
    return schema_class
