"""Settings come from the environment once; Celery's are a view of the same values."""
import importlib

import pytest

from photoservice import settings, work

# Task names are what messages already in Redis carry across a deploy: spelled out here.
PHOTO_TASK, MEDIA_TASK = "workers.tasks.process_photo", "workers.tasks.process_media"
DELIVER_WEBHOOK_TASK = "workers.tasks.deliver_webhook"
DELETE_OBJECTS_TASK = "workers.tasks.delete_stored_objects"
SWEEP_TASK = "workers.tasks.sweep_processing"


def test_heroku_postgres_scheme_is_fixed_for_sqlalchemy():
    config = settings.from_environ({"DATABASE_URL": "postgres://u:p@db.example:5432/photos"})
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@db.example:5432/photos"


def test_postgresql_scheme_gets_the_psycopg_driver():
    config = settings.from_environ({"DATABASE_URL": "postgresql://u@h/d"})
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/d"


def test_defaults_are_the_servers_make_dev_runs():
    config = settings.from_environ({})
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://postgres@127.0.0.1:5433/photoservice"
    assert config["REDIS_URL"] == settings.DEV_REDIS_URL
    assert config["S3_ENDPOINT_URL"] == "http://127.0.0.1:8333"
    assert config["API_RATE_LIMIT"] == "5/second"


def test_empty_values_mean_the_default():
    config = settings.from_environ({"REDIS_URL": "", "PHOTO_UPLOAD_EXPIRES": ""})
    assert config["REDIS_URL"] == settings.DEV_REDIS_URL
    assert config["PHOTO_UPLOAD_EXPIRES"] == 3600


def test_abandoned_uploads_are_kept_two_days_unless_set():
    assert settings.from_environ({})["PHOTO_PENDING_TTL"] == 172800
    assert settings.from_environ({"PHOTO_PENDING_TTL": "3600"})["PHOTO_PENDING_TTL"] == 3600


@pytest.mark.parametrize("name", ["PHOTO_UPLOAD_MAX_BYTES", "PROCESSING_SWEEP_INTERVAL",
                                  "PHOTO_PENDING_TTL"])
def test_a_malformed_number_names_the_setting(name):
    with pytest.raises(RuntimeError, match=name):
        settings.from_environ({name: "lots"})


def test_celery_is_configured_from_the_same_settings():
    config = settings.from_environ({"REDIS_URL": "redis://cache.example:6379/3",
                                    "PROCESSING_SWEEP_INTERVAL": "2.5",
                                    "CELERY_VISIBILITY_TIMEOUT": "1800"})
    celery = settings.celery_config(config)
    assert celery["broker_url"] == "redis://cache.example:6379/3"
    assert celery["broker_transport_options"]["visibility_timeout"] == 1800
    assert celery["beat_schedule"]["sweep-photo-processing"] == {
        "task": SWEEP_TASK, "schedule": 2.5, "options": {"expires": 2.5}}


