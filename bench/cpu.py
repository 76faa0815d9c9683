"""CPU time each part of the stack spends during a run, from the process table.

On 2 shared cores every part competes for the same CPU, so the milliseconds of
CPU a request costs in each process say more than requests/second alone.
"""
import os

from devstack.process_table import cpu_seconds, named, tree

__all__ = ["Meter", "named", "tree"]


class Meter:
    """CPU seconds per named group of processes between `start` and `stop`.

    `groups` maps a name to a function returning the group's pids now; the
    load generator (a child of this process) is counted as `load generator`.
    """

    def __init__(self, groups):
        self.groups = groups

    def _read(self):
        reading = {name: {pid: cpu_seconds(pid) for pid in pids()} for name, pids in self.groups.items()}
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
