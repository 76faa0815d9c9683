"""Soak check of `make dev`: the whole stack under a steady trickle of photo uploads.

    make soak                                   (SOAK_SECONDS=300 by default)
    .venv/bin/python -m bench.soak --seconds 60 [--rate 2] [--fresh] [--private-clone]

1. Starts `make dev` in a session of its own (output in bench/soak-dev.log) and
   times it until GET /readyz answers 200 with every check ok: a "first start"
   when .dev/ is missing or empty (--fresh runs `make clean` first), else a "restart".
   With --private-clone, all of this runs in a fresh clone of HEAD in a 0700 directory,
   as root's /root/app would be, and `make clean` there must leave nothing behind.
2. Gets API keys from `flask --app wsgi seed-demo`.
3. For --seconds, creates --rate photos a second, uploads a small JPEG to each
   one's presigned POST and finalizes it, over every demo user's key; some photos
   carry EXIF GPS (in the shapes Android, iOS and plain clients send) and a
   capture time. Each finalized photo is read back until it is processed, its
   coordinates and capture time are checked and its download must return the
   bytes uploaded.
4. Every --check-interval seconds: fails at once if a process honcho runs stopped.
5. Waits at most --drain-seconds for every photo to be processed (and its
   media_status, where the API has one, to be "processed").
6. Stops the stack as Ctrl-C in its terminal would (SIGINT to its process group):
   every process of the stack must be gone within 10 s, every process honcho ran
   must stop with rc=0, and the log must hold no ERROR line or Traceback. A weed
   that had to be killed (its shutdown cut short in .dev/s3/weed.log) is a warning.
7. Prints a summary; the last line is key=value pairs. Exit code 0 only if every
   check passed.

Needs the ports of `make dev` free (5000, 5433, 6380, 8333, 5555); talks to
127.0.0.1 only. Settings in the environment (DATABASE_URL, REDIS_URL, S3_*, ...)
are not passed on: the soak runs the default stack.
"""
import argparse
import heapq
import io
import json
import math
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

import requests

from bench.private_clone import run as run_in_private_clone

try:
    from PIL import Image
except ImportError:  # not a dependency: a fixed JPEG does
    Image = None

ROOT = Path(__file__).resolve().parent.parent
DEV_DIR = ROOT / ".dev"
VENV = ROOT / ".venv"
LOG_PATH = ROOT / "bench" / "soak-dev.log"
API = "http://127.0.0.1:5000"
FLOWER = "http://127.0.0.1:5555"
DEV_PORTS = {"web": 5000, "postgres": 5433, "redis": 6380, "s3": 8333, "flower": 5555}
LOCAL_HOSTS = {"127.0.0.1", "localhost"}

STOP_SECONDS = 10          # the stack must be gone this long after SIGINT
REQUEST_TIMEOUT = 10       # seconds, every HTTP request
KEY_INTERVAL = 0.25        # seconds between two requests with one key: under API_RATE_LIMIT (5/s)
MAX_INFLIGHT = 8           # photos being created/uploaded/finalized at once
CHECK_AFTER = 2.0          # seconds after finalize before a photo is first read back
RECHECK_EVERY = 3.0        # seconds between reads of a photo not yet processed
MAX_ERROR_MESSAGES = 20

# The environment `make dev` and seed-demo get: ours without the app's settings,
# so both run on the defaults (the devstack servers), and without make's own
# variables, so `make dev` runs as from a terminal.
_SETTINGS = re.compile(
    r"^(DATABASE_URL|REDIS_URL|S3_\w+|AWS_\w+|PHOTO_\w+|GEOCODER\w*|NOMINATIM_\w+|"
    r"OFFLINE_GEOCODER_\w+|PROCESSING_\w+|CELERY_\w+|WEBHOOK_\w+|API_RATE_LIMIT|MAX_REQUEST_BYTES|"
    r"PORT|FLASK_\w+|WEB_CONCURRENCY|WORKER_CONCURRENCY|MAKEFLAGS|MFLAGS|MAKELEVEL|"
    r"MAKEOVERRIDES|PYTHONPATH|VIRTUAL_ENV)$")

