"""Resumable-upload benchmark: a large file in parts (S3 multipart through presigned part
URLs, 2 at a time) against one presigned POST of the same file, to the same store.

    make bench-multipart        (or: .venv/bin/python -m bench.multipart --mb 200)

Needs PostgreSQL (BENCH_DATABASE_ADMIN_URL, default the local server) and Redis
(BENCH_REDIS_URL, default redis://127.0.0.1:6379/12, flushed); starts its own
SeaweedFS. Its own settings raise PHOTO_UPLOAD_MAX_BYTES past the file, so the
presigned POST takes it too. The API calls go through the app in this process
(Flask's test client); the bytes go over HTTP to SeaweedFS, as a phone's would.

Each round uploads the file both ways, alternating which goes first: the POST as
one request; the parts as their URLs are asked for (100 a call) and PUT by 2
threads. Timed: the upload (first request to the last byte stored) and the upload
with finalize (the POST's finalize copies the file to the original's key; a
multipart upload was made there and is only completed). Figures are medians over
the rounds. Then the CPU of the part-URL route per call, for 1 part and for 100.
The last line is key=value pairs.
"""
import argparse
import os
import secrets
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
import urllib3

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pipeline import drop_database, fresh_parts, stack_environment  # noqa: E402
from devstack.seaweed import SeaweedS3  # noqa: E402

MB = 1_000_000
CONCURRENCY = 2
URLS_PER_CALL = 100  # the route's most


class Api:
    """The app's API for one user, in this process."""

    def __init__(self, app, user):
        self.client, self.headers = app.test_client(), {"X-API-KEY": user["api_key"]}

    def call(self, method, path, body=None, expect=(200, 201, 204)):
        response = self.client.open(path, method=method, json=body, headers=self.headers)
        if response.status_code not in expect:
            raise SystemExit(f"{method} {path}: {response.status_code} {response.get_data(as_text=True)}")
        return response.get_json(silent=True)


def post_upload(api, content, name):
    """One presigned POST of `content`, then finalize: (upload s, with finalize s)."""
    photo = api.call("POST", "/light/photos/", {"name": name})
    policy = photo["upload_url"]
    # Encoded before the clock starts: neither way copies the file while timed.
    body, content_type = urllib3.encode_multipart_formdata(
        [*policy["fields"].items(), ("file", (name, content, "image/jpeg"))])
    started = time.perf_counter()
    stored = requests.post(policy["url"], data=body, headers={"Content-Type": content_type}, timeout=600)
    uploaded = time.perf_counter()
    if stored.status_code != 204:
        raise SystemExit(f"presigned POST: {stored.status_code} {stored.text[:300]}")
    api.call("PUT", f"/light/photos/{photo['id']}/uploaded/")
    return uploaded - started, time.perf_counter() - started


def parts_upload(api, content, name):
    """The file in parts, CONCURRENCY at a time, then finalize: (upload s, with finalize s)."""
    photo = api.call("POST", "/light/photos/", {"name": name})
    base = f"/light/photos/{photo['id']}/multipart/"
    view = memoryview(content)  # parts are slices of it: nothing copied while timed
    started = time.perf_counter()
    upload = api.call("POST", base, {"size": len(content)})
    part_size, count = upload["part_size"], upload["part_count"]
    urls = []
    for first in range(1, count + 1, URLS_PER_CALL):
        numbers = list(range(first, min(first + URLS_PER_CALL, count + 1)))
        urls += api.call("POST", base + "parts/", {"part_numbers": numbers})["parts"]

    def put(part):
        first = (part["part_number"] - 1) * part_size
        response = session().put(part["url"], data=view[first:first + part["size"]],
                                 headers=part["headers"], timeout=600)
        if response.status_code != 200:
            raise SystemExit(f"part {part['part_number']}: {response.status_code} {response.text[:300]}")

    with ThreadPoolExecutor(CONCURRENCY) as pool:
        list(pool.map(put, urls))
    uploaded = time.perf_counter()
    api.call("PUT", f"/light/photos/{photo['id']}/uploaded/")
    return uploaded - started, time.perf_counter() - started, count, part_size


_sessions = threading.local()


def session():
    """One keep-alive connection per thread, as an uploader keeps its connections."""
    if not hasattr(_sessions, "session"):
        _sessions.session = requests.Session()
    return _sessions.session


