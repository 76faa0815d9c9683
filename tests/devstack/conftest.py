"""Helpers for the tests of the development servers."""
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from devstack.processes import processes_in

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
    for name in ("postgres", "redis-server"):  # a failed test must not leave servers behind
        for pid in processes_in(directory / "pg" / "data", {name}) + processes_in(directory, {name}):
            os.kill(pid, 9)
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


def pgrep(pattern):
    """Pids of live processes whose command line contains `pattern`, like `pgrep -f`
    (which a fresh machine may lack)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if pattern in command and state != "Z":
            found.append(int(entry.name))
    return found