# Lines that fail the soak wherever they appear in the `make dev` log: Python's and
# gunicorn's ERROR/CRITICAL levels, Celery's "…: ERROR/MainProcess]", tracebacks.
ERROR_LINE = re.compile(r" ERROR |\[ERROR\]|: ERROR/|\bCRITICAL\b|Traceback")
HONCHO_LINE = re.compile(r"^\S+ system\s+\| (\S+) (started \(pid=(\d+)\)|stopped \(rc=(-?\d+)\))")
WORKER_READY = re.compile(r"celery@\S+ ready\.")
# What Procfile.dev and `make dev` run from the venv (the servers' commands name .dev/).
STACK_COMMAND = re.compile(r"/(honcho|gunicorn|celery|flask|weed) |-m devstack ")

# A valid 1x1 grey baseline JPEG, for when Pillow is not installed.
TINY_JPEG = bytes.fromhex(
    "ffd8ffe000104a46494600010100000100010000ffdb004300010101010101010101010101010101"
    "01010101010101010101010101010101010101010101010101010101010101010101010101010101"
    "010101010101010101ffc0000b080001000101011100ffc400140001000000000000000000000000"
    "00000000ffc40014100100000000000000000000000000000000ffda0008010100003f003fffd9")

# Places the offline geocoder knows: (name, latitude, longitude).
SITES = [("Springfield IL", 39.7817, -89.6501), ("Denver", 39.7392, -104.9903),
         ("Dallas", 32.7767, -96.7970), ("Tampa", 27.9506, -82.4572),
         ("Sydney", -33.8688, 151.2093)]


class SoakFailure(Exception):
    pass


# -- processes -----------------------------------------------------------------

def proc_table():
    """{pid: (ppid, pgrp, starttime, state)} of every process now."""
    table = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry.name}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        table[int(entry.name)] = (int(fields[1]), int(fields[2]), int(fields[19]), fields[0])
    return table


def cmdline(pid):
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(
            errors="replace").strip()
    except OSError:
        return "?"


def descendants(root, table):
    children = {}
    for pid, (ppid, *_rest) in table.items():
        children.setdefault(ppid, []).append(pid)
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), ()):
            found.append(child)
            todo.append(child)
    return found


def ancestors(table):
    pid, seen = os.getpid(), set()
    while pid in table and pid not in seen:
        seen.add(pid)
        pid = table[pid][0]
    return seen


class ProcessWatch:
    """Every process the stack ran (by pid and start time, so a reused pid is not
    taken for one of them), and the processes of this repository's stack found by
    path: a command under .venv/ or .dev/, or a working directory in .dev/."""

    def __init__(self, root_pid):
        self.root_pid = root_pid
        self.seen = {}  # pid -> (starttime, command)

    def snapshot(self):
        table = proc_table()
        for pid in [self.root_pid, *descendants(self.root_pid, table)]:
            if pid in table and pid not in self.seen:
                self.seen[pid] = (table[pid][2], cmdline(pid))
        return table

    def alive_seen(self, table):
        return [pid for pid, (start, _) in self.seen.items()
                if pid in table and table[pid][2] == start and table[pid][3] not in "ZX"]

    def in_group(self, table):
        return [pid for pid, (_, pgrp, _, state) in table.items()
                if pgrp == self.root_pid and state not in "ZX"]

    def remaining(self):
        """Pids of the stack still running, with their commands."""
        table = proc_table()
        pids = set(self.alive_seen(table)) | set(self.in_group(table)) | set(stack_processes(table))
        return {pid: self.seen.get(pid, (0, cmdline(pid)))[1] for pid in sorted(pids)}


