"""The create and list benchmark (`make bench`): the production shape against references.

Starts SeaweedFS, gunicorn serving the app (2 processes), a Celery worker and, on
PostgreSQL and Redis (BENCH_DATABASE_ADMIN_URL, BENCH_REDIS_URL), a throwaway
database; gunicorn also serves bench/floor_app.py, the least work a create could
do, bench/required_app.py, the floor plus what the spec makes a create do (with
bare drivers), and bench/required_list.py, what a page of the list must do (with
bare drivers, presigning included). wrk loads them in turns with varied bodies,
and the CPU each part of the stack spends per request is read from the process
table (devstack/process_table.py). Then, with 10,000 processed photos: pages of 10
and 100 against required_list (after checking both give the same JSON), the
job-filtered list and its query plans, SQL statements per create, web process RSS
and the pipeline's photos/second.
Runs are noisy on 2 shared cores: the ratios within one run are the figures.
"""
import argparse
import json
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
from bench.report import report  # noqa: E402
from bench.pipeline import drop_database, fresh_parts, stack_environment  # noqa: E402
from devstack import process_table  # noqa: E402
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
    return max(process_table.rss_mb([pid]) for pid in process_table.children(master.pid))


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
    """`count` uploaded, processed photos in the company, half of them on its first job:
    capture time, place and derivatives as the workers leave them (one in ten undated)."""
    from datetime import datetime, timedelta, timezone

    from photoservice.extensions import db
    from photoservice.photos.models import Photo
    from photoservice.photos.object_keys import derivative_key
    start = datetime(2024, 1, 1, tzinfo=timezone.utc)
    rows = []
    for n in range(count):
        key = f"bulk-{n}_{secrets.token_hex(4)}.jpg"
        rows.append({
            "company_id": company["id"], "created_by": company["users"][n % 3]["id"],
            "name": f"bulk {n}", "key": key, "tags": ["bulk", "hail"] if n % 3 else ["bulk"],
            "related_to": [f"claim-{n % 50}"], "status": "uploaded", "processing_status": "processed",
            "media_status": "processed", "job_id": company["jobs"][n % 2],
            "exif": {"timestamp": 1704067200000 + n * 60000, "Make": "Apple", "Model": "iPhone 15",
                     "latitude": 40.7128, "longitude": -74.006},
            "captured_at": None if n % 10 == 0 else start + timedelta(minutes=n),
            "captured_at_source": None if n % 10 == 0 else "client",
            "latitude": 40.7128, "longitude": -74.006,
            "location": {"city": "New York", "state": "New York", "country": "United States",
                         "country_code": "us", "display_name": "New York, NY, United States"},
            "uploaded_at": start, "processed_at": start, "content_type": "image/jpeg",
            "size": 3_500_000, "width": 4032, "height": 3024, "sha256": secrets.token_hex(32),
            "variants": {name: {"key": derivative_key(key, name), "width": width, "height": height}
                         for name, (width, height) in (("thumbnail", (400, 300)), ("web", (1600, 1200)))},
        })
    with app.app_context():
        db.session.execute(db.insert(Photo), rows)
        db.session.commit()
        # Now rather than by autovacuum in the middle of a measured run.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE photos")


def same_page(app_url, reference_url, key, query):
    """Whether the app and the reference give the same JSON for one page (links compared
    without their signing parameters, which carry the second they were made)."""
    def page(url):
        response = requests.get(f"{url}/light/photos/?{query}", headers={"X-API-KEY": key}, timeout=30)
        response.raise_for_status()
        return json.loads(re.sub(r"\?X-Amz-[^\"]*", "", re.sub(r"https?://[^/\"]+", "", response.text)))
    return page(app_url) == page(reference_url)


def list_statements(app, key, query):
    """(engine, [(sql, params)]): what GET /light/photos/?<query> with `key` sends."""
    from sqlalchemy import event

    from photoservice.extensions import db
    seen = []
    with app.app_context():
        engine = db.engine
    listener = lambda conn, cursor, sql, params, *rest: seen.append((sql, params))  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        response = app.test_client().get(f"/light/photos/?{query}", headers={"X-API-KEY": key})
        assert response.status_code == 200, response.get_json()
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return engine, seen


