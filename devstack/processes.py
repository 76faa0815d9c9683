"""What the embedded servers share: children that die with their parent, free ports,
stops in steps and running in the foreground. Reading the process table (a crashed
run's leftovers, whether a pid still runs) is `devstack.process_table`'s.
"""
import ctypes
import os
import random
import signal
import socket
import subprocess
import threading
import sys
import time
from pathlib import Path

from devstack.process_table import is_alive

_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


def die_with_parent(sig):
    """A preexec_fn after which the child receives `sig` when its parent dies.

    Linux only (elsewhere a no-op). The kernel sends it when the *thread* that
    started the child exits, so start servers from a thread that lives as long as
    they should (the main thread, for a fixture or the foreground mode). It covers
    a parent killed with SIGKILL, e.g. by honcho after its 5 s grace period.
    """
    parent = os.getpid()

    def preexec():
        if _libc is not None:
            _libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl() took effect
            os.kill(os.getpid(), sig)
    return preexec


def port_is_free(port, host="127.0.0.1"):
    """Whether a server could listen on host:port now (SO_REUSEADDR, as servers bind)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
        return True


def free_tcp_port(host="127.0.0.1", exclude=()):
    """A port that is free on `host` now, below Linux's ephemeral range (32768+) where
    an outgoing connection could take it before the server binds it. Racy by nature."""
    for _ in range(1000):
        port = random.randrange(10000, 32000)
        if port not in exclude and port_is_free(port, host):
            return port
    raise RuntimeError("no free port found")


def wait_gone(pids, timeout):
    """Wait until none of `pids` is alive; return those still alive after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        pids = [p for p in pids if is_alive(p)]
        if not pids or time.monotonic() > deadline:
            return pids
        time.sleep(0.02)


def kill_all(pids, sig):
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def stop_in_steps(process, steps):
    """Send each (signal, seconds to wait) in turn until `process` exits, then SIGKILL."""
    for sig, seconds in steps:
        if process.poll() is not None:
            break
        process.send_signal(sig)
        try:
            process.wait(seconds)
        except subprocess.TimeoutExpired:
            continue
    if process.poll() is None:
        process.kill()
        process.wait()


def log_tail(path, lines=30):
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def run_in_foreground(server, on_ready=None, stop_timeout=5):
    """Start `server`, call on_ready(server), block until SIGTERM/SIGINT, stop it.

    Returns an exit code: 0 when told to stop, 1 when the server died on its own
    (so a process runner such as honcho notices). `stop_timeout` keeps the stop
    within the 5 s honcho waits before SIGKILL.
    """
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        server.start()
        if on_ready:
            on_ready(server)
        while not stop.wait(0.5) and server.process.poll() is None:
            pass
        return 0 if stop.is_set() else 1
    finally:
        server.stop(stop_timeout)
