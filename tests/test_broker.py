"""photoservice.broker: kombu's Redis transport publishing through one client."""
import json

import redis

from photoservice import queue, settings
from photoservice.broker import Transport
from photoservice.work import KINDS


def test_redis_urls_use_the_transport_and_others_keep_kombus():
    for url in ("redis://cache.example:6379/3", "rediss://u:p@cache.example:6380/0"):
        config = settings.celery_config(settings.from_environ({"REDIS_URL": url}))
        assert config["broker_transport"] == "photoservice.broker:Transport"
    config = settings.celery_config(settings.from_environ({"REDIS_URL": "sentinel://s.example:26379"}))
    assert "broker_transport" not in config


def test_tasks_are_published_through_one_client(app):
    celery = app.extensions["celery"]
    broker = redis.Redis.from_url(app.config["REDIS_URL"])
    broker.delete("celery")
    with app.app_context():
        for photo_id in (101, 102, 103):
            queue.send(KINDS["metadata"].task, photo_id)
    with celery.pool.acquire(block=True) as connection:
        assert isinstance(connection.transport, Transport)
        publisher = connection.default_channel._publisher
        assert publisher is not None
        with connection.default_channel.conn_or_acquire() as client:
            assert client is publisher
    messages = [json.loads(raw) for raw in reversed(broker.lrange("celery", 0, -1))]
    assert [m["headers"]["task"] for m in messages] == [KINDS["metadata"].task] * 3
    assert [m["headers"]["argsrepr"] for m in messages] == ["[101]", "[102]", "[103]"]
    broker.delete("celery")
