"""Domain exceptions: what services raise when a client can act on the failure.

Each carries the HTTP status it maps to; `photoservice.web.errors` turns them
into the one JSON error body. Nothing here knows about requests.
"""

# What a 503 tells clients to wait before trying again.
RETRY_AFTER_SECONDS = 5


def invalid_request_summary(errors):
    """The message of a 400 that names its fields: `Invalid request: job, name.`"""
    return "Invalid request: " + ", ".join(sorted(errors)) + "."


class ServiceError(Exception):
    """An expected failure a client can act on; carries its HTTP status."""

    status_code = 400

    def __init__(self, message, errors=None, headers=None, details=None):
        super().__init__(message)
        self.message = message
        self.errors = errors
        self.headers = headers or {}
        # Fields of the body beside the usual ones (a finalize's `missing_parts`).
        self.details = details or {}


class InvalidInput(ServiceError):
    """Bad values; `errors` maps each offending field to its messages."""

    status_code = 400

    def __init__(self, message=None, errors=None):
        super().__init__(message or invalid_request_summary(errors or {}), errors)


class NotAllowed(ServiceError):
    status_code = 403


class NotFound(ServiceError):
    status_code = 404


class Conflict(ServiceError):
    status_code = 409


class DependencyUnavailable(ServiceError):
    """A backing service (store, database, broker) is down: retry later."""

    status_code = 503

    def __init__(self, message, retry_after=RETRY_AFTER_SECONDS):
        super().__init__(message, headers={"Retry-After": str(retry_after)})
