"""Parts 2 and 3 of `make bench-scale`: a burst of one company's photos, and another
company's single photo during it.

A crew's phone comes back online: BURST photos of one company, each with client
`exif`, are created, uploaded (a 1600x1200 JPEG to SeaweedFS, by presigned POST) and
finalized through gunicorn by THREADS client threads. One worker process per queue
(`celery` with beat, `media`; POOL gives their pool processes). Halfway through, one photo of
another company goes the same way. Times run from each finalize's answer (and, for
metadata, also from the create's, when its work became due) to the row's
`processed_at` (metadata) and `media_processed_at` (media), all on this machine's clock.

Then the burst company's whole library is re-queued (`rebuild-media`'s requeue), and
during it one more photo of the other company is created, uploaded and finalized.

Both run twice on the same stack: first with DISPATCH_PER_COMPANY so large that
dispatch is first in, first out (as before the fair share), then with the default.
"""
import os
import statistics
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
import urllib3

from bench.photos import photo_file
from bench.run import gunicorn
from bench.scale_list import percentile
from devstack.seaweed import SeaweedS3

ROOT = Path(__file__).resolve().parent.parent
BURST, THREADS, SIZE = 500, 8, (1600, 1200)
FIFO = 1_000_000  # a share no company reaches: first in, first out
#: Pool processes of each queue's worker process: the `celery` queue's as the Procfile's
#: `worker` has by default; the media work gets one, so it never takes both cores.
POOL = {"celery": 2, "media": 1}
CELERY = str(ROOT / ".venv" / "bin" / "celery")


def exif(n):
    return {"timestamp": 1732790400000 + n * 1000, "GPSLatitude": [[40, 1], [48, 1], [5556 + n % 7, 100]],
            "GPSLatitudeRef": "N", "GPSLongitude": "73/1,58/1,1200/100", "GPSLongitudeRef": "W"}


def send_photo(url, key, n, content):
    """Create, upload and finalize one photo: (photo id, when the create answered, when
    the finalize answered)."""
    headers = {"X-API-KEY": key}
    created = requests.post(f"{url}/light/photos/", json={"name": f"roof {n}.jpg", "exif": exif(n)},
                            headers=headers, timeout=60)
    created.raise_for_status()
    photo, created_at = created.json(), time.time()
    policy = photo["upload_url"]
    body, content_type = urllib3.encode_multipart_formdata(
        [*policy["fields"].items(), ("file", (f"roof {n}.jpg", content, "image/jpeg"))])
    stored = requests.post(policy["url"], data=body, headers={"Content-Type": content_type}, timeout=60)
    if stored.status_code != 204:
        raise SystemExit(f"presigned POST: {stored.status_code} {stored.text[:300]}")
    requests.put(f"{url}/light/photos/{photo['id']}/uploaded/", headers=headers, timeout=60).raise_for_status()
    return photo["id"], created_at, time.time()


def start_worker(env, queues, beat, log_dir):
    command = [CELERY, "--app", "workers.worker:celery_app", "worker", "--concurrency", str(POOL[queues]),
               "--pool", "prefork", "--queues", queues, "--loglevel", "WARNING",
               "--without-gossip", "--without-mingle", "--hostname", f"{queues}@%h"]
    if beat:
        command += ["--beat", "--schedule", str(Path(log_dir) / "beat")]
    log = open(Path(log_dir) / f"{queues}.log", "wb")
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)


def finished(app, ids):
    """{id: (processed_at, media_processed_at) as epoch seconds} once every photo is done."""
    from photoservice.extensions import db
    from photoservice.photos.models import Photo
    with app.app_context():
        rows = db.session.execute(db.select(Photo.id, Photo.processed_at, Photo.media_processed_at,
                                            Photo.media_status).where(Photo.id.in_(ids))).all()
        db.session.rollback()
    if any(meta is None or media is None or status not in ("processed", "failed")
           for _, meta, media, status in rows):
        return None
    return {ident: (meta.timestamp(), media.timestamp()) for ident, meta, media, _ in rows}


def wait_finished(app, ids, timeout=900):
    deadline = time.monotonic() + timeout
    while (times := finished(app, ids)) is None:
        if time.monotonic() > deadline:
            raise SystemExit("the burst's work did not finish")
        time.sleep(0.25)
    return times


