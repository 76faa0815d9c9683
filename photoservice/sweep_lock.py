"""One sweep at a time across every beat and worker process: a PostgreSQL advisory lock.

Two sweeps at once (a second beat process, a backlog of sweep messages) would both
read the same due work and send it twice. The sweep commits as it goes, and each
commit hands db.session's connection back to the pool, so the lock lives on a
connection of its own, in a transaction held open for the sweep: a
transaction-level lock ends with that transaction whatever happens (the sweep
returns, raises, hits its time limit, or its process dies and PostgreSQL closes the
connection). A session-level lock on a pooled connection could outlive a failed
unlock and keep every later sweep out.
"""
from contextlib import contextmanager

from sqlalchemy import text

from .extensions import db

#: The lock's key: a fixed number no other advisory lock in the database uses.
SWEEP_LOCK_KEY = 0x70686F746F737765  # "photoswe"


@contextmanager
def sweep_lock():
    """Yields True while this process holds the sweep lock, False if another sweep holds it."""
    with db.engine.connect() as connection:
        held = connection.execute(text("SELECT pg_try_advisory_xact_lock(:key)"),
                                  {"key": SWEEP_LOCK_KEY}).scalar_one()
        yield held
    # Closing the connection rolled its transaction back: the lock went with it.
