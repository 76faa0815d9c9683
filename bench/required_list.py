"""The reference for the list benchmark: what a page of GET /light/photos/ must do.

A page cannot skip what the spec asks of it, so this app does that, with the bare
drivers and none of the framework: the API key lookup, a fixed-window rate-limit
counter in Redis, the count and the page of the caller's uploaded photos in
display order (the same two queries as the real list, on the same index), every
field of the photo representation as JSON, and two presigned GET links per photo
(thumbnail and web size). The links are signed with `photoservice.storage.
presigned_get`, a SigV4 hash and HMAC and nothing else: the least presigning can
cost. No validation, no error handling, no ORM, no marshmallow, no flask-smorest.
Only what an owner's list needs: `page`, `page_size`, `cursor` and the filters `job`,
`tags` and `is_video` (bench/scale_list.py asks for them).

Served by gunicorn exactly like the real app: `gunicorn bench.required_list:app`,
with DATABASE_URL, REDIS_URL and the S3 settings.
"""
import base64
import hashlib
import json
import os
import time
from datetime import datetime, timezone
from urllib.parse import urlencode

import psycopg
import redis
from flask import Flask, request

from photoservice.sigv4 import presigned_get

app = Flask(__name__)
app.json.sort_keys = False  # as the real app
_parts = {}

CALLER = """SELECT users.id, users.company_id FROM users JOIN api_keys ON api_keys.user_id = users.id
            WHERE api_keys.digest = %s AND api_keys.revoked_at IS NULL"""
WHERE = "company_id = %s AND status = 'uploaded'"
# The list's filters the scale benchmark asks for, as the app writes them.
FILTERS = {"is_video": "is_video = %s", "job": "job_id = %s", "tags": "tags @> %s::jsonb"}
FIELDS = ("id", "name", "description", "job_id", "job_inspection_line_item_id", "estimate_line_item_id",
          "supplemental_line_item_id", "change_order_line_item_id", "tags", "related_to", "exif",
          "is_video", "client_id", "status", "created_by", "created_at", "updated_at", "uploaded_at",
          "captured_at", "latitude", "longitude", "location", "key", "content_type", "size",
          "processing_status", "processing_error", "location_error", "processed_at", "width", "height",
          "duration", "sha256", "captured_at_source", "media_status", "media_error", "media_warnings",
          "variants")
ORDER = "ORDER BY captured_at DESC NULLS LAST, created_at DESC, id DESC"
COLUMNS = ", ".join(f"photos.{field}" for field in FIELDS)
DEFERRED_OFFSET = 1_000  # past it, the page's ids first, then their rows (as the app)
# Field names in the representation where they differ from the column's.
NAMES = {"job_id": "job", "job_inspection_line_item_id": "job_inspection_line_item",
         "estimate_line_item_id": "estimate_line_item",
         "supplemental_line_item_id": "supplemental_line_item",
         "change_order_line_item_id": "change_order_line_item"}
OUT = [NAMES.get(field, field) for field in FIELDS]
TIMES = [n for n, field in enumerate(FIELDS) if field.endswith("_at")]
LOCATION, VARIANTS = FIELDS.index("location"), FIELDS.index("variants")
CAPTURED, CREATED = FIELDS.index("captured_at"), FIELDS.index("created_at")
LOCATION_FIELDS = ("address", "city", "state", "postal_code", "country", "country_code", "display_name")


