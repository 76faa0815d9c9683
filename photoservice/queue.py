"""Celery, bound to the Flask app, and the hand-off of new photos to it.

Tasks are sent by name so the web process never imports the worker code.
"""
import logging

from celery import Celery, Task
from flask import current_app, has_app_context
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import RedisError

from .pipeline import mark_undispatched, photo_created

log = logging.getLogger(__name__)

PROCESS_PHOTO = "workers.tasks.process_photo"


def celery_init_app(app):
    """Create the Celery app for `app`: celeryconfig, its broker for REDIS_URL, then
    any overrides in app.config["CELERY"]."""

    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            if has_app_context():  # already inside one (eager calls, tests)
                return self.run(*args, **kwargs)
            with app.app_context():
                return self.run(*args, **kwargs)

    import celeryconfig

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(celeryconfig)
    # The app's REDIS_URL decides the broker, so a config passed to create_app wins.
    celery_app.conf.update(celeryconfig.broker_for(app.config["REDIS_URL"]))
    celery_app.conf.update(app.config.get("CELERY", {}))
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    photo_created.connect(dispatch_new_photo)
    return celery_app


def dispatch_new_photo(sender, photo_id):
    """Queue a committed photo's work; if the broker is down, the sweep sends it later."""
    try:
        current_app.extensions["celery"].send_task(PROCESS_PHOTO, args=[photo_id], retry=False)
    except (BrokerError, RedisError, OSError) as error:
        log.warning("broker unavailable, photo %s left for the sweep: %s", photo_id, error)
        mark_undispatched(photo_id)
