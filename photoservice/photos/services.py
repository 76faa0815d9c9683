"""The photo upload flow: create, who may renew an upload policy or upload the file, read
(finalize is in finalize.py).

Each returns the photo as a mapping of its stored columns; the routes hand it to
`presenter`, which adds what a response shows beyond the row (policies, links).
"""
from functools import lru_cache

from sqlalchemy import bindparam, literal, select
from sqlalchemy.dialects.postgresql import insert

from .. import queue, request_ids
from ..database import MAX_ID, columns_of, execute, stored_row
from ..errors import Conflict, NotAllowed, NotFound
from ..extensions import db
from . import queries
from .models import REFERENCES, Photo, PhotoStatus
from .object_keys import object_key
from .references import anchor_of, consistent_references, resolve_job

# Attempts at a fresh random key suffix if one is already taken (~1 in 4 billion).
KEY_ATTEMPTS = 5


def create_photo(caller, data):
    """Create a pending photo; returns (photo, created).

    A `client_id` the caller already used returns that photo (created False); the
    same `client_id` from another user is that user's own new photo.
    """
    given = {field: data.pop(field, None) for field in REFERENCES}
    references = {field: object_id for field, object_id in given.items() if object_id is not None}
    values = dict(
        data,
        company_id=caller.company_id,
        created_by=caller.user_id,
        status=PhotoStatus.PENDING_UPLOAD.value,
        request_id=request_ids.current(),
        **{REFERENCES[f].key: object_id for f, object_id in references.items() if f != "job"},
    )
    for _ in range(KEY_ATTEMPTS):
        values["key"] = object_key(data["name"], data["is_video"])
        photo = _insert_unless_exists(values, references)
        if photo is not None:
            db.session.commit()
            queue.enqueue("metadata", [photo["id"]])
            return photo, True
        if references:  # refused: say which reference is wrong, if one is
            resolve_job(caller.company_id, references)
        if data.get("client_id"):
            existing = _find_by_client_id(caller.user_id, data["client_id"])
            if existing is not None:
                return columns_of(existing), False
    raise RuntimeError("could not find a free object key")


def _insert_unless_exists(values, references):
    """INSERT the photo if its references are right and its client_id and key are free;
    None if not. One statement: the references' check is part of the INSERT.

    The unique constraints decide, so concurrent duplicates make one row. The
    new photo is the row as stored, with the id and job the database gave it, as
    a mapping of its columns: nothing tracks it, and building an ORM instance of
    44 columns cost a create ~30 us.
    """
    row = stored_row(Photo.__table__, values)
    del row["job_id"]  # the job of the references, found by the statement
    inserted = execute(_insert_statement(tuple(references)), dict(row, **references)).one_or_none()
    if inserted is None:
        return None
    return dict(row, **inserted._mapping)


@lru_cache(maxsize=None)
def _insert_statement(fields):
    """INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING id, job_id, for photos whose
    references are `fields`: the row only where each one exists in the company and all
    share one job, which becomes the photo's job. Built once per combination (at most 32)."""
    table = Photo.__table__
    columns = [column for column in table.columns if column.key not in ("id", "job_id")]
    if fields:
        refs, consistent = consistent_references(fields)
        job, where = refs.c[anchor_of(fields)], [consistent]
    else:
        job, where = literal(None, type_=table.c.job_id.type), []
    source = select(*(bindparam(column.key, type_=column.type) for column in columns), job).where(*where)
    return (insert(table).from_select([*columns, table.c.job_id], source)
            .on_conflict_do_nothing().returning(table.c.id, table.c.job_id))


def _find_by_client_id(user_id, client_id):
    return db.session.execute(
        db.select(Photo).where(Photo.created_by == user_id, Photo.client_id == client_id)
    ).scalar_one_or_none()


def photo_to_upload(caller, photo_id):
    """The pending photo whose creator asks for a fresh upload policy for the same key.

    For the phone whose policy expired before it could upload (offline, say).
    """
    return columns_of(own_pending(caller, photo_id))


def own_pending(caller, photo_id, lock=False):
    """The photo if the caller created it and it is still pending (`lock`: its row locked
    until commit): 404 if they cannot see it, 403 if not theirs, 409 once uploaded."""
    photo = visible_or_404(caller, photo_id, lock)
    if photo.created_by != caller.user_id:
        raise NotAllowed("Only the user who created the photo can upload its file.")
    if photo.is_uploaded:
        raise Conflict("The photo is already uploaded; its file cannot be replaced.")
    return photo


def get_photo(caller, photo_id):
    """One photo the caller may see."""
    return columns_of(visible_or_404(caller, photo_id))


def list_photos(caller, filters, page, page_size):
    """(count, photos on the page): the uploaded photos the caller may see, in display order,
    as mappings of their listed columns (queries.LISTED_COLUMNS)."""
    return queries.page_of(caller, filters, page, page_size)


def list_photos_after(caller, filters, after, page_size):
    """(photos on the page, whether more follow): keyset paging after the cursor `after`,
    with no count (cursors.py)."""
    return queries.page_after(caller, filters, after, page_size)


def visible_or_404(caller, photo_id, lock=False):
    """The photo if the caller may see it (`lock`: its row locked until commit); else NotFound."""
    photo = queries.find_visible(caller, photo_id, lock) if photo_id <= MAX_ID else None
    if photo is None:
        raise NotFound("Photo not found.")
    return photo
