"""CPU time each part of the stack spends during a run, read from /proc.

On 2 shared cores every part competes for the same CPU, so the milliseconds of
CPU a request costs in each process say more than requests/second alone.
"""
import os
import subprocess
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def _pids(*args):
    found = subprocess.run(["pgrep", *args], capture_output=True, text=True).stdout
    return [int(pid) for pid in found.split()]


def tree(pid):
    """`pid` and all its descendants."""
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        todo += _pids("-P", str(current))
    return pids


def named(name):
    return _pids("-x", name)


def _seconds(pid):
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # exited since it was listed
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime, all threads


class Meter:
    """CPU seconds per named group of processes between `start` and `stop`.

    `groups` maps a name to a function returning the group's pids now; the
    load generator (a child of this process) is counted as `load generator`.
    """

    def __init__(self, groups):
        self.groups = groups

    def _read(self):
        reading = {name: {pid: _seconds(pid) for pid in pids()} for name, pids in self.groups.items()}
        times = os.times()
        reading["load generator"] = {0: times.children_user + times.children_system}
        return reading

    def start(self):
        self._start = self._read()

    def stop(self):
        """{group: CPU seconds since start}; processes that exited in between are missed."""
        end = self._read()
        return {name: sum(t - self._start[name].get(pid, 0.0) for pid, t in end[name].items())
                for name in end}
