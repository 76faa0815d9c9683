"""Worker entry point: `celery --app workers.worker:celery_app worker` (and `beat`, `flower`)."""
from celery.signals import worker_process_init

from photoservice import create_app
from photoservice.extensions import db
from photoservice.geocoding.offline import load_cities

flask_app = create_app()
celery_app = flask_app.extensions["celery"]

import workers.tasks  # noqa: E402,F401  (registers the tasks)
from workers import log_context  # noqa: E402

log_context.connect(flask_app)

if flask_app.config["GEOCODER"] == "offline":
    load_cities()  # in the parent, so forked children share one copy of the dataset


@worker_process_init.connect
def _fresh_connections(**kwargs):
    # A forked child must not reuse database connections opened by its parent.
    with flask_app.app_context():
        db.engine.dispose(close=False)