def parts():
    if not _parts:  # after fork, as the real app does
        url = os.environ["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
        _parts["db"] = psycopg.connect(url, autocommit=True)
        _parts["redis"] = redis.Redis.from_url(os.environ["REDIS_URL"])
        _parts["signing"] = (
            os.environ.get("S3_PUBLIC_ENDPOINT_URL") or os.environ["S3_ENDPOINT_URL"],
            os.environ.get("AWS_REGION", "us-east-1"),
            (os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"]),
            os.environ["S3_BUCKET"], int(os.environ.get("PHOTO_DOWNLOAD_EXPIRES", 900)))
    return _parts["db"], _parts["redis"], _parts["signing"]


def page_link(page=None, cursor=None):
    args = request.args.to_dict()
    if cursor is None:
        args["page"] = str(page)
    else:
        args.pop("page", None)
        args["cursor"] = cursor
    return f"{request.base_url}?{urlencode(args)}"


def encode(row):
    """The cursor after a row, as photos/cursors.py makes it."""
    captured, created, photo_id = row[CAPTURED], row[CREATED], row[0]
    text = f"{captured.isoformat() if captured is not None else ''}|{created.isoformat()}|{photo_id}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def after(db, where, values, cursor, page_size):
    """(rows after the cursor, whether more follow): the app's keyset statements."""
    page_sql = f"SELECT {COLUMNS} FROM photos WHERE {where} {{}} {ORDER} LIMIT %s"
    if not cursor:
        stages = [("", [])]
    else:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        captured, created, photo_id = text.split("|")
        if captured:
            stages = [("AND (captured_at, created_at, id) < (%s, %s, %s)", [captured, created, int(photo_id)]),
                      ("AND captured_at IS NULL", [])]
        else:
            stages = [("AND captured_at IS NULL AND (created_at, id) < (%s, %s)", [created, int(photo_id)])]
    rows = []
    for condition, bound in stages:
        rows += db.execute(page_sql.format(condition), [*values, *bound, page_size + 1 - len(rows)],
                           prepare=True).fetchall()
        if len(rows) > page_size:
            break
    return rows[:page_size], len(rows) > page_size


@app.get("/light/photos/")
def photos():
    db, limits, (endpoint, region, credentials, bucket, expires) = parts()
    key_digest = hashlib.sha256(request.headers["X-API-KEY"].encode()).hexdigest()
    window = f"limit:{key_digest}:{int(time.time())}"
    limits.pipeline().incr(window).expire(window, 2).execute()
    user_id, company_id = db.execute(CALLER, (key_digest,), prepare=True).fetchone()
    page, page_size = int(request.args.get("page", 1)), int(request.args.get("page_size", 10))
    where, values = WHERE, [company_id]
    for name in sorted(FILTERS):
        if name in request.args:
            where += " AND " + FILTERS[name]
            values.append(request.args["is_video"] == "true" if name == "is_video" else
                          json.dumps(request.args.getlist("tags")) if name == "tags" else int(request.args[name]))
    if "cursor" in request.args:
        rows, more = after(db, where, values, request.args["cursor"], page_size)
        count, next_cursor = None, encode(rows[-1]) if more else None
    else:
        count = db.execute(f"SELECT count(*) FROM photos WHERE {where}", values, prepare=True).fetchone()[0]
        offset = (page - 1) * page_size
        page_sql = (f"SELECT {COLUMNS} FROM photos WHERE {where} {ORDER} LIMIT %s OFFSET %s"
                    if offset < DEFERRED_OFFSET else
                    f"""SELECT {COLUMNS} FROM photos JOIN (SELECT id FROM photos WHERE {where} {ORDER}
                        LIMIT %s OFFSET %s) AS page ON photos.id = page.id {ORDER}""")
        rows = db.execute(page_sql, [*values, page_size, offset], prepare=True).fetchall()
        next_cursor = encode(rows[-1]) if rows and page * page_size < count else None
    now = datetime.now(timezone.utc)
    results = []
    for row in rows:
        photo = dict(zip(OUT, row))
        for n in TIMES:
            if row[n] is not None:
                photo[OUT[n]] = row[n].astimezone(timezone.utc).isoformat()
        if row[LOCATION] is not None:
            photo["location"] = {name: row[LOCATION][name] for name in LOCATION_FIELDS
                                 if name in row[LOCATION]}
        if row[VARIANTS] is not None:
            photo["variants"] = {
                name: {"url": presigned_get(endpoint, region, credentials, bucket, variant["key"],
                                            expires, now),
                       "width": variant["width"], "height": variant["height"]}
                for name, variant in row[VARIANTS].items()}
        results.append(photo)
    if count is None:
        return {"count": None, "next": page_link(cursor=next_cursor) if next_cursor else None,
                "previous": None, "results": results, "next_cursor": next_cursor}
    last_page = max(1, -(-count // page_size))
    return {"count": count, "next": page_link(page + 1) if page < last_page else None,
            "previous": page_link(min(page - 1, last_page)) if page > 1 else None, "results": results,
            "next_cursor": next_cursor}
