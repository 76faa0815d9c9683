"""The second reference for the create benchmark: the floor plus what a create must do.

The floor (bench/floor_app.py) presigns and nothing else. A create cannot skip
what the spec asks of it, so this app does that too, with the bare drivers and
none of the framework: the API key lookup, one query checking the references
against the caller's company, INSERT … ON CONFLICT DO NOTHING RETURNING and a
durable commit (psycopg, prepared statements, one connection per process), a
fixed-window rate-limit counter in Redis, and the Celery hand-off of the new
photo. No validation, no error handling, no ORM, no flask-smorest. What the real
create adds on top of this is the cost of how it is written; what this adds on
top of the floor is the cost of what it must do. Served by gunicorn exactly like
the real app: `gunicorn bench.required_app:app`, with DATABASE_URL and REDIS_URL.
"""
import hashlib
import json
import os
import secrets
import time

import psycopg
import redis
from celery import Celery
from flask import Flask, request

from bench.floor_app import upload_policy

app = Flask(__name__)
_parts = {}

CALLER = """SELECT users.id, users.company_id FROM users JOIN api_keys ON api_keys.user_id = users.id
            WHERE api_keys.digest = %s AND api_keys.revoked_at IS NULL"""
REFERENCES = {
    "job": "SELECT id FROM jobs WHERE id = %s AND company_id = %s",
    "job_inspection_line_item": """SELECT job_inspections.job_id FROM job_inspection_line_items
        JOIN job_inspections ON job_inspections.id = job_inspection_line_items.inspection_id
        WHERE job_inspection_line_items.id = %s AND job_inspection_line_items.company_id = %s""",
    "estimate_line_item": "SELECT job_id FROM estimate_line_items WHERE id = %s AND company_id = %s",
    "supplemental_line_item": "SELECT job_id FROM supplemental_line_items WHERE id = %s AND company_id = %s",
    "change_order_line_item": "SELECT job_id FROM change_order_line_items WHERE id = %s AND company_id = %s",
}
REFERENCE_FIELDS = tuple(REFERENCES)
INSERT = """INSERT INTO photos (company_id, created_by, name, description, job_id,
        job_inspection_line_item_id, estimate_line_item_id, supplemental_line_item_id,
        change_order_line_item_id, tags, related_to, exif, is_video, client_id, status, key,
        updated_at, processing_status, processing_attempts, dispatched_at, created_at)
    VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, false, %s, 'pending_upload', %s,
            now(), 'queued', 0, now(), now())
    ON CONFLICT DO NOTHING RETURNING id"""


def parts():
    if not _parts:  # after fork, as the real app does
        url = os.environ["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
        _parts["db"] = psycopg.connect(url)
        _parts["redis"] = redis.Redis.from_url(os.environ["REDIS_URL"])
        _parts["celery"] = Celery("required", broker=os.environ["REDIS_URL"])
    return _parts["db"], _parts["redis"], _parts["celery"]


@app.post("/light/photos/")
def create():
    db, limits, celery = parts()
    body = request.get_json()
    key_digest = hashlib.sha256(request.headers["X-API-KEY"].encode()).hexdigest()
    window = f"limit:{key_digest}:{int(time.time())}"
    limits.pipeline().incr(window).expire(window, 2).execute()
    user_id, company_id = db.execute(CALLER, (key_digest,), prepare=True).fetchone()
    given = [field for field in REFERENCE_FIELDS if body.get(field) is not None]
    jobs = db.execute(
        "SELECT " + ", ".join(f"({REFERENCES[field]})" for field in given),
        [value for field in given for value in (body[field], company_id)], prepare=True,
    ).fetchone() if given else ()
    name = body["name"]
    key = f"photo_{secrets.token_hex(4)}.jpg"
    photo_id = db.execute(INSERT, (
        company_id, user_id, name, body.get("description"), jobs[0] if jobs else None,
        *(body.get(field) for field in REFERENCE_FIELDS[1:]),
        json.dumps(body.get("tags", [])), json.dumps(body.get("related_to", [])),
        json.dumps(body.get("exif")), body.get("client_id"), key), prepare=True).fetchone()[0]
    db.commit()
    celery.send_task("workers.tasks.process_photo", args=[photo_id])
    return {"id": photo_id, "name": name, "key": key, "upload_url": upload_policy(key)}, 201