def one_run(app, url, keys, content, burst):
    """The burst and the other company's photo, then the re-queue and the other
    company's second photo; the figures of one run."""
    done, lock, other = [], threading.Lock(), {}

    def one(n):
        result = send_photo(url, keys["burst"], n, content)
        with lock:
            done.append(result)
        if n == burst // 2:
            other["photo"] = send_photo(url, keys["other"], 0, content)

    started = time.time()
    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(one, range(burst)))
    spread = time.time() - started
    other_id, _, other_at = other["photo"]
    times = wait_finished(app, [ident for ident, _, _ in done] + [other_id])
    from_create = [max(0.0, times[i][0] - at) for i, at, _ in done]
    metadata = [max(0.0, times[i][0] - at) for i, _, at in done]
    media = [max(0.0, times[i][1] - at) for i, _, at in done]
    return {"finalize_spread_s": spread,
            "metadata_from_create_p99_s": percentile(from_create, 0.99),
            "metadata_p50_s": statistics.median(metadata), "metadata_p99_s": percentile(metadata, 0.99),
            "media_p50_s": statistics.median(media), "media_p99_s": percentile(media, 0.99),
            "other_company_s": max(times[other_id]) - other_at,
            "requeue_other_company_s": during_requeue(app, url, keys, content, [i for i, _, _ in done])}


def during_requeue(app, url, keys, content, library):
    """Re-queue the media of the burst company's `library`, then send one photo of the
    other company: seconds from its finalize to both kinds of its work done."""
    from photoservice.extensions import db
    from photoservice.photos.models import Photo
    from photoservice.photos.rebuild import requeue_media
    with app.app_context():
        company_id = db.session.get(Photo, library[0]).company_id
        for _ in requeue_media(company_id=company_id):
            pass
    other_id, _, other_at = send_photo(url, keys["other"], 1, content)
    times = wait_finished(app, [other_id])
    wait_finished(app, library)  # the next run starts on an empty queue
    return max(times[other_id]) - other_at


def run(context, burst=BURST):
    """Both runs (first in, first out, then the fair share) on a fresh SeaweedFS."""
    from bench.pipeline import stack_environment
    from photoservice import create_app
    from photoservice.demo import seed_company
    from photoservice.extensions import db

    content = photo_file(0, SIZE).read_bytes()
    results = {}
    with tempfile.TemporaryDirectory() as s3_dir, tempfile.TemporaryDirectory() as log_dir, \
            SeaweedS3(s3_dir, context.env["AWS_ACCESS_KEY_ID"], context.env["AWS_SECRET_ACCESS_KEY"],
                      bucket="photos") as store:
        for label, share in (("fifo", FIFO), ("fair", None)):
            settings = {"DISPATCH_PER_COMPANY": str(share)} if share else {}
            os.environ.pop("DISPATCH_PER_COMPANY", None)  # the run before's
            env = stack_environment(context.env["DATABASE_URL"], context.env["REDIS_URL"], store,
                                    API_RATE_LIMIT="1000000/second", **settings)
            env.pop("S3_PUBLIC_ENDPOINT_URL", None)
            app = create_app()
            with app.app_context():
                keys = {name: seed_company(f"{name}-{label}")["users"][0]["api_key"]
                        for name in ("burst", "other")}
                db.session.commit()
            processes = [start_worker(env, "celery", True, log_dir), start_worker(env, "media", False, log_dir)]
            server, url = gunicorn("wsgi:app", env)
            processes.append(server)
            try:
                results[label] = one_run(app, url, keys, content, burst)
            finally:
                for process in processes:
                    process.terminate()
                    process.wait(30)
    return results


def report(results):
    """Print the table; the figures for the last line (the fair share's)."""
    print("burst: photos of one company (+1 of another's halfway), one worker process per queue;"
          " fifo = DISPATCH_PER_COMPANY unbounded (as before), fair = the default")
    for label, figures in results.items():
        print(f"  {label:5} " + " ".join(f"{name}={value:.2f}" for name, value in figures.items()))
    fair = results["fair"]  # the clock: from each finalize
    return {"burst_metadata_p99_s": fair["metadata_p99_s"], "burst_media_p99_s": fair["media_p99_s"],
            "burst_other_company_s": fair["other_company_s"],
            "burst_requeue_other_company_s": fair["requeue_other_company_s"]}
