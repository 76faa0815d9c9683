"""The process table, read through psutil: the one reader for the devstack servers
(leftovers of a crashed run, whether a pid still runs), the benchmarks' CPU meters
and the soak's watch over `make dev`.

psutil reads /proc on Linux (and what other systems have instead) and says when a
process exited while it was being read (NoSuchProcess) or may not be inspected by this
user (AccessDenied); every function here skips such a process, or answers for it what
the caller can act on, rather than raise. Pids are compared with their start time
(`Entry.started`) where a pid may have been reused in between.
"""
import os
from typing import NamedTuple

import psutil

_ENDED = frozenset({psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD})
_UNREADABLE = (psutil.NoSuchProcess, psutil.AccessDenied)


class Entry(NamedTuple):
    """One process in a `snapshot`: enough to follow trees, groups and reused pids."""
    ppid: int
    pgrp: int
    started: float   # psutil's create_time: with the pid, names one process
    ended: bool      # a zombie (exited, not yet reaped) or dead


def snapshot():
    """{pid: Entry} of every process now."""
    table = {}
    for process in psutil.process_iter(["ppid", "create_time", "status"]):
        info = process.info
        try:
            pgrp = os.getpgid(process.pid)
        except OSError:  # exited since it was listed
            continue
        if info["ppid"] is None or info["create_time"] is None:
            continue
        table[process.pid] = Entry(info["ppid"], pgrp, info["create_time"], info["status"] in _ENDED)
    return table


def descendants(root, table=None):
    """Pids of every child of `root`, their children and so on (in `table`, else now)."""
    table = snapshot() if table is None else table
    children = {}
    for pid, entry in table.items():
        children.setdefault(entry.ppid, []).append(pid)
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), ()):
            found.append(child)
            todo.append(child)
    return found


def children(pid):
    """Pids of the direct children of `pid` now (none once it has exited)."""
    try:
        return [child.pid for child in psutil.Process(pid).children()]
    except _UNREADABLE:
        return []


def tree(pid):
    """`pid` and all its descendants now."""
    return [pid, *descendants(pid)]


def ancestors(pid=None, table=None):
    """`pid` (this process by default) and every process above it."""
    table = snapshot() if table is None else table
    pid, seen = os.getpid() if pid is None else pid, set()
    while pid in table and pid not in seen:
        seen.add(pid)
        pid = table[pid].ppid
    return seen


def named(name):
    """Pids of the processes called `name` (the kernel's name, as `pgrep -x` matches)."""
    return [p.pid for p in psutil.process_iter(["name"]) if p.info["name"] == name]


def processes_in(directory, names):
    """Pids of the processes called one of `names` whose working directory is `directory`.

    PostgreSQL and Redis both chdir into their data directory, so this finds a
    server (and the children of a killed postmaster) by the data it serves.
    Processes this user may not inspect are skipped; root sees them all.
    """
    directory = os.path.realpath(directory)
    return [p.pid for p in psutil.process_iter(["name", "cwd"])
            if p.info["cwd"] == directory and p.info["name"] in names]


def is_alive(pid):
    """Whether `pid` runs: not gone, not a zombie. One we may not inspect counts as alive."""
    try:
        return psutil.Process(pid).status() not in _ENDED
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True


def matching(pattern):
    """Pids of running processes (this one aside) whose command line contains `pattern`,
    as `pgrep -f` finds them (which a fresh machine may lack)."""
    found = []
    for process in psutil.process_iter(["cmdline", "status"]):
        command = " ".join(process.info["cmdline"] or ())
        if process.pid != os.getpid() and pattern in command and process.info["status"] not in _ENDED:
            found.append(process.pid)
    return found


def cmdline(pid):
    """The command line as one string; "?" when it cannot be read."""
    try:
        return " ".join(psutil.Process(pid).cmdline()).strip()
    except _UNREADABLE:
        return "?"


def cwd(pid):
    """The working directory; None when it cannot be read (gone, or not ours to see)."""
    try:
        return psutil.Process(pid).cwd()
    except _UNREADABLE:
        return None


def cpu_seconds(pid):
    """User + system CPU seconds of `pid` (all its threads); 0.0 once it has exited."""
    try:
        times = psutil.Process(pid).cpu_times()
    except _UNREADABLE:
        return 0.0
    return times.user + times.system


def rss_mb(pids):
    """Resident memory of `pids` together, in MB; processes gone meanwhile count 0."""
    total = 0
    for pid in pids:
        try:
            total += psutil.Process(pid).memory_info().rss
        except _UNREADABLE:
            pass
    return total / 2 ** 20
