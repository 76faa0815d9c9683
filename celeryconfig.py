"""Celery's settings as a module, for tools that load one (`celery … --config celeryconfig`).

A thin view: the values come from `photoservice.settings`, the one place that
reads the environment; the app itself configures Celery from
`app.config["CELERY"]`, built by the same `settings.celery_config`.
"""
from photoservice.settings import celery_config, from_environ

globals().update(celery_config(from_environ()))
