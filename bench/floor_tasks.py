"""The floor of the pipeline benchmark: a task that does nothing with its photo id.

Loaded into the benchmark's worker with `--include bench.floor_tasks`; it pays the
same broker, acknowledgement and app-context costs as the real task, and no work.
"""
from celery import shared_task


@shared_task(name="bench.floor", acks_late=True)
def floor(photo_id):
    return None