def stack_processes(table=None):
    """Processes of this repository's dev stack (not this script or its ancestors): the
    commands of Procfile.dev from its venv, and whatever names or works in .dev/ or in
    the PostgreSQL cluster .dev/postgres/data links to (as root in a private checkout)."""
    table = table or proc_table()
    mine = ancestors(table)
    cluster = os.path.realpath(DEV_DIR / "postgres" / "data")
    found = []
    for pid, (*_rest, state) in table.items():
        if pid in mine or state in "ZX":
            continue
        try:
            cwd = os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            cwd = ""
        command = cmdline(pid) + " "
        in_dev = cwd in (str(DEV_DIR), cluster) or cwd.startswith(f"{DEV_DIR}/")
        names_dev = f"{DEV_DIR}/" in command or f"{DEV_DIR} " in command
        if in_dev or names_dev or (f"{VENV}/" in command and STACK_COMMAND.search(command)):
            found.append(pid)
    return found


def port_in_use(port):
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
        return False


def clean_environment():
    return {k: v for k, v in os.environ.items() if not _SETTINGS.match(k)}


def rss_by_process(started):
    """Resident memory (MB) of each process honcho runs, its children included."""
    table = proc_table()
    return {name.split(".")[0]: rss_mb([pid, *descendants(pid, table)])
            for name, pid in started.items() if pid in table}


def rss_mb(pids):
    total = 0
    for pid in pids:
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            pass
    return total * os.sysconf("SC_PAGE_SIZE") / 2 ** 20


# -- the log of `make dev` -------------------------------------------------------

class DevLog:
    """Follows bench/soak-dev.log: honcho's started/stopped lines as they come."""

    def __init__(self, path):
        self.path, self.offset, self.partial = path, 0, b""
        self.started, self.stopped = {}, {}  # name -> pid / rc
        self.worker_ready = False
        self.honcho_after = None  # seconds from `make dev` until honcho started its processes

    def poll(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                chunk = f.read()
        except OSError:
            return
        self.offset += len(chunk)
        lines = (self.partial + chunk).split(b"\n")
        self.partial = lines.pop()
        for raw in lines:
            line = raw.decode(errors="replace")
            match = HONCHO_LINE.match(line)
            if match and match.group(3):
                self.started[match.group(1)] = int(match.group(3))
            elif match:
                self.stopped[match.group(1)] = int(match.group(4))
            elif WORKER_READY.search(line):
                self.worker_ready = True

    def lines(self):
        try:
            return self.path.read_text(errors="replace").splitlines()
        except OSError:
            return []


def tail(path, count=40):
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-count:])
    except OSError:
        return ""


# -- traffic --------------------------------------------------------------------

def percentile(values, fraction):
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]


def make_jpeg(n):
    if Image is None:
        return TINY_JPEG
    image = Image.new("RGB", (64, 48), ((n * 37) % 256, (n * 91) % 256, (n * 53) % 256))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def dms(value):
    """Android's "deg/1,min/1,sec*100/100" for the absolute value of a coordinate."""
    value = abs(value)
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    hundredths = round(((value - degrees) * 60 - minutes) * 60 * 100)
    return f"{degrees}/1,{minutes}/1,{hundredths}/100"


def exif_for(n, now_ms):
    """(exif or None, expected (lat, lon) or None, expected capture time in ms or None)."""
    shape = n % 4
    if shape == 3:
        return None, None, None
    _, lat, lon = SITES[n % len(SITES)]
    stamp = now_ms - n * 60_000
    if shape == 0:  # plain decimals, as in the API's example
        return {"timestamp": stamp, "GPSLatitude": lat, "GPSLongitude": lon}, (lat, lon), stamp
    if shape == 1:  # Android: rationals and refs
        exif = {"timestamp": stamp,
                "GPSLatitude": dms(lat), "GPSLatitudeRef": "N" if lat >= 0 else "S",
                "GPSLongitude": dms(lon), "GPSLongitudeRef": "E" if lon >= 0 else "W",
                "Make": "Google", "Model": "Pixel 8"}
        return exif, (lat, lon), stamp
    # iOS: a nested GPS dictionary, no timestamp
    exif = {"{GPS}": {"Latitude": abs(lat), "LatitudeRef": "N" if lat >= 0 else "S",
                      "Longitude": abs(lon), "LongitudeRef": "E" if lon >= 0 else "W"},
            "{TIFF}": {"Make": "Apple", "Model": "iPhone 15"}}
    return exif, (lat, lon), None


