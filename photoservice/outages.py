"""A database that cannot be reached is a 503 with Retry-After, never a stack trace."""
import logging

from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from .errors import DependencyUnavailable, handle_service_error

log = logging.getLogger(__name__)

DATABASE_DOWN = (OperationalError, InterfaceError, DisconnectionError, PoolTimeout)


def database_unavailable(error):
    log.error("database unavailable: %s", error.__class__.__name__, exc_info=error)
    return handle_service_error(DependencyUnavailable("The database is unavailable; try again shortly."))


def register_outage_handlers(app):
    for error_class in DATABASE_DOWN:
        app.register_error_handler(error_class, database_unavailable)
