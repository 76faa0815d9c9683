"""Media benchmark: photos/second through the real media task, against a bare-Pillow floor.

    make bench-media            (or: .venv/bin/python -m bench.media --photos 40)

Needs PostgreSQL (BENCH_DATABASE_ADMIN_URL, default the local server) and Redis
(BENCH_REDIS_URL, default redis://127.0.0.1:6379/13, flushed); starts its own
SeaweedFS. Generated 12 MP phone photos (bench/photos.py: ~4 MB, EXIF with
orientation, capture time and GPS) are put in the bucket under keys like real
ones, and their rows queued, as finalize leaves them, for one worker process on
the `media` queue (prefork, one pool process; bench/media_worker.py).

After one warm-up photo, the floor (bench/media_floor.py: the same decode and
derivatives with bare Pillow, files from local disk, in this process) and the
worker take turns over CHUNK photos at a time: the floor derives them, then they
are queued and timed until all are processed. Each round covers the N photos
(their rows are put back in the queue between rounds); the figures are medians
over the stretches, with the CPU each part of the stack spent per photo. Then a
48 MP photo goes through alone while the pool process's resident set is watched.
Then two 30 s videos, 1080p H.264 and 4K HEVC, against their own floor
(bench/media_video.py). Last, the list with derivative links (bench/listing.py).
The last line is key=value pairs.
"""
import argparse
import secrets
import signal
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import listing, media_floor, media_video, media_worker  # noqa: E402
from bench.photos import FORTY_EIGHT_MP, photo_file  # noqa: E402
from bench.pipeline import drop_database, fresh_parts, stack_environment  # noqa: E402
from devstack.seaweed import SeaweedS3  # noqa: E402

BIG_PHOTO_SEED = 1000
# Photos per measured stretch. Other work on the shared cores comes in bursts of a
# second or more: the floor and the media work alternate in short stretches and
# the median of their ratios is the figure, so a burst spoils a pair, not the run.
CHUNK = 5


def upload(store, paths):
    """Put each file in the bucket as a phone's upload lands: [(key, size, etag)]."""
    from photoservice.photos.object_keys import object_key

    s3 = store.client()
    uploads = []
    for path in paths:
        key = object_key(f"Roof {path.stem}.jpg", is_video=False)
        with open(path, "rb") as body:
            stored = s3.put_object(Bucket=store.bucket, Key=key, Body=body, ContentType="image/jpeg")
        uploads.append((key, path.stat().st_size, stored["ETag"].strip('"')))
    return uploads


def seed_uploaded(app, company, uploads):
    """Uploaded photo rows waiting for their media work, as finalize leaves them; their ids."""
    from photoservice.extensions import db
    from photoservice.photos.models import Photo

    now = datetime.now(timezone.utc)
    rows = [{"company_id": company["id"], "created_by": company["users"][2]["id"],
             "name": f"roof {n}", "key": key, "original_key": key, "tags": [], "related_to": [],
             "status": "uploaded", "content_type": "image/jpeg", "size": size, "etag": etag,
             "uploaded_at": now, "processing_status": "processed",
             "media_status": "queued", "media_dispatched_at": now}
            for n, (key, size, etag) in enumerate(uploads)]
    with app.app_context():
        ids = db.session.scalars(db.insert(Photo).returning(Photo.id), rows).all()
        db.session.commit()
    return ids


def make_app():
    """The app on the throwaway database, migrated, with a company for each measurement."""
    from flask_migrate import upgrade

    from photoservice import create_app
    from photoservice.demo import seed_company
    from photoservice.extensions import db

    app = create_app()
    with app.app_context():
        upgrade()
        companies = seed_company("media"), seed_company("list")
        db.session.commit()
    return app, companies


