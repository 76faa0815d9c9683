"""Headless Chromium (Debian's chromium and chromium-driver, through Selenium) against the
real stack: gunicorn, a worker, the suite's SeaweedFS with the bucket's CORS rule, and a
second HTTP server whose pages stand for another origin."""
import functools
import json
import shutil
import subprocess
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.processing.conftest import start_worker  # noqa: F401  (a fixture these tests use)

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
PAGES = Path(__file__).resolve().parent / "pages"
PROJECT_ROOT = Path(__file__).resolve().parents[2]
FLASK = str(Path(sys.executable).with_name("flask"))


@pytest.fixture
def browser():
    """A fresh headless Chromium; its console messages are kept for the test to read."""
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not shutil.which(path)]
    if missing:
        pytest.skip(f"no Chromium on this machine ({', '.join(missing)} missing): the browser "
                    "tests did not run; .ci/run installs Debian's chromium and chromium-driver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--window-size=1280,900",
                     "--disable-dev-shm-usage", "--lang=en-US"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


class QuietFiles(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class Origins:
    """Where the other pages are served: 127.0.0.1 (allowed by CORS_ORIGINS) or another host."""

    def __init__(self, port):
        self.port = port

    def origin(self, host="127.0.0.1"):
        return f"http://{host}:{self.port}"


@pytest.fixture
def other_pages():
    """tests/browser/pages served on 127.0.0.1, another origin than the API's."""
    handler = functools.partial(QuietFiles, directory=str(PAGES))
    with ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        yield Origins(server.server_port)
        server.shutdown()


@pytest.fixture
def desk(web_server, start_worker, other_pages, app_env):  # noqa: F811
    """`desk(**settings)` → the API under gunicorn with a worker, CORS_ORIGINS naming the
    other pages' origin, and the bucket's CORS rule applied by `flask apply-bucket-cors`."""
    def start(**settings):
        start_worker()
        cors = {"CORS_ORIGINS": other_pages.origin(), **settings}
        server = web_server(workers=2, **cors)
        done = subprocess.run([FLASK, "--app", "wsgi", "apply-bucket-cors"], cwd=PROJECT_ROOT,
                              env=app_env(PUBLIC_URL=server.url, **cors),
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["origins"] == [other_pages.origin(), server.url]
        return server
    return start