def part_url_cpu(api, calls):
    """CPU ms per call of the part-URL route: asking for 1 part, and for 100 (of a 1 GiB video)."""
    photo = api.call("POST", "/light/photos/", {"name": "Walkaround.mp4", "is_video": True})
    base = f"/light/photos/{photo['id']}/multipart/"
    api.call("POST", base, {"size": 1024 ** 3})
    figures = {}
    for label, numbers, repeat in (("one", [1], calls), ("hundred", list(range(1, 101)), calls // 10)):
        for _ in range(5):  # warm
            api.call("POST", base + "parts/", {"part_numbers": numbers})
        used = time.process_time()
        for _ in range(repeat):
            api.call("POST", base + "parts/", {"part_numbers": numbers})
        figures[label] = 1000 * (time.process_time() - used) / repeat
    return figures


def make_app():
    from flask_migrate import upgrade

    from photoservice import create_app
    from photoservice.demo import seed_company
    from photoservice.extensions import db

    app = create_app()
    with app.app_context():
        upgrade()
        company = seed_company("multipart")
        db.session.commit()
    return app, company


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=200, help="the file's size in MB")
    parser.add_argument("--rounds", type=int, default=3, help="uploads each way")
    parser.add_argument("--calls", type=int, default=300, help="part-URL calls timed (1 part each)")
    args = parser.parse_args()
    if args.mb < 1 or args.rounds < 1 or args.calls < 10:
        parser.error("--mb and --rounds must be at least 1, --calls at least 10")

    # JPEG's first bytes (what finalize's sniff reads), then bytes nothing can compress.
    content = b"\xff\xd8\xff" + os.urandom(args.mb * MB - 3)
    admin_url, redis_url, name, database_url = fresh_parts(redis_db=12)
    rounds = []
    try:
        with tempfile.TemporaryDirectory() as s3_dir, SeaweedS3(
                s3_dir, secrets.token_hex(8), secrets.token_hex(16), bucket="photos") as store:
            stack_environment(database_url, redis_url, store, API_RATE_LIMIT="off",
                              LOG_LEVEL="WARNING", PHOTO_UPLOAD_MAX_BYTES=str(len(content) + MB))
            os.environ.pop("S3_PUBLIC_ENDPOINT_URL", None)
            app, company = make_app()
            with app.app_context():
                api = Api(app, company["users"][2])  # crew
                for n in range(args.rounds):
                    ways = [("post", post_upload), ("parts", parts_upload)]
                    figures = {}
                    for way, upload in (ways if n % 2 == 0 else ways[::-1]):
                        figures[way] = upload(api, content, f"Walkaround {n} {way}.jpg")
                    rounds.append(figures)
                cpu = part_url_cpu(api, args.calls)
    finally:
        drop_database(admin_url, name)
    report(rounds, cpu, len(content))


def report(rounds, cpu, size):
    """Print the figures; the last line is key=value pairs."""
    def mb_per_s(way, index):
        return statistics.median(size / MB / figures[way][index] for figures in rounds)

    post, parts = mb_per_s("post", 0), mb_per_s("parts", 0)
    post_done, parts_done = mb_per_s("post", 1), mb_per_s("parts", 1)
    ratio = statistics.median(figures["post"][0] / figures["parts"][0] for figures in rounds)
    ratio_done = statistics.median(figures["post"][1] / figures["parts"][1] for figures in rounds)
    _, _, count, part_size = rounds[0]["parts"]
    print(f"file: {size / MB:.0f} MB; {count} parts of {part_size / 2 ** 20:.0f} MiB, {CONCURRENCY} at a "
          f"time; {len(rounds)} rounds each way, alternating which goes first (SeaweedFS on this machine)")
    print(f"one presigned POST: {post:.1f} MB/s upload, {post_done:.1f} MB/s with finalize (a copy)")
    print(f"parts:              {parts:.1f} MB/s upload, {parts_done:.1f} MB/s with finalize (a complete)")
    print(f"parts/POST: {ratio:.3f} x upload (target >= 0.9), {ratio_done:.3f} x with finalize; per round: "
          + " ".join(f"{f['post'][0] / f['parts'][0]:.2f}" for f in rounds))
    print(f"part-URL route CPU (in-process, test client included): {cpu['one']:.2f} ms a call for 1 part, "
          f"{cpu['hundred']:.2f} ms for 100 ({cpu['hundred'] / 100 * 1000:.0f} us a part; each part past "
          f"the first {(cpu['hundred'] - cpu['one']) / 99 * 1000:.1f} us)")
    print(f"multipart_mb_per_s={parts:.2f} post_mb_per_s={post:.2f} ratio={ratio:.3f} "
          f"multipart_done_mb_per_s={parts_done:.2f} post_done_mb_per_s={post_done:.2f} "
          f"ratio_done={ratio_done:.3f} part_url_cpu_ms={cpu['one']:.3f} "
          f"part_url_cpu_ms_100={cpu['hundred']:.3f}")


if __name__ == "__main__":
    main()
