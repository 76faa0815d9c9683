"""Starting `make dev` and following it: its environment, its log (honcho's started
and stopped lines), /readyz, and the demo users seed-demo makes.
"""
import json
import os
import re
import socket
import subprocess
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
DEV_DIR = ROOT / ".dev"
VENV = ROOT / ".venv"
LOG_PATH = ROOT / "bench" / "soak-dev.log"
API = "http://127.0.0.1:5000"
FLOWER = "http://127.0.0.1:5555"
DEV_PORTS = {"web": 5000, "postgres": 5433, "redis": 6380, "s3": 8333, "flower": 5555}

# The environment `make dev` and seed-demo get: ours without the app's settings,
# so both run on the defaults (the devstack servers), and without make's own
# variables, so `make dev` runs as from a terminal.
_SETTINGS = re.compile(
    r"^(DATABASE_URL|REDIS_URL|S3_\w+|AWS_\w+|PHOTO_\w+|GEOCODER\w*|NOMINATIM_\w+|"
    r"OFFLINE_GEOCODER_\w+|PROCESSING_\w+|CELERY_\w+|WEBHOOK_\w+|API_RATE_LIMIT|MAX_REQUEST_BYTES|"
    r"PORT|FLASK_\w+|WEB_CONCURRENCY|WORKER_CONCURRENCY|MEDIA_CONCURRENCY|MAKEFLAGS|MFLAGS|MAKELEVEL|"
    r"MAKEOVERRIDES|PYTHONPATH|VIRTUAL_ENV)$")

HONCHO_LINE = re.compile(r"^\S+ system\s+\| (\S+) (started \(pid=(\d+)\)|stopped \(rc=(-?\d+)\))")
WORKER_READY = re.compile(r"celery@\S+ ready\.")


class SoakFailure(Exception):
    """A check failed that ends the soak at once (the stack is then stopped)."""


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