def parse_time(text):
    return datetime.fromisoformat(text) if text else None


class Photo:
    def __init__(self, n, key_index, photo_id, coords, stamp, jpeg, created_at):
        self.n, self.key_index, self.id = n, key_index, photo_id
        self.coords, self.stamp, self.jpeg = coords, stamp, jpeg
        self.created_at = created_at
        self.uploaded = False
        self.final = None  # "processed" or "failed"
        self.checks = 0


class Soak:
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


# -- the run ----------------------------------------------------------------------

def wait_ready(make, log, timeout):
    """Seconds until /readyz answers 200 with every check ok."""
    started, last = time.monotonic(), "no answer"
    session = requests.Session()
    session.trust_env = False
    for _ in range(int(timeout / 0.25) + 1):
        if make.poll() is not None:
            raise SoakFailure(f"make dev exited with code {make.returncode} before it was ready:\n"
                              + tail(LOG_PATH))
        log.poll()
        if log.started and log.honcho_after is None:
            log.honcho_after = time.monotonic() - started
        if log.stopped:
            raise SoakFailure(f"stopped while starting: {log.stopped}\n" + tail(LOG_PATH))
        try:
            response = session.get(API + "/readyz", timeout=2)
            last = f"HTTP {response.status_code} {response.text[:200]}"
            checks = response.json().get("checks", {}) if response.status_code == 200 else {}
            if response.status_code == 200 and all(v == "ok" for v in checks.values()):
                return time.monotonic() - started
        except (requests.RequestException, ValueError) as error:
            last = type(error).__name__
        if time.monotonic() - started > timeout:
            break
        time.sleep(0.25)
    raise SoakFailure(f"/readyz not ready after {timeout} s (last: {last}):\n" + tail(LOG_PATH))


def seed_users():
    """Every demo user (with its company) from `flask --app wsgi seed-demo`."""
    result = subprocess.run([str(VENV / "bin" / "flask"), "--app", "wsgi", "seed-demo"],
                            cwd=ROOT, env=clean_environment(), capture_output=True, text=True,
                            timeout=120)
    if result.returncode != 0:
        raise SoakFailure(f"seed-demo failed ({result.returncode}):\n{result.stderr[-2000:]}")
    seeded = json.loads(result.stdout.strip().splitlines()[-1])
    users = [{**user, "company": company} for company in seeded["companies"]
             for user in company["users"]]
    if not users:
        raise SoakFailure(f"seed-demo made no users: {result.stdout[:500]}")
    return users


class Monitor:
    """Fails the soak as soon as a process honcho runs has stopped, or make has exited."""

    def __init__(self, make, log, watch):
        self.make, self.log, self.watch = make, log, watch

    def check(self):
        self.log.poll()
        self.watch.snapshot()
        if self.log.stopped:
            name, rc = next(iter(self.log.stopped.items()))
            raise SoakFailure(f"{name} stopped (rc={rc}) during the soak, so honcho stopped the "
                              f"rest; the log ends:\n" + tail(LOG_PATH))
        if self.make.poll() is not None:
            raise SoakFailure(f"make dev exited with code {self.make.returncode}\n"
                              + tail(LOG_PATH))
        table = proc_table()
        gone = [name for name, pid in self.log.started.items()
                if pid not in table or table[pid][3] in "ZX"]
        if gone:
            raise SoakFailure(f"processes gone: {gone}\n" + tail(LOG_PATH))


