"""Photo responses, built from the stored row and what only this request adds.

The services hand over a photo as one plain shape, a mapping of its stored
columns (the list reads mappings without the ORM; single photos are copied out
of theirs with `database.columns_of`). What a response adds is signed here,
per request, and never stored: an upload policy and links to the file and its
derivatives expire, so neither the model nor an event carries them. Each
function returns the dict its route's schema dumps, keyed as the response is:
`variants` holds links, not the stored keys.

Signing costs: one download signer per response, however many links a page
signs (100 photos sign 200 links with the settings and credentials read once).
"""
from .. import multipart_store, storage
from .models import PhotoStatus
from .multipart import expires_at
from .object_keys import content_type_for, media_kind, original_key, served_key
from .upload_parts import part_count

UPLOADED = PhotoStatus.UPLOADED.value


def photo(row):
    """A photo as finalize answers: no links (its derivatives are not made yet)."""
    return dict(row, variants=None)


def created(row):
    """A create's answer, first or repeated: the photo, and while it is pending a
    fresh upload policy for its key (null once uploaded); no links."""
    return dict(row, variants=None, upload_url=None if row["status"] == UPLOADED else upload_policy(row))


def detailed(row):
    """One photo as GET and PATCH answer it: links to its derivatives, and once
    uploaded to its file, served as the type finalize detected."""
    sign = storage.download_signer()
    uploaded = row["status"] == UPLOADED
    served = served_key(row["key"], row["original_key"])
    return dict(row, variants=_variant_links(row["variants"], sign),
                download_url=sign(served, row["content_type"]) if uploaded else None)


def listed(rows):
    """A page of listed photos, each with links to its derivatives: one signer for the page."""
    sign = storage.download_signer() if rows else None
    return [dict(row, variants=_variant_links(row["variants"], sign)) for row in rows]


def upload_policy(row):
    """A presigned POST for the photo's key, of the type its key implies (`{url, fields}`)."""
    key, is_video = row["key"], row["is_video"]
    return storage.upload_policy(key, content_type_for(key, is_video), media_kind(is_video))


def multipart_upload(row):
    """The photo's open resumable upload, as starting it answers."""
    return dict(_multipart_layout(row), expires_at=expires_at(row))


def multipart_status(row, received):
    """The open upload and the parts the store holds ([(number, size)])."""
    return dict(_multipart_layout(row), received=[{"part_number": number, "size": size}
                                                  for number, size in received])


def part_urls(row, parts):
    """A presigned PUT for each of `parts` ([(number, exact length)]) of the open upload."""
    sign = multipart_store.part_urls(original_key(row["key"]), row["multipart_upload_id"])
    return {"parts": [{"part_number": number, "url": sign(number, length), "size": length, "headers": {}}
                      for number, length in parts]}


def _multipart_layout(row):
    size, part_size = row["multipart_size"], row["multipart_part_size"]
    return {"upload_id": row["multipart_upload_id"], "part_size": part_size,
            "part_count": part_count(size, part_size)}


def _variant_links(variants, sign):
    """Each derivative's size and a short-lived link (`sign(key)`), once made; else None."""
    if not variants:
        return None
    return {name: {"url": sign(variant["key"]), "width": variant["width"], "height": variant["height"]}
            for name, variant in variants.items()}
