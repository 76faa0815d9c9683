"""Settings come from the environment once; Celery's are a view of the same values."""
import importlib

import pytest

from photoservice import settings


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
                                    "CELERY_VISIBILITY_TIMEOUT": "900"})
    celery = settings.celery_config(config)
    assert celery["broker_url"] == "redis://cache.example:6379/3"
    assert celery["broker_transport_options"]["visibility_timeout"] == 900
    assert celery["beat_schedule"]["sweep-photo-processing"] == {
        "task": settings.SWEEP_TASK, "schedule": 2.5}


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
    assert routes[settings.DELIVER_WEBHOOK_TASK] == {"queue": "webhooks"}
