"""The scale benchmark (`make bench-scale`): how the cost grows as the work grows.

    make bench-scale              (or: .venv/bin/python -m bench.scale --photos 1000000)

Starts the embedded PostgreSQL of .dev/bench-scale/ (loaded once by
bench/scale_load.py, reused between runs), an embedded Redis, gunicorn serving the
app and bench/required_list.py (2 processes each), and runs its parts in turn:
1. the list on a year of a large company (bench/scale_list.py);
2.-3. a burst of 500 photos of one company and one photo of another company during
   it, then during the re-queue of the burst's media (bench/scale_burst.py: its own
   SeaweedFS, workers and gunicorn), first in, first out and with the fair share.
Each part (PARTS) adds key=value figures to the last line, which is machine-readable:
`scale_list_p99_ms` and `scale_list_to_required` (the worst shape of each), and
`scale_cursor_p99_ms` (the worst cursor page), `burst_metadata_p99_s`,
`burst_media_p99_s`, `burst_other_company_s` and `burst_requeue_other_company_s`
(another company's photo during the re-queue of the burst company's media).
Runs are noisy on 2 shared cores: the ratios within one run are the figures.
"""
import argparse
import secrets
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import scale_burst, scale_list, scale_load  # noqa: E402
from bench.pipeline import stack_environment  # noqa: E402
from bench.run import gunicorn  # noqa: E402
from devstack.postgres import EmbeddedPostgres  # noqa: E402
from devstack.redis_server import EmbeddedRedis  # noqa: E402


def busiest_job(url, company_id):
    with psycopg.connect(url) as connection:
        return connection.execute(
            "SELECT job_id FROM photos WHERE company_id = %s GROUP BY job_id ORDER BY count(*) DESC LIMIT 1",
            (company_id,)).fetchone()[0]


def list_part(context):
    """Part 1: the list, beside required_list (bench/scale_list.py)."""
    processes = []
    try:
        servers = {}
        for name, target in (("required_list", "bench.required_list:app"), ("list", "wsgi:app")):
            servers[name] = gunicorn(target, context.env)
            processes.append(servers[name][0])
        results = scale_list.run(context.app, context.company, servers, context.server.process.pid,
                                 context.args.requests, context.args.rounds)
    finally:
        for process in processes:
            process.terminate()
            process.wait(30)
    return scale_list.report(results)


def burst_part(context):
    """Parts 2 and 3: a burst of one company, another company's photo during it
    (bench/scale_burst.py), first in, first out and then with the fair share."""
    return scale_burst.report(scale_burst.run(context, context.args.burst))


#: The parts in the order they run, each given the context and returning its figures
#: for the last line.
PARTS = [list_part, burst_part]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=40, help="requests per round and shape")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--burst", type=int, default=scale_burst.BURST, help="photos in the burst")
    parser.add_argument("--parts", default=",".join(part.__name__ for part in PARTS),
                        help="comma-separated parts to run (default: all)")
    args = parser.parse_args()

    figures = {}
    with EmbeddedPostgres(scale_load.DIRECTORY, database=None, durable=False) as server, \
            tempfile.TemporaryDirectory() as redis_dir, EmbeddedRedis(redis_dir, persist=False) as broker:
        # Presigning needs credentials only: no store is started.
        store = SimpleNamespace(endpoint_url="http://127.0.0.1:9", bucket="photos",
                                access_key=secrets.token_hex(8), secret_key=secrets.token_hex(16))
        env = stack_environment(server.url_for(scale_load.DATABASE), broker.url, store,
                                API_RATE_LIMIT="1000000/second")
        from photoservice import create_app
        marker = scale_load.ensure_loaded(server, args.photos, create_app)
        company = dict(marker["company"], busiest_job=busiest_job(server.url_for(scale_load.DATABASE),
                                                                  marker["company"]["id"]))
        context = SimpleNamespace(args=args, server=server, broker=broker, env=env, app=create_app(),
                                  company=company)
        for part in PARTS:
            if part.__name__ in args.parts.split(","):
                figures.update(part(context))
    print(" ".join(f"{name}={value:.3f}" if isinstance(value, float) else f"{name}={value}"
                   for name, value in figures.items()))


if __name__ == "__main__":
    main()