def measure_media(app, worker, meter, photos, files, rounds):
    """Pairs of (floor, media) photos/second over CHUNK photos at a time, the CPU each
    part spent, and the pool process's memory; the 48 MP photo (last in `photos`) runs
    alone at the end."""
    warm_up, *timed, big = photos
    child = media_worker.pool_child(worker)
    time.sleep(1)  # let it finish its start-up (worker_process_init)
    figures = {"start_mb": media_worker.rss_mb(child), "pairs": [], "cpu_s": {}}
    figures["warm_up_s"] = media_worker.process(app, [warm_up], timeout=120)
    for round_ in range(rounds):
        if round_:
            media_worker.requeue(app, timed)
        for start in range(0, len(timed), CHUNK):
            ids, paths = timed[start:start + CHUNK], files[start:start + CHUNK]
            used = time.process_time()
            floor = media_floor.photos_per_second(paths)
            cpu_s = {"floor": time.process_time() - used}
            meter.start()
            media = len(ids) / media_worker.process(app, ids, timeout=600)
            cpu_s.update(meter.stop())
            figures["pairs"].append((floor, media))
            for part, seconds in cpu_s.items():
                figures["cpu_s"][part] = figures["cpu_s"].get(part, 0.0) + seconds / len(ids)
    figures["batch_hwm_mb"] = media_worker.rss_mb(child, "VmHWM")
    figures["idle_mb"] = media_worker.rss_mb(child)
    figures["peak_mb"] = media_worker.peak_rss_mb(app, child, big)
    if media_worker.pool_child(worker) != child:
        raise SystemExit("the worker's pool process was replaced during the run")
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=20, help="12 MP photos in the timed run")
    parser.add_argument("--rounds", type=int, default=3, help="passes over the photos")
    parser.add_argument("--no-list", action="store_true", help="skip the list measurement")
    parser.add_argument("--no-video", action="store_true", help="skip the videos (bench/media_video.py)")
    args = parser.parse_args()
    if args.photos < 1 or args.rounds < 1:
        parser.error("--photos and --rounds must be at least 1")

    # Seed 0 warms the worker up; the timed photos are 1..N; the 48 MP one runs last.
    started = time.perf_counter()
    files = [photo_file(seed) for seed in range(args.photos + 1)]
    big_file = photo_file(BIG_PHOTO_SEED, FORTY_EIGHT_MP)
    made = time.perf_counter() - started

    admin_url, redis_url, name, database_url = fresh_parts(redis_db=13)
    try:
        with tempfile.TemporaryDirectory() as s3_dir, SeaweedS3(
                s3_dir, secrets.token_hex(8), secrets.token_hex(16), bucket="photos") as store:
            # The limiter runs on every listed page without ever refusing one.
            env = stack_environment(database_url, redis_url, store, API_RATE_LIMIT="1000000/second")
            env.pop("S3_PUBLIC_ENDPOINT_URL", None)
            env.pop("MEDIA_MAX_PIXELS", None)  # the default limit, as deployed
            app, (company, list_company) = make_app()
            photos = seed_uploaded(app, company, upload(store, [*files, big_file]))
            worker = media_worker.start(env)
            try:
                meter = media_worker.stack_meter(worker, store, admin_url, name)
                figures = measure_media(app, worker, meter, photos, files[1:], args.rounds)
                videos = None if args.no_video else media_video.measure(app, worker, store, company,
                                                                        args.rounds)
            finally:
                worker.send_signal(signal.SIGTERM)
                worker.wait(30)
            listed = None if args.no_list else listing.measure(app, list_company)
    finally:
        drop_database(admin_url, name)
    report(figures, listed, files[1:], big_file, made, videos)


def report(figures, listed, files, big_file, made, videos=None):
    """Print the figures; the last line is key=value pairs."""
    pairs = figures["pairs"]
    floor = statistics.median(floor for floor, _ in pairs)
    media = statistics.median(media for _, media in pairs)
    ratio = statistics.median(media / floor for floor, media in pairs)
    peak = figures["peak_mb"]
    average_mb = sum(path.stat().st_size for path in files) / len(files) / 1e6
    print(f"photos: {len(files)} x 12 MP (~{average_mb:.1f} MB each), 1 x 48 MP "
          f"({big_file.stat().st_size / 1e6:.1f} MB); made or found in {made:.1f} s")
    print(f"floor (bare Pillow, one process): {floor:.2f} photos/s")
    print(f"media (process_media, 1 worker process, SeaweedFS + PostgreSQL): {media:.2f} photos/s "
          f"(warm-up photo {figures['warm_up_s']:.2f} s)")
    print(f"media/floor: {ratio:.3f} x (target >= 0.8), the median of {len(pairs)} stretches of "
          f"{CHUNK} photos each way: " + " ".join(f"{m / f:.2f}" for f, m in pairs))
    cpu_ms = {part: 1000 * seconds / len(pairs) for part, seconds in figures["cpu_s"].items()
              if part != "load generator"}
    print(f"CPU per photo: floor {cpu_ms.pop('floor'):.0f} ms; media " +
          ", ".join(f"{part} {ms:.0f} ms" for part, ms in cpu_ms.items()))
    print(f"worker child RSS: peak {peak:.0f} MB on the 48 MP photo (target <= 350); "
          f"{figures['batch_hwm_mb']:.0f} MB peak over the 12 MP photos, "
          f"{figures['idle_mb']:.0f} MB idle after them, {figures['start_mb']:.0f} MB before "
          "the first photo")
    last = (f"media_photos_per_s={media:.3f} floor_photos_per_s={floor:.3f} "
            f"ratio={ratio:.3f} peak_rss_mb={peak:.1f}")
    if listed:
        links, plain, presign = listed["variants"], listed["plain"], listed["presign_us"]
        print(f"list GET ?page_size={listing.PAGE_SIZE}: {links:.2f} ms CPU with variants "
              f"({links / listing.PAGE_SIZE * 1000:.0f} us per listed photo), {plain:.2f} ms without "
              f"({links / plain:.2f} x, target <= 3); {presign:.0f} us per presigned URL")
        last += (f" list_cpu_ms_variants={links:.3f} list_cpu_ms_plain={plain:.3f} "
                 f"list_ratio={links / plain:.3f} presign_us={presign:.1f}")
    if videos:
        last += media_video.report(videos)
    print(last)


if __name__ == "__main__":
    main()
