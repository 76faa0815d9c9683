"""The database layer every resource shares: column types, mixins, prebuilt statements.

Core statements on the hot paths are built once and run on the session's
connection: a request's few queries cost more in the ORM's per-statement work
(entity compilation, cache keys of freshly built clauses, identity bookkeeping)
than on the wire. An INSERT … RETURNING measured 3.6 ms of CPU through the ORM
and 1.2 ms as a prebuilt Core statement. They run in the session's transaction,
so commits and rollbacks work as everywhere else.
"""
import time
from datetime import datetime, timezone
from functools import lru_cache

from sqlalchemy import DateTime, ForeignKey, Integer, String, TypeDecorator, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from .extensions import db

#: Ids are PostgreSQL `integer`s: a larger id cannot name a row.
MAX_ID = 2**31 - 1

#: The database cannot be reached (down, restarting, connection dropped, pool
#: exhausted): the web answers 503, a task retries later.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError, DisconnectionError, PoolTimeout)

#: A pooled connection idle for longer than this (seconds) is pinged before use.
PING_AFTER_IDLE = 1.0

# Indexable containment (`@>`) for tag filters.
JSONDocument = JSONB


def utcnow():
    return datetime.now(timezone.utc)


def execute(statement, params=None):
    """Run a Core statement in the session's current transaction."""
    return db.session.connection().execute(statement, params or {})


def without_transaction():
    """Run the session's statements until it is closed in autocommit mode: for a request
    that only reads. PostgreSQL gives each statement its own snapshot either way (read
    committed); what goes is a BEGIN and a ROLLBACK, two round trips. Call before the
    session's first statement."""
    db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def utc_sessions(engine):
    """Set each new connection's session time zone to UTC, so timestamps arrive in the
    zone every response uses and need no conversion. Only a saving: behind a pooler
    that drops session settings, UTCDateTime still converts whatever zone comes back.
    (A `-c TimeZone=UTC` startup option would do it too, but PgBouncer refuses those.)
    """
    @event.listens_for(engine, "connect")
    def _set_utc(dbapi_connection, record):
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True
        dbapi_connection.execute("SET TIME ZONE 'UTC'")
        dbapi_connection.autocommit = autocommit


def ping_idle_connections(engine):
    """Check a pooled connection with a round trip before use, if it sat idle for over
    PING_AFTER_IDLE seconds; a dead one is replaced before the request sees it.

    A connection returned moments ago is alive, so a busy process never pings:
    `pool_pre_ping` pings on every checkout, a round trip per request (about 0.3 ms
    of web CPU per create). A restart of the database within the last second can
    still reach a request: it gets the usual 503, and the pool reconnects.
    """
    @event.listens_for(engine, "checkin")
    def _note_idle(dbapi_connection, record):
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, proxy):
        idle_since = record.info.pop("idle_since", None)
        if idle_since is None or time.monotonic() - idle_since <= PING_AFTER_IDLE:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception:  # whatever the driver raises for a dead connection
            alive = False
        if not alive:
            raise DisconnectionError("pooled connection dropped while idle")


def stored_row(table, values):
    """The row an INSERT of `values` into `table` stores, database-assigned keys aside:
    `values`, and for every other column its Python-side default or None.

    Inserting the whole row and returning only the key spares reading back the
    columns the caller already knows (each returned column costs the driver a
    description object per execute).
    """
    row = dict.fromkeys(_inserted_columns(table))
    for key, default in _column_defaults(table):
        row[key] = default.arg(None) if default.is_callable else default.arg
    row.update(values)
    return row


def columns_of(instance):
    """An ORM instance's stored columns as a plain dict, `{column key: value}`: the one
    shape services hand a row on in, however they read it (the ORM, or mappings)."""
    return {column.key: getattr(instance, column.key) for column in instance.__table__.columns}


@lru_cache(maxsize=None)
def _inserted_columns(table):
    """Every column but the database-assigned primary key; refuses a table whose
    server-side defaults would make the stored row differ from `stored_row`."""
    keys = []
    for column in table.columns:
        if column.server_default is not None and column.default is None:
            raise ValueError(f"{table.name}.{column.key} has only a server-side default")
        if not (column.primary_key and column.autoincrement in (True, "auto") and column.default is None):
            keys.append(column.key)
    return tuple(keys)


@lru_cache(maxsize=None)
def _column_defaults(table):
    return tuple((column.key, column.default) for column in table.columns
                 if column.default is not None and (column.default.is_scalar or column.default.is_callable))


class UTCDateTime(TypeDecorator):
    """A timezone-aware datetime, always handed back in UTC; naive values are refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime given to a UTC column")
            value = value.astimezone(timezone.utc)
        return value

    def process_result_value(self, value, dialect):
        if value is None or value.tzinfo is timezone.utc:  # from a UTC session (utc_sessions)
            return value
        return value.astimezone(timezone.utc)


class CompanyOwned:
    """Every domain object belongs to exactly one company."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True)

    @declared_attr
    def company_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), index=True)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class NamedCompanyObject(CompanyOwned):
    name: Mapped[str] = mapped_column(String(200))
