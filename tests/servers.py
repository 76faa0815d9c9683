"""Real servers the tests start: the app under gunicorn, and HTTP stubs of Nominatim's
/reverse and of a webhook receiver. (Redis is devstack's EmbeddedRedis, see conftest.)"""
import json
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import requests

from devstack.seaweed import free_port


NOMINATIM_PLACE = {
    "place_id": 1, "lat": "40.7128", "lon": "-74.0060",
    "display_name": "12, Main Street, Springfield, Illinois, 62701, United States",
    "address": {"house_number": "12", "road": "Main Street", "city": "Springfield",
                "state": "Illinois", "postcode": "62701", "country": "United States",
                "country_code": "us"},
}


class QuietHandler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, headers, payload):
        self.send_response(status)
        for name, value in {**headers, "Content-Length": str(len(payload))}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)


class ScriptedServer:
    """An HTTP stub on 127.0.0.1 in a thread: `script` replies first, then `default`."""

    def __init__(self, handler, default):
        self.script, self.default, self.requests = [], default, []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def record(self, request):
        """Log `request`; the reply it gets."""
        with self.lock:
            self.requests.append(request)
            return self.script.pop(0) if self.script else self.default

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class NominatimStub(ScriptedServer):
    """Answers GET /reverse like Nominatim; `script` replies first, then `default`.

    Replies: "ok", ("status", code, headers), "garbage", ("sleep", seconds). Every
    request is logged as (monotonic time, lat, lon, User-Agent).
    """

    def __init__(self):
        stub = self

        class Handler(QuietHandler):
            def do_GET(self):
                query = parse_qs(urlparse(self.path).query)
                reply = stub.record((time.monotonic(), query.get("lat", [None])[0],
                                     query.get("lon", [None])[0], self.headers.get("User-Agent")))
                stub.answer(self, reply)

        super().__init__(Handler, "ok")

    @property
    def domain(self):
        return f"127.0.0.1:{self.server.server_port}"

    @staticmethod
    def answer(handler, reply):
        if isinstance(reply, tuple) and reply[0] == "sleep":
            time.sleep(reply[1])
            reply = "ok"
        if reply == "ok":
            status, headers, body = 200, {"Content-Type": "application/json"}, json.dumps(NOMINATIM_PLACE)
        elif reply == "garbage":
            status, headers, body = 200, {"Content-Type": "application/json"}, "<html>oops"
        else:
            _, status, headers = reply
            body = json.dumps({"error": "stub"})
        handler.reply(status, headers, body.encode())


class WebServer:
    """The app under gunicorn in a subprocess, as a web dyno runs it."""

    def __init__(self, env, workers=2, log_path=None):
        self.port = free_port()
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        root = Path(__file__).resolve().parent.parent
        self.log_path = log_path
        self.log = open(log_path, "wb") if log_path else subprocess.DEVNULL
        self.process = subprocess.Popen(
            [gunicorn, "wsgi:app", "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers),
             "-c", "gunicorn.conf.py"],  # as the Procfile runs it
            cwd=root, env=env, stdout=self.log, stderr=self.log)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("gunicorn exited")
            try:
                requests.get(f"{self.url}/healthz", timeout=5)
                return self
            except requests.RequestException:  # not listening, or workers still booting
                time.sleep(0.1)
        raise RuntimeError("gunicorn did not start")

    def stop(self):
        self.process.terminate()
        self.process.wait(30)


class WebhookReceiver(ScriptedServer):
    """A webhook receiver on 127.0.0.1: `script` replies first, then `default`.

    Replies: ("status", code, headers, body) or ("sleep", seconds) (then 200). Every
    request is logged as a dict: time (monotonic), method, path, headers, body and the
    sender's port.
    """

    def __init__(self):
        receiver = self

        class Handler(QuietHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real receivers do
            disable_nagle_algorithm = True

            def handle_any(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                reply = receiver.record({"time": time.monotonic(), "method": self.command,
                                         "path": self.path, "headers": dict(self.headers),
                                         "body": body, "client_port": self.client_address[1]})
                if reply[0] == "sleep":
                    time.sleep(reply[1])
                    reply = ("status", 200, {}, b"ok")
                _, status, headers, payload = reply
                self.reply(status, headers, payload)

            do_POST = do_GET = handle_any

        super().__init__(Handler, ("status", 200, {}, b"ok"))

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_port}/hooks"

    def wait_for(self, count, timeout=30):
        """The requests, once at least `count` have arrived."""
        deadline = time.monotonic() + timeout
        while len(self.requests) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.requests)} webhook requests in {timeout}s, "
                                     f"expected {count}")
            time.sleep(0.05)
        return list(self.requests)
