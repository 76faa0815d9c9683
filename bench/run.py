"""The create benchmark (`make bench`): the production shape against its floor.

Starts SeaweedFS, gunicorn serving the app (2 processes), a Celery worker and, on
PostgreSQL and Redis (BENCH_DATABASE_ADMIN_URL, BENCH_REDIS_URL), a throwaway
database; gunicorn also serves bench/floor_app.py, the least work a create could
do. wrk loads both in turns with varied bodies. Then: SQL statements per create,
the list with 10,000 photos, web process RSS and the pipeline's photos/second.
Runs are noisy on 2 shared cores: the ratios within one run are the figures.
"""
import argparse
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import cpu, wrk  # noqa: E402
from bench.pipeline import drop_database, fresh_parts  # noqa: E402
from devstack.seaweed import SeaweedS3, free_port  # noqa: E402

BIN = Path(sys.executable).parent


def gunicorn(target, env, workers=2):
    port = free_port()
    process = subprocess.Popen([str(BIN / "gunicorn"), target, "--bind", f"127.0.0.1:{port}",
                                "--workers", str(workers)], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            requests.get(url + "/", timeout=2)
            return process, url
        except requests.RequestException:
            time.sleep(0.1)
    raise SystemExit(f"gunicorn {target} did not start")


def rss_mb(master):
    """Largest resident set of the master's worker processes, in MB."""
    children = subprocess.run(["pgrep", "-P", str(master.pid)], capture_output=True, text=True)
    sizes = []
    for pid in children.stdout.split():
        status = Path(f"/proc/{pid}/status").read_text()
        sizes.append(int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024)
    return max(sizes)


def sql_per_create(app, company):
    """Statements one create sends with all five references set (BEGIN/COMMIT not counted)."""
    from sqlalchemy import event

    from photoservice.extensions import db
    statements = []
    with app.app_context():
        engine = db.engine
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    body = {"name": "count.jpg", "job": company["jobs"][0], "tags": ["hail"],
            "exif": {"timestamp": 1732790400000},
            **{field: company[field] for field in ("job_inspection_line_item", "estimate_line_item",
                                                   "supplemental_line_item", "change_order_line_item")}}
    key = company["users"][0]["api_key"]
    client = app.test_client()
    client.post("/light/photos/", json={"name": "warm-up"}, headers={"X-API-KEY": key})
    event.listen(engine, "before_cursor_execute", listener)
    try:
        response = client.post("/light/photos/", json=body, headers={"X-API-KEY": key})
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert response.status_code == 201, response.get_json()
    return statements


def add_photos(app, company, count):
    """`count` uploaded photos in the company, half of them on its first job."""
    from datetime import datetime, timedelta, timezone

    from photoservice.extensions import db
    from photoservice.photos.models import Photo
    start = datetime(2024, 1, 1, tzinfo=timezone.utc)
    rows = [{"company_id": company["id"], "created_by": company["users"][n % 3]["id"],
             "name": f"bulk {n}", "key": f"bulk-{n}_{secrets.token_hex(4)}.jpg", "tags": ["bulk"],
             "related_to": [], "status": "uploaded", "processing_status": "processed",
             "job_id": company["jobs"][n % 2],
             "captured_at": None if n % 10 == 0 else start + timedelta(minutes=n)}
            for n in range(count)]
    with app.app_context():
        db.session.execute(db.insert(Photo), rows)
        db.session.commit()


def explain_list(app, company):
    """EXPLAIN ANALYZE of the list query an owner's GET /light/photos/?job= runs."""
    from sqlalchemy import event

    from photoservice.extensions import db
    seen = []
    with app.app_context():
        engine = db.engine
    listener = lambda conn, cursor, sql, params, *rest: seen.append((sql, params))  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        app.test_client().get(f"/light/photos/?job={company['jobs'][0]}",
                              headers={"X-API-KEY": company["users"][0]["api_key"]})
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    sql, params = next((s, p) for s, p in seen if "LIMIT" in s)
    with app.app_context(), engine.connect() as connection:
        plan = connection.exec_driver_sql("EXPLAIN ANALYZE " + sql, params).scalars().all()
    return "\n".join(plan)


def wait_drained(redis_url, timeout=600):
    """Let the worker finish the creates' tasks, so the next run starts on idle cores."""
    client = redis.Redis.from_url(redis_url)
    deadline = time.monotonic() + timeout
    while client.llen("celery") or client.hlen("unacked"):
        if time.monotonic() > deadline:
            raise SystemExit("the worker did not drain its queue")
        time.sleep(0.2)


def stack_meter(web, worker):
    """CPU of gunicorn's workers (`web`), the Celery worker, PostgreSQL and Redis."""
    return cpu.Meter({"web": lambda: cpu.tree(web.pid)[1:], "worker": lambda: cpu.tree(worker.pid),
                      "postgres": lambda: cpu.named("postgres"),
                      "redis": lambda: cpu.named("redis-server")})


def measured_run(meter, url, script, args, seconds, connections):
    """One wrk run, with the CPU milliseconds per request each part of the stack spent."""
    meter.start()
    figures = wrk.run(url, script, args, seconds, connections)
    spent = meter.stop()
    requests_done = figures["rps"] * seconds
    figures["cpu_ms"] = {part: 1000 * used / requests_done for part, used in spent.items()}
    return figures


def pipeline_rate():
    out = subprocess.run([sys.executable, "-m", "bench.pipeline", "--photos", "500"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    return float(re.search(r"pipeline_photos_per_s=([\d.]+)", out).group(1))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()

    admin_url, redis_url, name, database_url = fresh_parts(redis_db=14)
    processes = []
    with tempfile.TemporaryDirectory() as s3_dir, \
            SeaweedS3(s3_dir, secrets.token_hex(8), secrets.token_hex(16), bucket="photos") as store:
        env = dict(os.environ, DATABASE_URL=database_url, REDIS_URL=redis_url,
                   S3_ENDPOINT_URL=store.endpoint_url, S3_BUCKET=store.bucket,
                   AWS_ACCESS_KEY_ID=store.access_key, AWS_SECRET_ACCESS_KEY=store.secret_key,
                   # Exercise the limiter on every request without ever hitting it.
                   API_RATE_LIMIT="1000000/second", GEOCODER="offline")
        os.environ.update(env)
        try:
            from flask_migrate import upgrade

            from photoservice import create_app
            from photoservice.demo import seed_company
            from photoservice.extensions import db
            app = create_app()
            with app.app_context():
                upgrade()
                company = seed_company("bench")
                db.session.commit()
            statements = sql_per_create(app, company)

            worker = subprocess.Popen(
                [str(BIN / "celery"), "--app", "workers.worker:celery_app", "worker", "--concurrency",
                 "1", "--loglevel", "WARNING", "--without-gossip", "--without-mingle"],
                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            processes.append(worker)
            web, web_url = gunicorn("wsgi:app", env)
            floor, floor_url = gunicorn("bench.floor_app:app", env)
            processes += [web, floor]

            create_args = [company["users"][2]["api_key"], *company["jobs"],
                           company["job_inspection_line_item"], company["estimate_line_item"],
                           company["supplemental_line_item"], company["change_order_line_item"]]
            script = str(ROOT / "bench" / "create.lua")
            for url in (floor_url, web_url):  # warm both up: imports, pools, clients
                wrk.run(url, script, create_args, seconds=2, connections=args.connections)
            floors, creates = [], []
            floor_meter, web_meter = stack_meter(floor, worker), stack_meter(web, worker)
            for _ in range(args.rounds):
                wait_drained(redis_url)
                floors.append(measured_run(floor_meter, floor_url, script, create_args,
                                           args.seconds, args.connections))
                creates.append(measured_run(web_meter, web_url, script, create_args,
                                            args.seconds, args.connections))
            wait_drained(redis_url)
            add_photos(app, company, 10_000)
            list_args = [company["users"][0]["api_key"], company["jobs"][0]]
            wrk.run(web_url, str(ROOT / "bench" / "list.lua"), list_args, seconds=2)
            listing = wrk.run(web_url, str(ROOT / "bench" / "list.lua"), list_args, args.seconds)
            web_rss = rss_mb(web)
            plan = explain_list(app, company)
        finally:
            for process in processes:
                process.terminate()
                process.wait(30)
            drop_database(admin_url, name)
    photos_per_s = pipeline_rate()

    def mean(runs, key):
        return sum(run[key] for run in runs) / len(runs)

    create = {k: mean(creates, k) for k in ("rps", "p50", "p99")}
    floor_ = {k: mean(floors, k) for k in ("rps", "p50", "p99")}
    errors = sum(r["errors"] for r in creates + floors + [listing])
    print(f"floor  (bench/floor_app.py): {floor_['rps']:.0f} req/s, p50 {floor_['p50']:.1f} ms, p99 {floor_['p99']:.1f} ms")
    print(f"create (POST /light/photos/): {create['rps']:.0f} req/s, p50 {create['p50']:.1f} ms, p99 {create['p99']:.1f} ms")
    print(f"create/floor: {create['rps'] / floor_['rps']:.2f} x throughput, "
          f"{create['p99'] / floor_['p99']:.2f} x p99   (non-2xx responses: {errors})")
    for label, runs in (("floor ", floors), ("create", creates)):
        parts = {part: sum(run["cpu_ms"][part] for run in runs) / len(runs) for part in runs[0]["cpu_ms"]}
        print(f"{label} CPU per request: {sum(parts.values()):.2f} ms = "
              + ", ".join(f"{part} {ms:.2f}" for part, ms in parts.items()))
    print(f"SQL statements per create (all five references set): {len(statements)}")
    for statement in statements:
        print("   ", " ".join(statement.split())[:110])
    print(f"list (GET ?job=, 10,000 photos): {listing['rps']:.0f} req/s, p50 {listing['p50']:.1f} ms, "
          f"p99 {listing['p99']:.1f} ms")
    print("list query plan:\n    " + plan.replace("\n", "\n    "))
    print(f"web process RSS after the run: {web_rss:.0f} MB")
    print(f"pipeline: {photos_per_s:.0f} photos/s per worker process")
    print(f"create_rps={create['rps']:.1f} floor_rps={floor_['rps']:.1f} "
          f"ratio={create['rps'] / floor_['rps']:.3f} create_p50_ms={create['p50']:.2f} "
          f"create_p99_ms={create['p99']:.2f} floor_p50_ms={floor_['p50']:.2f} "
          f"floor_p99_ms={floor_['p99']:.2f} p99_ratio={create['p99'] / floor_['p99']:.3f} "
          f"sql_per_create={len(statements)} web_rss_mb={web_rss:.1f} "
          f"list_p50_ms={listing['p50']:.2f} list_p99_ms={listing['p99']:.2f} "
          f"pipeline_photos_per_s={photos_per_s:.1f} errors={errors}")


if __name__ == "__main__":
    main()
