"""Fixtures for the tests of the development servers."""
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from devstack.process_table import processes_in
from devstack.processes import kill_all

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def server_dir():
    """A fresh directory that PostgreSQL's account can enter, even as root.

    Not tmp_path: as root that lies in /tmp/pytest-of-root (mode 0700), which "nobody",
    the account PostgreSQL runs as under root, cannot enter.
    """
    directory = Path(tempfile.mkdtemp(prefix="devstack-test-"))
    directory.chmod(0o755)
    yield directory
    # A failed test must not leave servers behind.
    for workdir in (directory / "pg" / "data", directory / "redis", directory):
        kill_all(processes_in(workdir, {"postgres", "redis-server"}), signal.SIGKILL)
    shutil.rmtree(directory, ignore_errors=True)


class Foreground:
    """`python -m devstack ARGS` in a subprocess, as honcho runs it."""

    def __init__(self, *args):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "devstack", *map(str, args)], cwd=ROOT,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def wait_ready(self):
        """The line announcing the server (the server's own start has a time limit)."""
        line = self.process.stdout.readline()
        assert "ready" in line, line + self.process.stdout.read()
        return line

    def signal_and_time_exit(self, sig, timeout=10):
        start = time.monotonic()
        self.process.send_signal(sig)
        code = self.process.wait(timeout)
        return code, time.monotonic() - start

    def close(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process.stdout.close()


@pytest.fixture
def foreground():
    started = []

    def start(*args):
        started.append(Foreground(*args))
        return started[-1]

    yield start
    for process in started:
        process.close()
