"""One photo through the API as a phone sends it (create, upload, finalize), then read
back until processed and checked: place, capture time, the bytes downloaded.
"""
import heapq
import secrets
import threading
import time
from datetime import datetime, timezone
from urllib.parse import urlsplit

import requests

from bench.soak.photos import Photo, exif_for, make_jpeg, parse_time
from bench.soak.stack import API

LOCAL_HOSTS = {"127.0.0.1", "localhost"}

REQUEST_TIMEOUT = 10       # seconds, every HTTP request
KEY_INTERVAL = 0.25        # seconds between two requests with one key: under API_RATE_LIMIT (5/s)
CHECK_AFTER = 2.0          # seconds after finalize before a photo is first read back
MAX_ERROR_MESSAGES = 20


class Soak:
    """The photos of one run and what came back: counts, latencies, error messages.
    Threads of the traffic pool share it (one lock)."""

    def __init__(self, args, users):
        self.args, self.users = args, users
        self.run = secrets.token_hex(3)
        self.lock = threading.Lock()
        self.local = threading.local()
        self.next_at = [0.0] * len(users)
        self.latency = {"create": [], "upload": [], "finalize": [], "get": [], "download": []}
        self.counts = {"throttled": 0, "errors": 0, "photos": 0, "uploaded": 0, "processed": 0,
                       "failed": 0, "lagged": 0, "checks": 0, "located": 0, "dated": 0}
        self.messages = []
        self.photos = []
        self.due = []  # heap of (time, n, photo) to read back
        self.lag_ms = []  # processed_at - created_at, per photo

    # plumbing
    def session(self):
        if not hasattr(self.local, "session"):
            session = requests.Session()
            session.trust_env = False  # no proxies: 127.0.0.1 only
            self.local.session = session
        return self.local.session

    def error(self, message):
        with self.lock:
            self.counts["errors"] += 1
            if len(self.messages) < MAX_ERROR_MESSAGES:
                self.messages.append(message)

    def count(self, name, by=1):
        with self.lock:
            self.counts[name] += by

    def timed(self, kind, call):
        started = time.perf_counter()
        try:
            return call()
        finally:
            with self.lock:
                self.latency[kind].append((time.perf_counter() - started) * 1000)

    def api(self, kind, method, path, key_index, **options):
        """One API request with the user's key, paced under the per-key rate limit;
        a 429 is waited out (up to twice) and counted."""
        headers = {"X-API-KEY": self.users[key_index]["api_key"]}
        for attempt in range(3):
            with self.lock:
                now = time.monotonic()
                at = max(now, self.next_at[key_index])
                self.next_at[key_index] = at + KEY_INTERVAL
            time.sleep(at - now)
            response = self.timed(kind, lambda: self.session().request(
                method, API + path, headers=headers, timeout=REQUEST_TIMEOUT, **options))
            if response.status_code != 429 or attempt == 2:
                return response
            self.count("throttled")
            time.sleep(min(float(response.headers.get("Retry-After") or 1), 5))
        return response

    @staticmethod
    def local_url(url):
        return urlsplit(url).hostname in LOCAL_HOSTS

    # one photo: create, upload, finalize
    def photo_body(self, n, user):
        company = user["company"]
        exif, coords, stamp = exif_for(n, int(time.time() * 1000))
        body = {"name": f"soak {self.run} #{n}", "tags": ["soak", f"batch {n // 100}"]}
        reference = ("job", "job_inspection_line_item", "estimate_line_item",
                     "supplemental_line_item", "change_order_line_item", None)[n % 6]
        if reference == "job":
            body["job"] = company["jobs"][n % len(company["jobs"])]
        elif reference:
            body[reference] = company[reference]
        if exif is not None:
            body["exif"] = exif
        if n % 2:
            body["client_id"] = f"soak-{self.run}-{n}"
        if n % 5 == 0:
            body["description"] = "Soak test photo."
        return body, coords, stamp

    def one_photo(self, n):
        try:
            self._one_photo(n)
        except Exception as error:  # a bug or a dropped connection: counted, not fatal here
            self.error(f"photo #{n}: {type(error).__name__}: {error}")

    def _one_photo(self, n):
        key_index = n % len(self.users)
        body, coords, stamp = self.photo_body(n, self.users[key_index])
        response = self.api("create", "POST", "/light/photos/", key_index, json=body)
        if response.status_code != 201:
            return self.error(f"create #{n}: HTTP {response.status_code} {response.text[:300]}")
        created = response.json()
        jpeg = make_jpeg(n)
        photo = Photo(n, key_index, created["id"], coords, stamp, jpeg, time.monotonic())
        with self.lock:
            self.photos.append(photo)
            self.counts["photos"] += 1
        policy = created.get("upload_url") or {}
        if not policy.get("url") or not self.local_url(policy["url"]):
            return self.error(f"photo {photo.id}: upload_url not on 127.0.0.1: {policy!r:.300}")
        response = self.timed("upload", lambda: self.session().post(
            policy["url"], data=policy["fields"], timeout=REQUEST_TIMEOUT,
            files={"file": (f"soak-{n}.jpg", jpeg, "image/jpeg")}))
        if response.status_code not in (200, 201, 204):
            return self.error(
                f"upload {photo.id}: HTTP {response.status_code} {response.text[:300]}")
        response = self.api("finalize", "PUT", f"/light/photos/{photo.id}/uploaded/", key_index)
        if response.status_code != 200 or response.json().get("status") != "uploaded":
            return self.error(
                f"finalize {photo.id}: HTTP {response.status_code} {response.text[:300]}")
        photo.uploaded = True
        self.count("uploaded")
        self.schedule(photo, CHECK_AFTER)

    def schedule(self, photo, delay):
        with self.lock:
            heapq.heappush(self.due, (time.monotonic() + delay, photo.n, photo))

    def take_due(self, now):
        with self.lock:
            taken = []
            while self.due and self.due[0][0] <= now:
                taken.append(heapq.heappop(self.due)[2])
            return taken

    # reading a photo back
    def check(self, photo, recheck_after):
        try:
            if not self._check(photo):
                self.schedule(photo, recheck_after)
        except Exception as error:
            self.error(f"check {photo.id}: {type(error).__name__}: {error}")
            self.schedule(photo, recheck_after)

    def _check(self, photo):
        """Whether the photo is done (processed or failed for good)."""
        photo.checks += 1
        self.count("checks")
        response = self.api("get", "GET", f"/light/photos/{photo.id}/", photo.key_index)
        if response.status_code != 200:
            self.error(f"get {photo.id}: HTTP {response.status_code} {response.text[:300]}")
            return False
        body = response.json()
        processing, media = body.get("processing_status"), body.get("media_status")
        if processing == "processing_failed" or media == "failed":
            photo.final = "failed"
            self.count("failed")
            self.error(f"photo {photo.id} failed: processing_status={processing} "
                       f"media_status={media} processing_error={body.get('processing_error')!r}")
            return True
        if processing != "processed" or media not in (None, "processed"):
            return False
        self.verify(photo, body)
        photo.final = "processed"
        self.count("processed")
        return True

    def verify(self, photo, body):
        """What processing derived from the exif, and the stored file."""
        created = parse_time(body.get("created_at"))
        processed = parse_time(body.get("processed_at"))
        if created and processed:
            with self.lock:
                self.lag_ms.append((processed - created).total_seconds() * 1000)
        if photo.coords is not None:
            lat, lon = body.get("latitude"), body.get("longitude")
            if lat is None or lon is None or abs(lat - photo.coords[0]) > 1e-3 or \
                    abs(lon - photo.coords[1]) > 1e-3:
                self.error(f"photo {photo.id}: latitude/longitude {lat}/{lon}, expected "
                           f"{photo.coords} (location_error {body.get('location_error')!r})")
            else:
                self.count("located")
        if photo.stamp is not None:
            captured = parse_time(body.get("captured_at"))
            expected = datetime.fromtimestamp(photo.stamp / 1000, timezone.utc)
            if captured is None or abs((captured - expected).total_seconds()) > 1:
                self.error(f"photo {photo.id}: captured_at {body.get('captured_at')}, "
                           f"expected {expected}")
            else:
                self.count("dated")
        url = body.get("download_url")
        if not url or not self.local_url(url):
            return self.error(f"photo {photo.id}: download_url not on 127.0.0.1: {url!r:.200}")
        response = self.timed("download", lambda: self.session().get(url, timeout=REQUEST_TIMEOUT))
        if response.status_code != 200 or response.content != photo.jpeg:
            self.error(f"download {photo.id}: HTTP {response.status_code}, {len(response.content)} "
                       f"bytes, expected the {len(photo.jpeg)} uploaded")