def test_celeryconfig_module_is_a_view_of_the_environment(monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://elsewhere.example:6379/1")
    monkeypatch.setenv("PROCESSING_SWEEP_INTERVAL", "7")
    import celeryconfig
    module = importlib.reload(celeryconfig)
    assert module.broker_url == "redis://elsewhere.example:6379/1"
    assert module.beat_schedule["sweep-photo-processing"]["schedule"] == 7.0
    assert module.task_acks_late is True


def test_the_app_configures_celery_from_its_config(app):
    celery = app.extensions["celery"]
    assert celery.conf.broker_url == app.config["REDIS_URL"]
    assert app.config["CELERY"]["broker_url"] == app.config["REDIS_URL"]
    assert celery.conf.task_acks_late is True


def test_webhook_settings_and_their_queue():
    config = settings.from_environ({})
    assert config["WEBHOOK_ALLOW_PRIVATE"] is False
    assert config["WEBHOOK_DISABLE_AFTER"] == 100 and config["WEBHOOK_TIMEOUT"] == 15.0
    assert config["WEBHOOK_RETRY_SCHEDULE"] == [5, 300, 1800, 7200, 18000, 36000, 36000]
    assert settings.from_environ({"WEBHOOK_ALLOW_PRIVATE": "1"})["WEBHOOK_ALLOW_PRIVATE"] is True
    assert settings.from_environ({"WEBHOOK_RETRY_SCHEDULE": "0.5, 2"})["WEBHOOK_RETRY_SCHEDULE"] == [0.5, 2]
    for name, value in (("WEBHOOK_ALLOW_PRIVATE", "maybe"), ("WEBHOOK_RETRY_SCHEDULE", "5,soon")):
        with pytest.raises(RuntimeError, match=name):
            settings.from_environ({name: value})
    routes = settings.celery_config(config)["task_routes"]
    assert routes[DELIVER_WEBHOOK_TASK] == {"queue": "webhooks"}


def test_every_task_has_a_soft_then_a_hard_time_limit_from_the_settings():
    config = settings.from_environ({"TASK_TIME_LIMIT": "60", "MEDIA_TIME_LIMIT": "600"})
    annotations = settings.celery_config(config)["task_annotations"]
    quick = {"soft_time_limit": 55.0, "time_limit": 60.0}
    assert {PHOTO_TASK: quick, DELIVER_WEBHOOK_TASK: quick, DELETE_OBJECTS_TASK: quick,
            SWEEP_TASK: quick, MEDIA_TASK: {"soft_time_limit": 595.0, "time_limit": 600.0}
            }.items() <= annotations.items()
    # A kind of work added to the table is limited too, by the setting it names.
    assert annotations == {task: settings.time_limits(config[setting])
                           for task, setting in work.time_limits().items()}
    # A short limit keeps three quarters of itself for the work.
    assert settings.time_limits(2) == {"soft_time_limit": 1.5, "time_limit": 2}


def test_the_defaults_bound_tasks_and_a_childs_memory():
    config = settings.from_environ({})
    assert (config["TASK_TIME_LIMIT"], config["MEDIA_TIME_LIMIT"]) == (120, 900)
    celery = settings.celery_config(config)
    assert celery["task_annotations"][MEDIA_TASK]["time_limit"] == 900
    assert celery["worker_max_memory_per_child"] == 512 * 1024  # KiB
    assert settings.celery_config(settings.from_environ({"WORKER_MAX_MEMORY_MB": "300"}))[
        "worker_max_memory_per_child"] == 300 * 1024


@pytest.mark.parametrize("name, value", [("TASK_TIME_LIMIT", "3600"), ("MEDIA_TIME_LIMIT", "4000"),
                                         ("TASK_TIME_LIMIT", "0"), ("MEDIA_TIME_LIMIT", "-5")])
def test_a_time_limit_not_below_the_visibility_timeout_refuses_to_start(name, value):
    config = settings.from_environ({name: value, "CELERY_VISIBILITY_TIMEOUT": "3600"})
    with pytest.raises(RuntimeError, match=f"{name}.*CELERY_VISIBILITY_TIMEOUT"):
        settings.celery_config(config)


def test_the_app_refuses_to_start_with_a_time_limit_past_the_visibility_timeout():
    from photoservice import create_app

    with pytest.raises(RuntimeError, match="MEDIA_TIME_LIMIT"):
        create_app({"MEDIA_TIME_LIMIT": 7200.0, "CELERY_VISIBILITY_TIMEOUT": 3600})


def test_the_worker_gives_each_task_its_limits(app):
    import workers.tasks  # noqa: F401  (registers the tasks on the app's Celery)

    tasks = app.extensions["celery"].tasks
    assert tasks[MEDIA_TASK].time_limit == app.config["MEDIA_TIME_LIMIT"]
    assert tasks[PHOTO_TASK].soft_time_limit == app.config["TASK_TIME_LIMIT"] - 5
    assert tasks[SWEEP_TASK].time_limit == app.config["TASK_TIME_LIMIT"]


@pytest.mark.parametrize("value", ["0", "-1"])
def test_a_fair_share_of_no_tasks_refuses_to_start(value):
    # With no room, no company's media work would ever be sent.
    with pytest.raises(RuntimeError, match="DISPATCH_PER_COMPANY must be 1 or more"):
        settings.from_environ({"DISPATCH_PER_COMPANY": value})
    assert settings.from_environ({})["DISPATCH_PER_COMPANY"] == 8
