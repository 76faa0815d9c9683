"""Part 1 of `make bench-scale`: the list on a million photos, beside required_list.

Each shape of the list is asked of the app and of bench/required_list.py (the same
queries with bare drivers) on the same data, one request at a time (latency
percentiles, not throughput), in alternating rounds; both must give the same JSON.
The CPU a page costs is read from the process table: gunicorn's workers and the
PostgreSQL server's processes. The plans are EXPLAIN (ANALYZE, BUFFERS) of every
statement the app sends for the shape.
"""
import json
import re
import statistics
import time

import requests

from bench import cpu
from bench.run import list_statements


def shapes(company, cursor_pages):
    """{name: query string} of the measured shapes; `cursor_pages` adds keyset pages."""
    busiest = company["busiest_job"]
    found = {"all": "", "job": f"job={busiest}", "tags": "tags=hail", "job_tags": f"job={busiest}&tags=roof",
             "video": "is_video=true", "deep": "page=2000"}
    if cursor_pages:
        found.update({"cursor_all": "cursor=", "cursor_tags": "tags=hail&cursor=",
                      "cursor_rare_tag": "tags=solar&cursor=", "cursor_deep": "cursor={deep}"})
    return found


def _body(response):
    """The JSON of a page, links without their host and signing parameters."""
    response.raise_for_status()
    return json.loads(re.sub(r"\?X-Amz-[^\"]*", "", re.sub(r"https?://[^/\"]+", "", response.text)))


def same_page(session, app_url, reference_url, query):
    mine = _body(session.get(f"{app_url}/light/photos/?{query}", timeout=60))
    reference = _body(session.get(f"{reference_url}/light/photos/?{query}", timeout=60))
    return mine == reference


def deep_cursor(session, app_url):
    """The cursor that follows page 1,999 of 10: where `page=2000` starts."""
    body = session.get(f"{app_url}/light/photos/?page=1999", timeout=60).json()
    return body.get("next_cursor")


def percentile(samples, share):
    """The sample at `share` (0.99: p99) of `samples`, by rank."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def measure(session, servers, query, requests_per_round, rounds, postgres_pid):
    """{server name: {"p50_ms", "p99_ms", "cpu_ms": {web, postgres}}} for one shape."""
    samples = {name: [] for name in servers}
    spent = {name: {"web": 0.0, "postgres": 0.0} for name in servers}
    for name, (_, url) in servers.items():  # warm up: prepared statements, caches
        for _ in range(5):
            session.get(f"{url}/light/photos/?{query}", timeout=60).raise_for_status()
    for _ in range(rounds):
        for name, (master, url) in servers.items():
            meter = cpu.Meter({"web": lambda: cpu.tree(master.pid)[1:],
                               "postgres": lambda: cpu.tree(postgres_pid)})
            meter.start()
            for _ in range(requests_per_round):
                started = time.perf_counter()
                session.get(f"{url}/light/photos/?{query}", timeout=60).raise_for_status()
                samples[name].append(1000 * (time.perf_counter() - started))
            used = meter.stop()
            for part in ("web", "postgres"):
                spent[name][part] += used[part]
    total = requests_per_round * rounds
    return {name: {"p50_ms": statistics.median(samples[name]), "p99_ms": percentile(samples[name], 0.99),
                   "cpu_ms": {part: 1000 * seconds / total for part, seconds in spent[name].items()}}
            for name in servers}


def plans(app, key, query):
    """EXPLAIN (ANALYZE, BUFFERS) of each statement on photos GET /light/photos/?<query> sends."""
    engine, seen = list_statements(app, key, query)
    found = []
    with app.app_context(), engine.connect() as connection:
        for sql, params in seen:
            if "FROM photos" in sql:
                found.append("\n".join(connection.exec_driver_sql(
                    "EXPLAIN (ANALYZE, BUFFERS) " + sql, params).scalars().all()))
    return found


def run(app, company, servers, postgres_pid, requests_per_round=40, rounds=3):
    """The figures of every shape, their plans, and the worst p99 and ratio."""
    key = company["users"][0]["api_key"]
    session = requests.Session()
    session.headers["X-API-KEY"] = key
    app_url = servers["list"][1]
    cursor = deep_cursor(session, app_url)
    results = {}
    for name, query in shapes(company, cursor is not None).items():
        query = query.format(deep=cursor or "")
        if not same_page(session, app_url, servers["required_list"][1], query):
            raise SystemExit(f"the app and required_list differ on ?{query}")
        figures = measure(session, servers, query, requests_per_round, rounds, postgres_pid)
        figures["query"] = query
        figures["plans"] = plans(app, key, query)
        figures["ratio"] = figures["required_list"]["p50_ms"] / figures["list"]["p50_ms"]
        results[name] = figures
    return results


def report(results):
    print("\n## The list on a million photos (ms; one request at a time; CPU per page)\n")
    print("| shape | query | list p50 | list p99 | required p50 | required p99 | list/required "
          "| web CPU list / req | postgres CPU list / req |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, figures in results.items():
        mine, reference = figures["list"], figures["required_list"]
        query = figures["query"] if len(figures["query"]) < 40 else figures["query"][:37] + "..."
        print(f"| {name} | `?{query}` | {mine['p50_ms']:.1f} | {mine['p99_ms']:.1f} | "
              f"{reference['p50_ms']:.1f} | {reference['p99_ms']:.1f} | {figures['ratio']:.2f}x | "
              f"{mine['cpu_ms']['web']:.1f} / {reference['cpu_ms']['web']:.1f} | "
              f"{mine['cpu_ms']['postgres']:.1f} / {reference['cpu_ms']['postgres']:.1f} |")
    for name, figures in results.items():
        print(f"\n### Plans: {name} (?{figures['query']})")
        for plan in figures["plans"]:
            print("\n" + plan)
    cursor_pages = [f["list"]["p99_ms"] for name, f in results.items() if name.startswith("cursor")]
    return {"scale_list_p99_ms": max(f["list"]["p99_ms"] for f in results.values()),
            "scale_list_to_required": min(f["ratio"] for f in results.values()),
            **({"scale_cursor_p99_ms": max(cursor_pages)} if cursor_pages else {})}
