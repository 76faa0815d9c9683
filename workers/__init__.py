"""Celery workers: the entry point (`workers.worker`) and the tasks."""
