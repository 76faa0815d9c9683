"""Celery settings (`celery_app.config_from_object("celeryconfig")`).

The broker is Redis at REDIS_URL; with no REDIS_URL (`make dev` on a bare
machine) an embedded broker keeps messages as files under `.dev/broker/`.
No result backend: nothing reads task results, the photo row holds the state.
"""
import os

from photoservice.settings import DEV_DIR


def broker_for(redis_url):
    """Broker settings for a Redis URL, or the embedded file broker for ''."""
    if not redis_url:
        folder = str(DEV_DIR / "broker")
        os.makedirs(folder, exist_ok=True)
        return {"broker_url": "filesystem://",
                "broker_transport_options": {"data_folder_in": folder, "data_folder_out": folder}}
    return {
        "broker_url": redis_url,
        "broker_transport_options": {
            # An unacknowledged task goes to another worker after this long; it must
            # exceed the longest retry countdown (BACKOFF_MAX in workers.tasks).
            "visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", 3600)),
            "socket_connect_timeout": 2,
            # A publisher whose broker is down fails at once instead of sleeping through
            # retries: the web answers, the photo waits for the sweep. (A worker's own
            # consumer connection keeps retrying: broker_connection_max_retries.)
            "max_retries": 0,
        },
    }


globals().update(broker_for(os.environ.get("REDIS_URL", "")))

# At least once: acknowledge after the task ran, requeue if its process dies.
task_acks_late = True
task_reject_on_worker_lost = True
worker_prefetch_multiplier = 1

task_ignore_result = True
task_serializer = "json"
accept_content = ["json"]
timezone = "UTC"
broker_connection_retry_on_startup = True
worker_hijack_root_logger = False

beat_schedule = {
    "sweep-photo-processing": {
        "task": "workers.tasks.sweep_processing",
        "schedule": float(os.environ.get("PROCESSING_SWEEP_INTERVAL", 15)),
    },
}
