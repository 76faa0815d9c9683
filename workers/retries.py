"""How a task runs its work: transient failures retry with backoff, others are recorded.

A row (a photo, a store deletion) says why its work failed in a stable short sentence,
never the exception's own text, which may quote a presigned URL or a roof's
coordinates: that goes to the log, redacted. An attempt stopped by the task's time
limit (Celery's soft limit raises SoftTimeLimitExceeded in the task) is one more
transient failure.
"""
import logging
import random
import traceback
from dataclasses import dataclass
from typing import Callable

from celery.exceptions import SoftTimeLimitExceeded
from flask import current_app
from redis.exceptions import RedisError

from photoservice.work import rows, time_limits
from photoservice.database import DATABASE_UNAVAILABLE
from photoservice.errors import DependencyUnavailable
from photoservice.geocoding.geocoders import GateBusy, GeocodingUnavailable
from photoservice.redaction import redact, redacted_error

log = logging.getLogger(__name__)

# Worth another try later, each with what its row says when the tries run out: the
# database outages the web answers 503 for, the object store being down, a busy or
# failing geocoder, Redis (the gate), the network.
TRANSIENT = ((DATABASE_UNAVAILABLE, "the database was unavailable"),
             (DependencyUnavailable, "the object store was unavailable"),
             (GeocodingUnavailable, "the geocoder was unavailable"),
             (GateBusy, "the geocoder was busy"),
             (RedisError, "Redis was unavailable"),
             (OSError, "the network failed"))
UNEXPECTED = "Processing failed: an unexpected error; the details are in the worker's log."
BACKOFF_BASE, BACKOFF_MAX = 2, 600


class RedactedError(Exception):
    """A failure as Celery logs it and Flower shows it: the exception's type and text, redacted."""


def failure_cause(task, error):
    """Why an attempt failed, as a stable phrase for its row; None when retrying cannot help."""
    if stopped_by_time_limit(error):
        return f"the work took longer than {current_app.config[time_limits()[task.name]]:g} s"
    return next((phrase for kinds, phrase in TRANSIENT if isinstance(error, kinds)), None)


def stopped_by_time_limit(error):
    """The task's soft time limit raised `error`, or an error raised while it unwound
    (geopy, for one, turns it into a GeocoderServiceError)."""
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, SoftTimeLimitExceeded):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


def logged(error):
    """The error with its traceback and causes, redacted, for the log."""
    return redact("".join(traceback.format_exception(error)).rstrip())


def backoff(retries, at_least=None):
    """Exponential backoff with full jitter, never shorter than a Retry-After."""
    delay = random.uniform(0, min(BACKOFF_MAX, BACKOFF_BASE * 2 ** retries))
    return max(delay, float(at_least or 0))


@dataclass(frozen=True)
class Work:
    """What the task of one kind of work (photoservice.work.KINDS) runs.

    Its subject is a photo id, or for store deletions a list of deletion ids. The kind's
    registered rows note a scheduled retry.
    """

    kind: str
    run: Callable  # (subject)
    record_failure: Callable  # (subject, reason)
    finished: Callable = lambda subject: None  # (subject): the work ended, either way


def run_with_retries(task, work, subject):
    """Run `work`: transient failures (and attempts stopped by the time limit) retry with
    backoff up to PROCESSING_MAX_ATTEMPTS tries, others are recorded as failures.

    Once the work has ended, either way, `work.finished(subject)` runs: a photo's
    work announces `photo.processed` when it ends last (the sweep does if this
    process dies first).
    """
    try:
        work.run(subject)
    except Exception as error:
        cause = failure_cause(task, error)
        if cause is not None:
            return _retry_or_give_up(task, work, subject, error, cause)
        # Not transient: retrying cannot help. The failure is recorded at once (the
        # photo keeps what an earlier commit of this attempt saved; a store deletion
        # waits for the sweep); Celery still sees it fail, redacted.
        log.error("%s %s failed: %s", task.name, subject, logged(error))
        work.record_failure(subject, UNEXPECTED)
        work.finished(subject)
        raise RedactedError(redacted_error(error)) from None
    work.finished(subject)


def _retry_or_give_up(task, work, subject, error, cause):
    tries = task.request.retries + 1
    if tries >= current_app.config["PROCESSING_MAX_ATTEMPTS"]:
        log.warning("%s %s: gave up after %d tries: %s", task.name, subject, tries, redacted_error(error))
        work.record_failure(subject, f"Gave up after {tries} {'try' if tries == 1 else 'tries'}: {cause}.")
        work.finished(subject)
        return
    countdown = backoff(task.request.retries, getattr(error, "retry_after", None))
    try:
        rows(work.kind).note_retry(subject, countdown)
    except DATABASE_UNAVAILABLE:
        # The outage that failed the task may stop us noting the retry: retry all
        # the same (at worst the sweep also re-sends it; the task is idempotent).
        log.warning("%s %s: retry in %.0f s not noted, the database is down",
                    task.name, subject, countdown)
    raise task.retry(exc=RedactedError(redacted_error(error)), countdown=countdown)
