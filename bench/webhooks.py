"""Webhooks benchmark: deliveries/second through one worker process, and what
webhooks add to a finalize.

    make bench-webhooks            (or: .venv/bin/python -m bench.webhooks --deliveries 2000)

Needs PostgreSQL (BENCH_DATABASE_ADMIN_URL, default the local server) and Redis
(BENCH_REDIS_URL, default redis://127.0.0.1:6379/13, flushed); starts its own
SeaweedFS and a local receiver on 127.0.0.1 (keep-alive, answers 200 at once).

1. Deliveries: N pending deliveries of one event to one endpoint are queued on a
   worker with one process serving only `webhooks`; timed until every one has
   succeeded. The floor is the same number of no-op tasks through that worker.
2. Finalize: PUT /light/photos/{id}/uploaded/ in process (Flask test client, real
   PostgreSQL, Redis and store) for photos whose file is in the store, with 0 and
   then 3 endpoints subscribed to photo.uploaded, while the worker delivers to a
   receiver that takes 1 s per request: a finalize must not wait on it.

The last line is key=value pairs.
"""
import argparse
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pipeline import drop_database, fresh_parts, stack_environment  # noqa: E402
from devstack.seaweed import SeaweedS3  # noqa: E402

JPEG = b"\xff\xd8\xff" + b"0" * 100


class Receiver:
    """Counts POSTs; answers 200 after `delay` seconds."""

    def __init__(self):
        self.count, self.delay, receiver = 0, 0.0, self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # else headers and body wait on delayed ACKs

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if receiver.delay:
                    time.sleep(receiver.delay)
                receiver.count += 1
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"


def pending_deliveries(app, endpoint_id, company_id, count):
    from photoservice.database import utcnow
    from photoservice.extensions import db
    from photoservice.webhooks.models import WebhookDelivery

    now = utcnow()
    rows = [{"company_id": company_id, "endpoint_id": endpoint_id, "event_type": "photo.uploaded",
             "message_id": f"msg_bench{n}", "payload": {"type": "photo.uploaded", "data": {"id": n}},
             "status": "pending", "attempts": 0, "next_attempt_at": now, "dispatched_at": now,
             "created_at": now, "updated_at": now} for n in range(count)]
    with app.app_context():
        ids = db.session.scalars(db.insert(WebhookDelivery).returning(WebhookDelivery.id), rows).all()
        db.session.commit()
    return ids


def succeeded(app):
    from photoservice.extensions import db
    from photoservice.webhooks.models import WebhookDelivery

    with app.app_context():
        count = db.session.scalar(db.select(db.func.count()).select_from(WebhookDelivery)
                                  .where(WebhookDelivery.status == "succeeded"))
        db.session.rollback()
    return count


def timed(celery_app, task, args_list, done, timeout=600):
    started = time.perf_counter()
    for args in args_list:
        celery_app.send_task(task, args=args)
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise SystemExit(f"{task}: not finished within {timeout}s")
        time.sleep(0.02)
    return len(args_list) / (time.perf_counter() - started)