def traffic(soak, monitor, args, report):
    """The trickle for args.seconds, then the drain; monitor checks all along."""
    pool = ThreadPoolExecutor(max_workers=MAX_INFLIGHT + 4, thread_name_prefix="soak")
    creating, checking = set(), set()
    interval = 1 / args.rate
    started = time.monotonic()
    deadline = started + args.seconds
    next_photo, next_check = started, started
    n = 0

    def submit(kind, function, *call_args):
        future = pool.submit(function, *call_args)
        kind.add(future)
        future.add_done_callback(kind.discard)

    try:
        for _ in range(int(args.seconds * 100) + 100):  # ticks of >= 10 ms
            now = time.monotonic()
            if now >= next_check:
                monitor.check()
                next_check = now + args.check_interval
            if now >= deadline:
                break
            if now >= next_photo:
                if len(creating) < MAX_INFLIGHT:
                    submit(creating, soak.one_photo, n)
                    n += 1
                else:
                    soak.count("lagged")
                next_photo += interval
                if next_photo < now - 1:  # far behind: do not burst to catch up
                    next_photo = now
            for photo in soak.take_due(now):
                if len(checking) < MAX_INFLIGHT:
                    submit(checking, soak.check, photo, RECHECK_EVERY)
                else:
                    soak.schedule(photo, 0.5)
            time.sleep(max(0.01, min(next_photo, next_check, deadline) - time.monotonic()))
        report["sent_seconds"] = time.monotonic() - started

        # In-flight photos finish (each request is bounded), then every photo is read
        # back until done or the drain time is up.
        drain_deadline = time.monotonic() + args.drain_seconds
        for _ in range(int(args.drain_seconds * 20) + 20):  # ticks of >= 50 ms
            now = time.monotonic()
            if now >= next_check:
                monitor.check()
                next_check = now + args.check_interval
            if not creating and not checking and all(
                    p.final or not p.uploaded for p in soak.photos):
                break
            if now > drain_deadline:
                break
            for photo in soak.take_due(now):
                if len(checking) < MAX_INFLIGHT:
                    submit(checking, soak.check, photo, 1.0)
                else:
                    soak.schedule(photo, 0.2)
            time.sleep(0.05)
        report["drain_seconds"] = time.monotonic() - started - report["sent_seconds"]
    finally:
        report["sent_seconds"] = report["sent_seconds"] or time.monotonic() - started
        pool.shutdown(wait=True, cancel_futures=True)


def stop_stack(make, watch, log, report):
    """SIGINT to the process group, as Ctrl-C in a terminal; the stack must be gone
    within STOP_SECONDS. Whatever is left is then terminated, then killed. Notes in
    report["stopped_after"] when each process honcho ran was gone, children included."""
    table = watch.snapshot()
    log.poll()
    trees = {name.split(".")[0]: [(p, table[p][2]) for p in [pid, *descendants(pid, table)]
                                  if p in table]
             for name, pid in log.started.items()}
    stopped_after = report["stopped_after"] = {}
    started = time.monotonic()
    try:
        os.killpg(make.pid, signal.SIGINT)
    except ProcessLookupError:
        pass
    remaining = {}
    for _ in range(STOP_SECONDS * 20 + 20):
        make.poll()
        table = proc_table()
        for name, tree in trees.items():
            if name not in stopped_after and not any(
                    p in table and table[p][2] == start and table[p][3] not in "ZX"
                    for p, start in tree):
                stopped_after[name] = time.monotonic() - started
        remaining = watch.remaining()
        if make.returncode is not None and not remaining:
            report["stop_seconds"] = time.monotonic() - started
            return []
        if time.monotonic() - started > STOP_SECONDS:
            break
        time.sleep(0.05)
    report["stop_seconds"] = time.monotonic() - started
    problems = [f"still running {STOP_SECONDS} s after SIGINT: "
                + "; ".join(f"{pid} {command[:160]}" for pid, command in remaining.items())]
    for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
        for pid in watch.remaining():
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        for _ in range(wait * 20):
            if not watch.remaining():
                break
            time.sleep(0.05)
    try:
        make.wait(5)
    except subprocess.TimeoutExpired:
        problems.append("make dev would not exit")
    left = watch.remaining()
    if left:
        problems.append(f"left running even after SIGKILL: {left}")
    return problems


