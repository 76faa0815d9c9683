"""Pipeline benchmark: photos/second through one real worker process.

    make bench-pipeline            (or: .venv/bin/python -m bench.pipeline --photos 2000)

Needs PostgreSQL (BENCH_DATABASE_ADMIN_URL, default the local server) and Redis
(BENCH_REDIS_URL, default redis://127.0.0.1:6379/15, flushed). It creates a
throwaway database, inserts photos with EXIF timestamps and GPS spread over a few
sites, queues their processing on a worker with one process and the offline
geocoder, and times until every photo is processed. The floor is the same number
of no-op tasks through the same worker. The last line is key=value pairs.
"""
import argparse
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import redis
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def make_database(admin_url):
    name = f"photoservice_bench_{secrets.token_hex(4)}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return name, admin_url.rsplit("/", 1)[0] + "/" + name


def fresh_parts(redis_db):
    """(admin URL, Redis URL, database name, database URL): an emptied Redis
    database and a new PostgreSQL database, from BENCH_* or the local servers."""
    admin_url = os.environ.get("BENCH_DATABASE_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    redis_url = os.environ.get("BENCH_REDIS_URL", f"redis://127.0.0.1:6379/{redis_db}")
    redis.Redis.from_url(redis_url).flushdb()
    return (admin_url, redis_url, *make_database(admin_url))


def secret_keys():
    """WEBHOOK_SECRET_KEYS for a throwaway database: the caller's, else a fresh key."""
    return os.environ.get("WEBHOOK_SECRET_KEYS") or Fernet.generate_key().decode()


def stack_environment(database_url, redis_url, store, **settings):
    """The environment of the app's processes on the benchmark's parts (a SeaweedS3
    `store`), with `settings` on top; sets it in this process too."""
    env = dict(os.environ, DATABASE_URL=database_url, REDIS_URL=redis_url,
               S3_ENDPOINT_URL=store.endpoint_url, S3_BUCKET=store.bucket,
               AWS_ACCESS_KEY_ID=store.access_key, AWS_SECRET_ACCESS_KEY=store.secret_key,
               GEOCODER="offline", WEBHOOK_SECRET_KEYS=secret_keys(), **settings)
    os.environ.update(env)
    return env


def drop_database(admin_url, name):
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def seed(app, photos, sites):
    """A company, a user and `photos` pending photos at `sites` places; returns their ids."""
    from photoservice.demo import seed_company
    from photoservice.extensions import db
    from photoservice.photos.models import Photo

    with app.app_context():
        company = seed_company("bench")
        user_id = company["users"][0]["id"]
        rows = [{
            "company_id": company["id"], "created_by": user_id, "name": f"photo {n}",
            "key": f"photo-{n}_{secrets.token_hex(4)}.jpg", "tags": [], "related_to": [],
            "exif": {"timestamp": 1732790400000 + n,
                     "GPSLatitude": [[40 + n % sites, 1], [48, 1], [5556 + n % 7, 100]],
                     "GPSLatitudeRef": "N", "GPSLongitude": "73/1,58/1,1200/100",
                     "GPSLongitudeRef": "W"},
            "job_inspection_line_item_id": company["job_inspection_line_item"],
        } for n in range(photos)]
        ids = db.session.scalars(db.insert(Photo).returning(Photo.id), rows).all()
        db.session.commit()
    return ids


def count_processed(app, ids):
    from photoservice.extensions import db
    from photoservice.photos.models import Photo

    with app.app_context():
        count = db.session.scalar(db.select(db.func.count()).select_from(Photo).where(
            Photo.id.in_(ids), Photo.processing_status == "processed"))
        db.session.rollback()
    return count


def run_through_worker(app, celery_app, task, ids, done, timeout):
    started = time.perf_counter()
    for photo_id in ids:
        celery_app.send_task(task, args=[photo_id])
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise SystemExit(f"{task}: not finished within {timeout}s")
        time.sleep(0.05)
    return len(ids) / (time.perf_counter() - started)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=1000)
    parser.add_argument("--sites", type=int, default=5)
    args = parser.parse_args()

    admin_url, redis_url, name, database_url = fresh_parts(redis_db=15)
    env = dict(os.environ, DATABASE_URL=database_url, REDIS_URL=redis_url, GEOCODER="offline",
               WEBHOOK_SECRET_KEYS=secret_keys())
    os.environ.update(env)
    worker = None
    try:
        from flask_migrate import upgrade

        from photoservice import create_app
        from photoservice.extensions import db
        from photoservice.geocoding.models import GeocodedPlace

        app = create_app()
        with app.app_context():
            upgrade()
        ids = seed(app, args.photos, args.sites)
        floor_ids = list(range(args.photos))
        log = open(ROOT / "bench" / "pipeline-worker.log", "wb")
        worker = subprocess.Popen(
            [str(Path(sys.executable).with_name("celery")), "--app", "workers.worker:celery_app",
             "worker", "--concurrency", "1", "--include", "bench.floor_tasks", "--loglevel", "WARNING",
             "--without-gossip", "--without-mingle"], cwd=ROOT, env=env, stdout=log, stderr=log)
        time.sleep(1)
        celery_app = app.extensions["celery"]
        client = redis.Redis.from_url(redis_url)

        floor_rps = run_through_worker(app, celery_app, "bench.floor", floor_ids,
                                       lambda: client.llen("celery") == 0 and not client.hlen("unacked"),
                                       timeout=600)
        pipeline_rps = run_through_worker(app, celery_app, "workers.tasks.process_photo", ids,
                                          lambda: count_processed(app, ids) == len(ids), timeout=1200)
        with app.app_context():
            calls = db.session.scalar(db.select(db.func.count()).select_from(GeocodedPlace))
        calls_per_site = calls / args.sites
        print(f"floor (no-op task, 1 worker process): {floor_rps:.0f} tasks/s")
        print(f"pipeline (process_photo, offline geocoder, 1 worker process): {pipeline_rps:.0f} photos/s")
        print(f"geocoder calls: {calls} for {args.sites} sites ({calls_per_site:.2f} per site)")
        print(f"pipeline_photos_per_s={pipeline_rps:.1f} floor_tasks_per_s={floor_rps:.1f} "
              f"ratio={pipeline_rps / floor_rps:.3f} geocoder_calls_per_site={calls_per_site:.2f} "
              f"photos={args.photos} sites={args.sites}")
    finally:
        if worker is not None:
            worker.send_signal(signal.SIGTERM)
            worker.wait(30)
        drop_database(admin_url, name)


if __name__ == "__main__":
    main()
