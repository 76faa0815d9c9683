"""The reference for the list benchmark: what a page of GET /light/photos/ must do.

A page cannot skip what the spec asks of it, so this app does that, with the bare
drivers and none of the framework: the API key lookup, a fixed-window rate-limit
counter in Redis, the count and the page of the caller's uploaded photos in
display order (the same two queries as the real list, on the same index), every
field of the photo representation as JSON, and two presigned GET links per photo
(thumbnail and web size). The links are signed with `photoservice.storage.
presigned_get`, a SigV4 hash and HMAC and nothing else: the least presigning can
cost. No validation, no error handling, no ORM, no marshmallow, no flask-smorest.
Only what an owner's list needs (`page`, `page_size`; no filters).

Served by gunicorn exactly like the real app: `gunicorn bench.required_list:app`,
with DATABASE_URL, REDIS_URL and the S3 settings.
"""
import hashlib
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
COUNT = "SELECT count(*) FROM photos WHERE company_id = %s AND status = 'uploaded'"
FIELDS = ("id", "name", "description", "job_id", "job_inspection_line_item_id", "estimate_line_item_id",
          "supplemental_line_item_id", "change_order_line_item_id", "tags", "related_to", "exif",
          "is_video", "client_id", "status", "created_by", "created_at", "updated_at", "uploaded_at",
          "captured_at", "latitude", "longitude", "location", "key", "content_type", "size",
          "processing_status", "processing_error", "location_error", "processed_at", "width", "height",
          "duration", "sha256", "captured_at_source", "media_status", "media_error", "media_warnings",
          "variants")
PAGE = f"""SELECT {", ".join(FIELDS)} FROM photos WHERE company_id = %s AND status = 'uploaded'
    ORDER BY captured_at DESC NULLS LAST, created_at DESC, id DESC LIMIT %s OFFSET %s"""
# Field names in the representation where they differ from the column's.
NAMES = {"job_id": "job", "job_inspection_line_item_id": "job_inspection_line_item",
         "estimate_line_item_id": "estimate_line_item",
         "supplemental_line_item_id": "supplemental_line_item",
         "change_order_line_item_id": "change_order_line_item"}
OUT = [NAMES.get(field, field) for field in FIELDS]
TIMES = [n for n, field in enumerate(FIELDS) if field.endswith("_at")]
LOCATION, VARIANTS = FIELDS.index("location"), FIELDS.index("variants")
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


def page_link(page):
    args = request.args.to_dict()
    args["page"] = str(page)
    return f"{request.base_url}?{urlencode(args)}"


@app.get("/light/photos/")
def photos():
    db, limits, (endpoint, region, credentials, bucket, expires) = parts()
    key_digest = hashlib.sha256(request.headers["X-API-KEY"].encode()).hexdigest()
    window = f"limit:{key_digest}:{int(time.time())}"
    limits.pipeline().incr(window).expire(window, 2).execute()
    user_id, company_id = db.execute(CALLER, (key_digest,), prepare=True).fetchone()
    page, page_size = int(request.args.get("page", 1)), int(request.args.get("page_size", 10))
    count = db.execute(COUNT, (company_id,), prepare=True).fetchone()[0]
    rows = db.execute(PAGE, (company_id, page_size, (page - 1) * page_size), prepare=True).fetchall()
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
    last_page = max(1, -(-count // page_size))
    return {"count": count, "next": page_link(page + 1) if page < last_page else None,
            "previous": page_link(min(page - 1, last_page)) if page > 1 else None, "results": results}