def check_log(log, names):
    """Problems in the `make dev` log: error lines, and processes that did not stop
    cleanly when asked to."""
    lines = log.lines()
    errors = [line for line in lines if ERROR_LINE.search(line)]
    problems = []
    if errors:
        problems.append(f"{len(errors)} error lines in {LOG_PATH}, the first ones:\n  "
                        + "\n  ".join(errors[:15]))
    log.poll()
    unclean = {name: rc for name, rc in log.stopped.items() if rc != 0}
    if unclean:
        problems.append(f"stopped with a non-zero code: {unclean}")
    killed = [line for line in lines if "sending SIGKILL" in line]
    if killed:
        problems.append("honcho had to kill: " + "; ".join(killed))
    missing = sorted(set(names) - set(log.stopped))
    if missing:
        problems.append(f"no 'stopped' line for {missing}")
    return errors, problems


SERVER_LOGS = {  # log, pattern of lines worth reporting
    "postgres": (DEV_DIR / "postgres" / "postgres.log", re.compile(r"\b(ERROR|FATAL|PANIC):")),
    "redis": (DEV_DIR / "redis" / "redis.log",
              re.compile(r"^\d+:[A-Z] .* # .*(WARNING|[Ee]rror|[Ff]ail)")),
    "s3": (DEV_DIR / "s3" / "weed.log", re.compile(r"^[EF]\d{4} ")),
}
# What servers log on every start and stop: a probe before PostgreSQL accepts
# connections, and the sessions a fast shutdown ends.
EXPECTED_SERVER_LINES = re.compile(r"the database system is (starting up|shutting down)|"
                                   r"terminating connection due to administrator command")


def log_sizes():
    return {name: (path.stat().st_size if path.exists() else 0)
            for name, (path, _) in SERVER_LOGS.items()}


def server_log_notes(sizes):
    """Lines of the servers' own logs written during the soak that look like errors."""
    notes = {}
    for name, (path, pattern) in SERVER_LOGS.items():
        try:
            with open(path, "rb") as f:
                f.seek(sizes.get(name, 0))
                text = f.read().decode(errors="replace")
        except OSError:
            continue
        found = [line for line in text.splitlines()
                 if pattern.search(line) and not EXPECTED_SERVER_LINES.search(line)]
        if found:
            notes[name] = found
    return notes


