"""The geocoder gate: one call at a time, paced, across worker processes.

RedisGate runs against the session's private redis-server. Separate processes
(the 'spawn' start method, as unrelated workers) contend for the gate and log
what they did with timestamps to a file; the log must show no overlap and the pacing.
"""
import functools
import multiprocessing
import os
import secrets
import time

import pytest

from photoservice.geocoding.gate import GateBusy, RedisGate

PROCESSES = 3
SPAWN = multiprocessing.get_context("spawn")


# ---------------------------------------------------------------- run in child processes


def _log(path, pid, kind):
    # One short O_APPEND write per line: lines from several processes never interleave.
    with open(path, "a") as log:
        log.write(f"{pid} {kind} {time.time()!r}\n")


def enter_repeatedly(make_gate, log_path, start, rounds):
    """Enter the gate `rounds` times, logging entering and leaving."""
    gate, pid = make_gate(), os.getpid()
    start.wait(60)
    for _ in range(rounds):
        with gate.exclusive():
            _log(log_path, pid, "enter")
            time.sleep(0.03)
            _log(log_path, pid, "leave")


def call_in_turn(make_gate, log_path, start, rounds, interval):
    """Make `rounds` paced "calls", logging when each one starts."""
    gate, pid = make_gate(), os.getpid()
    start.wait(60)
    for _ in range(rounds):
        with gate.exclusive() as turn:
            turn.wait_turn(interval)
            _log(log_path, pid, "call")


def run_processes(target, *args):
    """Start PROCESSES processes on `target` together; wait for them all to succeed."""
    start = SPAWN.Barrier(PROCESSES)
    processes = [SPAWN.Process(target=target, args=(args[0], args[1], start, *args[2:]))
                 for _ in range(PROCESSES)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(120)
    assert [p.exitcode for p in processes] == [0] * PROCESSES
    return {p.pid for p in processes}


def read_log(path):
    with open(path) as log:
        return sorted((float(at), int(pid), kind) for pid, kind, at in map(str.split, log))


# ---------------------------------------------------------------- the gate


@pytest.fixture
def make_gate(redis_server):
    """A picklable factory of gates that share one lock (a fresh one per test)."""
    return functools.partial(RedisGate, redis_server.url, name=f"test-gate:{secrets.token_hex(4)}")


def test_exclusive_admits_one_process_at_a_time(make_gate, tmp_path):
    log_path, rounds = tmp_path / "events.log", 5
    pids = run_processes(enter_repeatedly, make_gate, log_path, rounds)

    events = read_log(log_path)
    assert len(events) == PROCESSES * rounds * 2
    assert {pid for _, pid, _ in events} == pids
    # Sorted by time, the log must read enter, leave, enter, leave… each pair by one process.
    for (_, enter_pid, enter), (_, leave_pid, leave) in zip(events[::2], events[1::2]):
        assert (enter, leave) == ("enter", "leave")
        assert enter_pid == leave_pid


def test_wait_turn_spaces_calls_across_processes(make_gate, tmp_path):
    log_path, rounds, interval = tmp_path / "calls.log", 3, 0.2
    pids = run_processes(call_in_turn, make_gate, log_path, rounds, interval)

    calls = read_log(log_path)
    assert len(calls) == PROCESSES * rounds
    assert {pid for _, pid, _ in calls} == pids
    gaps = [later[0] - earlier[0] for earlier, later in zip(calls, calls[1:])]
    assert min(gaps) >= interval - 0.01, gaps


def test_first_turn_does_not_wait(make_gate):
    with make_gate().exclusive() as turn:
        started = time.monotonic()
        turn.wait_turn(5.0)
        assert time.monotonic() - started < 0.5


def test_gate_busy_when_held_longer_than_wait_seconds(make_gate):
    holder, waiter = make_gate(), make_gate(wait_seconds=0.5)
    with holder.exclusive():
        started = time.monotonic()
        with pytest.raises(GateBusy):
            with waiter.exclusive():
                pytest.fail("entered a gate that another holder has")
        # It tried for about wait_seconds (redis-py stops one 0.1 s poll early).
        assert 0.5 - 0.15 <= time.monotonic() - started < 2
    with waiter.exclusive():  # free again once the holder has left
        pass


def test_gate_is_released_when_the_call_inside_fails(make_gate):
    with pytest.raises(ZeroDivisionError):
        with make_gate().exclusive():
            1 / 0
    started = time.monotonic()
    with make_gate(wait_seconds=2).exclusive():
        assert time.monotonic() - started < 0.5


def test_redis_gate_expires_when_its_holder_never_leaves(redis_server):
    name = f"test-gate:{secrets.token_hex(4)}"
    stuck = RedisGate(redis_server.url, name=name, hold_seconds=1).exclusive()
    stuck.__enter__()  # a worker that died inside the gate: never released
    waiter = RedisGate(redis_server.url, name=name, wait_seconds=0.3)
    with pytest.raises(GateBusy):
        with waiter.exclusive():
            pass
    waiter.wait_seconds = 5
    started = time.monotonic()
    with waiter.exclusive():
        assert time.monotonic() - started < 1.5
