"""The processes of the stack: every one `make dev` ran (by pid and start time), the
ones of this repository's stack found by path, their memory, a monitor that fails the
soak when one stops, and the stop as Ctrl-C would do it. Read through
devstack.process_table.
"""
import os
import re
import signal
import subprocess
import time

from devstack import process_table
from devstack.process_table import ancestors, cmdline, descendants, rss_mb, snapshot

from bench.soak.stack import DEV_DIR, LOG_PATH, VENV, SoakFailure, tail

STOP_SECONDS = 10          # the stack must be gone this long after SIGINT

# What Procfile.dev and `make dev` run from the venv (the servers' commands name .dev/).
STACK_COMMAND = re.compile(r"/(honcho|gunicorn|celery|flask|weed) |-m devstack ")


def runs(table, pid, started):
    """Whether the process `pid` that started at `started` still runs in `table`."""
    entry = table.get(pid)
    return entry is not None and entry.started == started and not entry.ended


class ProcessWatch:
    """Every process the stack ran (by pid and start time, so a reused pid is not
    taken for one of them), and the processes of this repository's stack found by
    path: a command under .venv/ or .dev/, or a working directory in .dev/."""

    def __init__(self, root_pid):
        self.root_pid = root_pid
        self.seen = {}  # pid -> (starttime, command)

    def snapshot(self):
        table = snapshot()
        for pid in [self.root_pid, *descendants(self.root_pid, table)]:
            if pid in table and pid not in self.seen:
                self.seen[pid] = (table[pid].started, cmdline(pid))
        return table

    def alive_seen(self, table):
        return [pid for pid, (start, _) in self.seen.items() if runs(table, pid, start)]

    def in_group(self, table):
        return [pid for pid, entry in table.items()
                if entry.pgrp == self.root_pid and not entry.ended]

    def remaining(self):
        """Pids of the stack still running, with their commands."""
        table = snapshot()
        pids = set(self.alive_seen(table)) | set(self.in_group(table)) | set(stack_processes(table))
        return {pid: self.seen.get(pid, (0, cmdline(pid)))[1] for pid in sorted(pids)}


def stack_processes(table=None):
    """Processes of this repository's dev stack (not this script or its ancestors): the
    commands of Procfile.dev from its venv, and whatever names or works in .dev/ or in
    the PostgreSQL cluster .dev/postgres/data links to (as root in a private checkout)."""
    table = table or snapshot()
    mine = ancestors(table=table)
    cluster = os.path.realpath(DEV_DIR / "postgres" / "data")
    found = []
    for pid, entry in table.items():
        if pid in mine or entry.ended:
            continue
        cwd = process_table.cwd(pid) or ""
        command = cmdline(pid) + " "
        in_dev = cwd in (str(DEV_DIR), cluster) or cwd.startswith(f"{DEV_DIR}/")
        names_dev = f"{DEV_DIR}/" in command or f"{DEV_DIR} " in command
        if in_dev or names_dev or (f"{VENV}/" in command and STACK_COMMAND.search(command)):
            found.append(pid)
    return found


def rss_by_process(started):
    """Resident memory (MB) of each process honcho runs, its children included."""
    table = snapshot()
    return {name.split(".")[0]: rss_mb([pid, *descendants(pid, table)])
            for name, pid in started.items() if pid in table}


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
        table = snapshot()
        gone = [name for name, pid in self.log.started.items()
                if pid not in table or table[pid].ended]
        if gone:
            raise SoakFailure(f"processes gone: {gone}\n" + tail(LOG_PATH))


def stop_stack(make, watch, log, report):
    """SIGINT to the process group, as Ctrl-C in a terminal; the stack must be gone
    within STOP_SECONDS. Whatever is left is then terminated, then killed. Notes in
    report["stopped_after"] when each process honcho ran was gone, children included."""
    table = watch.snapshot()
    log.poll()
    trees = {name.split(".")[0]: [(p, table[p].started) for p in [pid, *descendants(pid, table)]
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
        table = snapshot()
        for name, tree in trees.items():
            if name not in stopped_after and not any(runs(table, p, start) for p, start in tree):
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