def weed_stop_warning(sizes):
    """weed lists each server it stopped, the volume server last; a list cut short means
    the devstack s3 runner killed it when its grace period ran out."""
    path = SERVER_LOGS["s3"][0]
    try:
        with open(path, "rb") as f:
            f.seek(sizes.get("s3", 0))
            text = f.read().decode(errors="replace")
    except OSError:
        return None
    if "Shutting down SeaweedFS" not in text:
        return f"weed logged no shutdown in {path}: killed?"
    listed = text.rsplit("Shutting down SeaweedFS", 1)[1]
    if re.search(r"^\s*Volume\s+stopped", listed, re.M):
        return None
    return (f"weed did not finish its shutdown, so it was killed (grace period of the "
            f"devstack s3 runner); {path} ends: " + " | ".join(
                line.strip() for line in listed.splitlines() if line.strip()))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.soak",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("SOAK_SECONDS", 300)),
                        help="how long to send photos (default: SOAK_SECONDS or 300)")
    parser.add_argument("--rate", type=float, default=2.0, help="photos a second (default 2)")
    parser.add_argument("--fresh", action="store_true",
                        help="`make clean` first (all dev data!) to time a first start")
    parser.add_argument("--private-clone", action="store_true",
                        help="run from a fresh clone of HEAD in a 0700 directory (as root: "
                             "/root/photoservice-soak-*/app), then check that `make clean` "
                             "there leaves nothing (bench/private_clone.py)")
    parser.add_argument("--start-timeout", type=float, default=300,
                        help="seconds `make dev` may take to be ready (default 300)")
    parser.add_argument("--drain-seconds", type=float, default=60,
                        help="seconds to wait at the end for photos to be processed (default 60)")
    parser.add_argument("--check-interval", type=float, default=2,
                        help="seconds between checks that every process is alive (default 2)")
    args = parser.parse_args(argv)
    if not (0 < args.rate <= 20 and 0 < args.seconds <= 86400):
        parser.error("--rate must be in (0, 20], --seconds in (0, 86400]")
    if args.private_clone:
        return run_in_private_clone([arg for arg in (argv if argv is not None else sys.argv[1:])
                    if arg != "--private-clone"], ROOT)
    os.chdir(ROOT)

    busy = {name: port for name, port in DEV_PORTS.items() if port_in_use(port)}
    leftovers = stack_processes()
    if busy or leftovers:
        print(f"soak: the dev stack's ports are taken ({busy}) or its processes run "
              f"({leftovers}): stop that `make dev` first.", file=sys.stderr)
        return 2
    if args.fresh:
        subprocess.run(["make", "-s", "clean"], cwd=ROOT, check=True)
    first = not DEV_DIR.exists() or not any(DEV_DIR.iterdir())
    sizes = log_sizes()

    def interrupted(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, interrupted)
    # Ctrl-C works even if we were started with SIGINT ignored (a background job of a
    # shell): then `make dev` also starts with the default, as from a terminal.
    signal.signal(signal.SIGINT, signal.default_int_handler)

    report = {"start": "first" if first else "restart", "start_seconds": None,
              "stop_seconds": None, "sent_seconds": 0.0, "drain_seconds": 0.0}
    problems, soak, rss = [], None, {}
    LOG_PATH.parent.mkdir(parents=True, exist_ok=True)
    print(f"soak: starting `make dev` ({report['start']} start), log in {LOG_PATH}", flush=True)
    with open(LOG_PATH, "wb") as out:
        make = subprocess.Popen(["make", "dev"], cwd=ROOT, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, env=clean_environment(),
                                start_new_session=True)  # setsid: its own process group
    log, watch = DevLog(LOG_PATH), ProcessWatch(make.pid)
    try:
        report["start_seconds"] = wait_ready(make, log, args.start_timeout)
        print(f"soak: ready in {report['start_seconds']:.1f} s", flush=True)
        for _ in range(240):  # the worker may connect after the web is ready
            log.poll()
            if log.worker_ready:
                break
            time.sleep(0.25)
        else:
            problems.append("the Celery worker never said it was ready")
        try:
            flower = requests.get(FLOWER + "/healthcheck", timeout=5)
            if flower.status_code != 200:
                problems.append(f"flower /healthcheck: HTTP {flower.status_code}")
        except requests.RequestException as error:
            problems.append(f"flower /healthcheck: {type(error).__name__}")
        users = seed_users()
        watch.snapshot()
        rss["start"] = rss_by_process(log.started)
        soak = Soak(args, users)
        print(f"soak: {args.rate:g} photos/s for {args.seconds:g} s over {len(users)} API keys "
              f"({'Pillow' if Image else 'fixed'} JPEGs)", flush=True)
        traffic(soak, Monitor(make, log, watch), args, report)
        rss["end"] = rss_by_process(log.started)
    except SoakFailure as failure:
        problems.append(str(failure))
        report["aborted"] = True
    except KeyboardInterrupt:
        problems.append("interrupted")
        report["aborted"] = True
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not skip the stop
        print("soak: stopping the stack (SIGINT to its process group)", flush=True)
        problems += stop_stack(make, watch, log, report)
        signal.signal(signal.SIGINT, signal.default_int_handler)
    errors, log_problems = check_log(log, log.started)
    problems += log_problems
    notes = server_log_notes(sizes)
    warnings = [w for w in (weed_stop_warning(sizes),) if w]
    return summarize(args, report, soak, problems, warnings, errors, notes, rss, log)