def explain_list(app, company, query):
    """EXPLAIN ANALYZE of the page query an owner's GET /light/photos/?<query> runs."""
    engine, seen = list_statements(app, company["users"][0]["api_key"], query)
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
    figures["cpu_ms"] = {part: 1000 * used / figures["requests"] for part, used in spent.items()}
    return figures


def photo_count(app):
    from photoservice.extensions import db
    from photoservice.photos.models import Photo
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(Photo))


def pipeline_rate():
    out = subprocess.run([sys.executable, "-m", "bench.pipeline", "--photos", "500"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    return float(re.search(r"pipeline_photos_per_s=([\d.]+)", out).group(1))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--request-log", action="store_true",
                        help="also serve the app without its request ids and line (bench/unlogged_app.py), "
                             "and with LOG_FORMAT=json, to measure what the line costs a create")
    args = parser.parse_args()

    admin_url, redis_url, name, database_url = fresh_parts(redis_db=14)
    processes = []
    with tempfile.TemporaryDirectory() as s3_dir, \
            SeaweedS3(s3_dir, secrets.token_hex(8), secrets.token_hex(16), bucket="photos") as store:
        # Exercise the limiter on every request without ever hitting it.
        env = stack_environment(database_url, redis_url, store, API_RATE_LIMIT="1000000/second")
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
            required, required_url = gunicorn("bench.required_app:app", env)
            required_list, required_list_url = gunicorn("bench.required_list:app", env)
            processes += [web, floor, required, required_list]

            create_args = [company["users"][2]["api_key"], *company["jobs"],
                           company["job_inspection_line_item"], company["estimate_line_item"],
                           company["supplemental_line_item"], company["change_order_line_item"]]
            script = str(ROOT / "bench" / "create.lua")
            servers = {"floor": (floor, floor_url), "required": (required, required_url),
                       "create": (web, web_url)}
            if args.request_log:
                servers["create_unlogged"] = gunicorn("bench.unlogged_app:app", env)
                servers["create_json"] = gunicorn("wsgi:app", {**env, "LOG_FORMAT": "json"})
                processes += [master for name, (master, _) in servers.items() if name.startswith("create_")]
            runs = {name: [] for name in servers}
            for _, url in servers.values():  # warm up: imports, pools, clients
                wrk.run(url, script, create_args, seconds=2, connections=args.connections)
            for _ in range(args.rounds):
                for name, (master, url) in servers.items():
                    wait_drained(redis_url)
                    before = photo_count(app)
                    run = measured_run(stack_meter(master, worker), url, script, create_args,
                                       args.seconds, args.connections)
                    run["new_photos"] = photo_count(app) - before
                    runs[name].append(run)
            wait_drained(redis_url)
            add_photos(app, company, 10_000)
            owner_key, list_script = company["users"][0]["api_key"], str(ROOT / "bench" / "list.lua")
            pages = {}
            for size in (10, 100):
                query = f"page_size={size}"
                if not same_page(web_url, required_list_url, owner_key, query):
                    raise SystemExit(f"the app and required_list differ on ?{query}")
                servers = {"required_list": (required_list, required_list_url), "list": (web, web_url)}
                pages[size] = {name: [] for name in servers}
                for _, url in servers.values():
                    wrk.run(url, list_script, [owner_key, query], seconds=2, connections=args.connections)
                for _ in range(args.rounds):
                    for name, (master, url) in servers.items():
                        pages[size][name].append(measured_run(stack_meter(master, worker), url, list_script,
                                                              [owner_key, query], args.seconds,
                                                              args.connections))
            job_query = f"job={company['jobs'][0]}"
            listing = wrk.run(web_url, list_script, [owner_key, job_query], args.seconds)
            web_rss = rss_mb(web)
            plans = {query: explain_list(app, company, query) for query in (job_query, "page_size=10")}
        finally:
            for process in processes:
                process.terminate()
                process.wait(30)
            drop_database(admin_url, name)
    report(runs, pages, statements, listing, plans, web_rss, pipeline_rate())


if __name__ == "__main__":
    main()
