"""The video part of `make bench-media`: videos/second through the real media task against
a floor of bare parts, and the worker's peak memory on a 4K HEVC clip.

Two 30 s clips (bench/video_clips.py: 1080p H.264 at 16 Mbit/s, 4K HEVC at 40 Mbit/s)
are put in the bucket and queued, one video at a time, for the same worker process
the photos went through. The floor does, in this process, the work no video can
skip: the same object read from the same store into a temporary file and hashed,
opened with PyAV, one seek, one frame decoded, scaled, and two JPEGs made (no
checks, no database, no queue). Floor and task take turns, clip by clip, for each
round; the figures are medians. Last, the 4K clip runs alone while the pool
process's resident set is watched.
"""
import hashlib
import io
import statistics
import tempfile
import time
from datetime import datetime, timezone

import av
from PIL import Image

from bench import media_worker
from bench.video_clips import CLIPS, clip_file
from photoservice.media.video import CONTAINER_OPTIONS

WEB, THUMBNAIL = 1600, 400
QUALITY = 85
CHUNK = 1 << 20


def upload(app, store, company):
    """Put each clip in the bucket and seed its row as finalize leaves a video:
    {clip name: (photo id, key)}."""
    from photoservice.extensions import db
    from photoservice.photos.models import Photo
    from photoservice.photos.object_keys import object_key

    s3, now, seeded = store.client(), datetime.now(timezone.utc), {}
    for name in CLIPS:
        path, key = clip_file(name), object_key(f"Walkaround {name}.mp4", is_video=True)
        with open(path, "rb") as body:
            etag = s3.put_object(Bucket=store.bucket, Key=key, Body=body, ContentType="video/mp4")["ETag"]
        row = {"company_id": company["id"], "created_by": company["users"][2]["id"], "name": name,
               "key": key, "original_key": key, "tags": [], "related_to": [], "is_video": True,
               "status": "uploaded", "content_type": "video/mp4", "size": path.stat().st_size,
               "etag": etag.strip('"'), "uploaded_at": now, "processing_status": "processed",
               "media_status": "queued", "media_dispatched_at": now}
        with app.app_context():
            seeded[name] = (db.session.scalars(db.insert(Photo).returning(Photo.id), [row]).one(), key)
            db.session.commit()
    return seeded


def floor(s3, bucket, key):
    """Seconds the bare parts take over one video (see the module's docstring), with
    `s3` a client made before (the worker's is made once per process too)."""
    started = time.perf_counter()
    digest = hashlib.sha256()
    with tempfile.TemporaryFile() as spool:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"]
        for chunk in body.iter_chunks(CHUNK):
            digest.update(chunk)
            spool.write(chunk)
        spool.seek(0)
        # Probing as briefly, on one thread, as the task does: the floor is the least work.
        with av.open(spool, "r", container_options=CONTAINER_OPTIONS, options={"threads": "1"}) as container:
            stream = container.streams.video[0]
            stream.codec_context.skip_frame = "NONKEY"
            stream.codec_context.thread_count = 1
            container.seek(int(1 / stream.time_base), stream=stream, backward=True)
            frame = next(container.decode(stream))
            scale = min(1.0, WEB / max(frame.width, frame.height))
            web = frame.reformat(width=round(frame.width * scale), height=round(frame.height * scale),
                                 format="rgb24", interpolation="BICUBIC").to_image()
    thumbnail = web.resize((THUMBNAIL, round(web.height * THUMBNAIL / web.width)),
                           Image.Resampling.BICUBIC, reducing_gap=2.0)
    for image in (web, thumbnail):
        image.save(io.BytesIO(), "JPEG", quality=QUALITY)
    return time.perf_counter() - started


def measure(app, worker, store, company, rounds):
    """{"pairs": [(floor s, task s) per clip per round], "per_clip": {name: [...]}, "peak_mb"}."""
    seeded = upload(app, store, company)
    s3, child = store.client(), media_worker.pool_child(worker)
    figures = {"pairs": [], "per_clip": {name: [] for name in seeded}}
    for round_ in range(rounds + 1):  # the first round warms PyAV up in both
        for name, (photo_id, key) in seeded.items():
            if round_:
                media_worker.requeue(app, [photo_id])
            pair = floor(s3, store.bucket, key), media_worker.process(app, [photo_id], timeout=600)
            if round_:
                figures["pairs"].append(pair)
                figures["per_clip"][name].append(pair)
    photo_id, _ = seeded["4k-hevc"]
    media_worker.requeue(app, [photo_id])
    figures["peak_mb"] = media_worker.peak_rss_mb(app, child, photo_id)
    return figures


def report(figures):
    """Print the video figures; returns the key=value pairs for the last line."""
    for name, pairs in figures["per_clip"].items():
        path = clip_file(name)
        floor_s = statistics.median(f for f, _ in pairs)
        task_s = statistics.median(t for _, t in pairs)
        print(f"video {name} ({path.stat().st_size / 1e6:.0f} MB, 30 s): task {task_s:.2f} s, "
              f"floor {floor_s:.2f} s ({floor_s / task_s:.2f} x of the floor's speed)")
    # Videos/second over the two clips: each round's two videos over their total time.
    rounds = list(zip(figures["pairs"][::2], figures["pairs"][1::2]))
    video = statistics.median(2 / (a[1] + b[1]) for a, b in rounds)
    video_floor = statistics.median(2 / (a[0] + b[0]) for a, b in rounds)
    print(f"videos (1080p H.264 + 4K HEVC, one worker process): {video:.3f} videos/s, floor "
          f"{video_floor:.3f} videos/s: {video / video_floor:.2f} x (target >= 0.8); worker child "
          f"peak RSS {figures['peak_mb']:.0f} MB on the 4K clip (target <= 300)")
    return (f" video_per_s={video:.3f} video_floor_per_s={video_floor:.3f} "
            f"video_peak_rss_mb={figures['peak_mb']:.1f}")