def summarize(args, report, soak, problems, warnings, errors, notes, rss, log):
    counts = soak.counts if soak else {}
    latency = soak.latency if soak else {}
    flow = [v for kind in ("create", "upload", "finalize") for v in latency.get(kind, [])]
    # After an abort, what the traffic saw of the stack going down is only noted.
    traffic_problems = notes.setdefault("traffic after the failure", []) if report.get("aborted") \
        else problems
    if soak:
        unfinished = [p.id for p in soak.photos if p.uploaded and not p.final]
        not_uploaded = counts["photos"] - counts["uploaded"]
        expected = int(args.rate * args.seconds)
        if unfinished:
            traffic_problems.append(
                f"{len(unfinished)} photos not processed after the drain, e.g. {unfinished[:10]}")
        if not_uploaded:
            traffic_problems.append(f"{not_uploaded} photos created but not uploaded and finalized")
        if counts["errors"]:
            traffic_problems.append(f"{counts['errors']} request errors:\n  "
                                    + "\n  ".join(soak.messages))
        if counts["photos"] < 0.9 * expected:
            traffic_problems.append(
                f"only {counts['photos']} photos created of the {expected} planned "
                f"({counts['lagged']} slots skipped with {MAX_INFLIGHT} in flight)")

    print("\n== soak summary ==")
    start = report["start_seconds"]
    migrated = f" (honcho started after {log.honcho_after:.1f} s)" if log.honcho_after else ""
    print(f"start ({report['start']}): "
          + (f"{start:.1f} s to /readyz 200{migrated}" if start else "not ready"))
    if soak:
        print(f"photos: {counts['photos']} created in {report['sent_seconds']:.0f} s, "
              f"{counts['uploaded']} uploaded+finalized, {counts['processed']} processed, "
              f"{counts['failed']} failed; drain {report['drain_seconds']:.1f} s")
        print(f"checks: {counts['located']} located, {counts['dated']} dated from exif; "
              f"{counts['checks']} reads; throttled {counts['throttled']}; "
              f"errors {counts['errors']}")
        for kind, values in latency.items():
            if values:
                print(f"latency {kind:8}: n={len(values)} p50 {percentile(values, .5):.0f} ms, "
                      f"p99 {percentile(values, .99):.0f} ms, max {max(values):.0f} ms")
        if soak.lag_ms:
            print(f"processing (processed_at - created_at): "
                  f"p50 {percentile(soak.lag_ms, .5):.0f} ms, "
                  f"p99 {percentile(soak.lag_ms, .99):.0f} ms, max {max(soak.lag_ms):.0f} ms")
    if rss.get("start"):
        end = rss.get("end", {})
        print("resident memory, MB at the start -> end (children included): " + ", ".join(
            f"{name} {mb:.0f} -> {end[name]:.0f}" if name in end else f"{name} {mb:.0f}"
            for name, mb in rss["start"].items()))
    if report["stop_seconds"] is not None:
        each = ", ".join(f"{name} {seconds:.1f}" for name, seconds in
                         sorted(report.get("stopped_after", {}).items(), key=lambda i: i[1]))
        print(f"stop: {report['stop_seconds']:.2f} s after SIGINT (gone after, s: {each}); "
              f"exit codes: {log.stopped}")
    for name, lines in notes.items():
        if name in SERVER_LOGS:
            print(f"note: {len(lines)} error-like lines in the {name} log during the soak, e.g.:"
                  + "".join(f"\n  {line}" for line in lines[:5]))
        elif lines:
            print(f"note: {name}:" + "".join(f"\n  {line}" for line in lines))
    for warning in warnings:
        print(f"WARN: {warning}")
    for problem in problems:
        print(f"FAIL: {problem}")

    ok = not problems
    fields = {
        "soak_seconds": f"{args.seconds:g}", "rate": f"{args.rate:g}",
        "photos": counts.get("photos", 0), "uploaded": counts.get("uploaded", 0),
        "processed": counts.get("processed", 0), "failed": counts.get("failed", 0),
        "errors": counts.get("errors", 0), "throttled": counts.get("throttled", 0),
        "max_latency_ms": f"{max(flow):.0f}" if flow else "-",
        "p99_latency_ms": f"{percentile(flow, .99):.0f}" if flow else "-",
        "max_processing_ms": f"{max(soak.lag_ms):.0f}" if soak and soak.lag_ms else "-",
        "start": report["start"],
        f"{report['start']}_start_s" if report["start"] == "first" else "restart_s":
            f"{start:.1f}" if start else "-",
        "stop_seconds": "-" if report["stop_seconds"] is None else f"{report['stop_seconds']:.2f}",
        "error_lines": len(errors), "warnings": len(warnings), "ok": int(ok),
    }
    print(" ".join(f"{k}={v}" for k, v in fields.items()), flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