def finalize_latencies(app, company, photos):
    """Milliseconds per finalize of `photos` fresh pending photos whose file is stored."""
    from photoservice import storage
    from photoservice.extensions import db
    from photoservice.photos.models import Photo

    owner = next(u for u in company["users"] if u["role"] == "owner")
    with app.app_context():
        made = [Photo(company_id=company["id"], created_by=owner["id"], name=f"p{n}", tags=[],
                      related_to=[], key=f"bench-{secrets.token_hex(6)}.jpg") for n in range(photos)]
        db.session.add_all(made)
        db.session.commit()
        for photo in made:
            storage.put_object(photo.key, JPEG, "image/jpeg")
        ids = [photo.id for photo in made]
    client, headers, took = app.test_client(), {"X-API-KEY": owner["api_key"]}, []
    for photo_id in ids:
        started = time.perf_counter()
        response = client.put(f"/light/photos/{photo_id}/uploaded/", headers=headers)
        took.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.get_json()
    return took


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=1000)
    parser.add_argument("--finalizes", type=int, default=200)
    args = parser.parse_args()

    admin_url, redis_url, name, database_url = fresh_parts(redis_db=13)
    receiver, worker = Receiver(), None
    with tempfile.TemporaryDirectory() as s3_dir, \
            SeaweedS3(s3_dir, secrets.token_hex(8), secrets.token_hex(16), bucket="photos") as store:
        env = stack_environment(database_url, redis_url, store, API_RATE_LIMIT="off",
                                WEBHOOK_ALLOW_PRIVATE="1")
        try:
            from flask_migrate import upgrade

            from photoservice import create_app
            from photoservice.demo import seed_company
            from photoservice.extensions import db
            from photoservice.webhooks.models import WebhookEndpoint
            from photoservice.webhooks.secret_keys import seal
            from photoservice.webhooks.signing import new_secret

            app = create_app()
            with app.app_context():
                upgrade()
                company = seed_company("bench")
                endpoints = [WebhookEndpoint(company_id=company["id"], url=receiver.url,
                                             events=["photo.uploaded"], secret=seal(new_secret()),
                                             enabled=n == 0, consecutive_failures=0) for n in range(3)]
                db.session.add_all(endpoints)
                db.session.commit()
                endpoint_ids = [e.id for e in endpoints]
            log = open(ROOT / "bench" / "webhooks-worker.log", "wb")
            worker = subprocess.Popen(
                [str(Path(sys.executable).with_name("celery")), "--app", "workers.worker:celery_app",
                 "worker", "--concurrency", "1", "--include", "bench.floor_tasks", "--queues",
                 "celery,webhooks", "--loglevel", "WARNING", "--without-gossip", "--without-mingle"],
                cwd=ROOT, env=env, stdout=log, stderr=log)
            time.sleep(2)
            celery_app = app.extensions["celery"]
            client = redis.Redis.from_url(redis_url)

            floor_rps = timed(celery_app, "bench.floor", [[n] for n in range(args.deliveries)],
                              lambda: client.llen("celery") == 0 and not client.hlen("unacked"))
            ids = pending_deliveries(app, endpoint_ids[0], company["id"], args.deliveries)
            delivery_rps = timed(celery_app, "workers.tasks.deliver_webhook", [[i] for i in ids],
                                 lambda: succeeded(app) >= len(ids))
            assert receiver.count >= len(ids)

            # Finalize with 0, then 3 subscribed endpoints; the receiver is now slow.
            receiver.delay = 1.0
            with app.app_context():
                db.session.execute(db.update(WebhookEndpoint).values(enabled=False))
                db.session.commit()
            finalize_latencies(app, company, 20)  # warm up: connections, the store client
            without = finalize_latencies(app, company, args.finalizes)
            with app.app_context():
                db.session.execute(db.update(WebhookEndpoint).values(enabled=True))
                db.session.commit()
            with_three = finalize_latencies(app, company, args.finalizes)
        finally:
            if worker is not None:
                worker.send_signal(signal.SIGQUIT)  # cold: no waiting on the slow receiver
                worker.wait(30)
            drop_database(admin_url, name)

    def p95(values):
        return statistics.quantiles(values, n=20)[-1]

    base, three = statistics.median(without), statistics.median(with_three)
    print(f"floor (no-op task, 1 worker process): {floor_rps:.0f} tasks/s")
    print(f"deliveries (signed POST to a local receiver, 1 worker process): {delivery_rps:.0f}/s "
          f"({delivery_rps / floor_rps:.2f} of the floor)")
    print(f"finalize, 0 endpoints: median {base:.2f} ms, p95 {p95(without):.2f} ms")
    print(f"finalize, 3 endpoints: median {three:.2f} ms, p95 {p95(with_three):.2f} ms "
          f"(+{three - base:.2f} ms, x{three / base:.2f}); the receiver takes 1000 ms per request")
    print(f"webhook_deliveries_per_s={delivery_rps:.1f} floor_tasks_per_s={floor_rps:.1f} "
          f"ratio={delivery_rps / floor_rps:.3f} finalize_ms_0={base:.2f} finalize_ms_3={three:.2f} "
          f"finalize_extra_ms={three - base:.2f} finalize_ratio={three / base:.3f} "
          f"deliveries={args.deliveries} finalizes={args.finalizes}")


if __name__ == "__main__":
    main()
