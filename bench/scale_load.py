"""The data of `make bench-scale`: a year of a large company, loaded once and kept.

One company, 1,000,000 uploaded photos (bulk COPY), 2,000 jobs of very different
sizes (a lognormal spread: most hold a few hundred photos, a few tens of thousands),
each job's photos captured over a few weeks of the year, line items on a share of
them, 0 to 4 tags from a vocabulary where `roof` is common and `leak` rare, 2%
videos and 2% undated photos (no capture time).

The cluster lives in .dev/bench-scale/ (an embedded PostgreSQL, fsync off: it can
always be loaded again) and is reused between runs. `loaded.json` there records the
schema revision and the loader's version it was loaded with: when either differs
(a new migration, a change here) the database is loaded afresh. Rows are streamed to
COPY as text from a generator, with the photos' secondary indexes and foreign-key
triggers off during the copy and the indexes built after it (what a restore does).
"""
import json
import random
import secrets
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
DIRECTORY = ROOT / ".dev" / "bench-scale"
MARKER = DIRECTORY / "loaded.json"
DATABASE = "photoservice_scale"
LOADER_VERSION = 1  # bump when what is loaded changes
JOBS = 2_000
EXTRA_USERS = 20
YEAR = datetime(2025, 1, 1, tzinfo=timezone.utc)
# Each photo carries a tag with its chance: a few common, most rare.
TAGS = {"roof": 0.35, "damage": 0.15, "shingles": 0.2, "before": 0.1, "after": 0.1, "hail": 0.08,
        "wind": 0.06, "gutter": 0.05, "siding": 0.04, "interior": 0.03, "flashing": 0.03,
        "chimney": 0.02, "skylight": 0.015, "leak": 0.01, "solar": 0.005}
PLACES = [("Denver", "Colorado", 39.7392, -104.9903), ("Aurora", "Colorado", 39.7294, -104.8319),
          ("Boulder", "Colorado", 40.015, -105.2705), ("Fort Collins", "Colorado", 40.5853, -105.0844),
          ("Colorado Springs", "Colorado", 38.8339, -104.8214)]
COLUMNS = ("company_id", "created_by", "name", "job_id", "job_inspection_line_item_id",
           "estimate_line_item_id", "supplemental_line_item_id", "change_order_line_item_id", "tags",
           "related_to", "exif", "is_video", "status", "key", "original_key", "content_type", "size",
           "created_at", "updated_at", "uploaded_at", "captured_at", "latitude", "longitude", "location",
           "processing_status", "processing_attempts", "dispatched_at", "processed_at", "sha256",
           "width", "height", "duration", "captured_at_source", "variants", "media_status",
           "media_warnings", "media_attempts", "media_dispatched_at", "media_processed_at",
           "processed_event_at")


def head_revision():
    from alembic.script import ScriptDirectory
    return ScriptDirectory(str(ROOT / "migrations")).get_current_head()


def loaded(server):
    """The marker's contents if the database is there and matches this schema and loader."""
    if not MARKER.exists():
        return None
    marker = json.loads(MARKER.read_text())
    if marker.get("revision") != head_revision() or marker.get("loader") != LOADER_VERSION:
        return None
    with psycopg.connect(server.admin_url, autocommit=True) as admin:
        if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone() is None:
            return None
    return marker


def ensure_loaded(server, photos, app_factory):
    """{"company", "photos", ...} of the loaded database, loading it first if needed.
    `app_factory()` makes the app on the database (DATABASE_URL already set)."""
    marker = loaded(server)
    if marker and marker["photos"] == photos:
        print(f"bench-scale: reusing the loaded database ({photos:,} photos, {marker['revision']})")
        return marker
    MARKER.unlink(missing_ok=True)
    with psycopg.connect(server.admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{DATABASE}"')
    started = time.perf_counter()
    company = _schema_and_company(app_factory())
    timings = _load_photos(server.url_for(DATABASE), company, photos)
    marker = {"revision": head_revision(), "loader": LOADER_VERSION, "photos": photos,
              "company": company, "load_s": round(time.perf_counter() - started, 1), **timings}
    MARKER.write_text(json.dumps(marker, indent=1))
    print(f"bench-scale: loaded {photos:,} photos in {marker['load_s']} s ({timings})")
    return marker


def _schema_and_company(app):
    """Migrations, then the company: the demo users with keys, more crew, the jobs and
    their line items (set-based INSERTs: a few thousand rows)."""
    from flask_migrate import upgrade

    from photoservice.accounts.services import create_user
    from photoservice.demo import seed_company
    from photoservice.extensions import db
    with app.app_context():
        upgrade()
        company = seed_company("scale")
        crew = [create_user(company["id"], f"Crew {n}", "crew").id for n in range(EXTRA_USERS)]
        db.session.commit()
        connection = db.session.connection()
        run = lambda sql: connection.exec_driver_sql(sql, {"company": company["id"]})  # noqa: E731
        run(f"""INSERT INTO jobs (company_id, name, created_at)
                SELECT %(company)s, 'Job ' || n, now() FROM generate_series(1, {JOBS}) AS n""")
        run("""INSERT INTO job_inspections (company_id, job_id, name, created_at)
               SELECT company_id, id, 'Inspection', now() FROM jobs WHERE company_id = %(company)s""")
        run("""INSERT INTO job_inspection_line_items (company_id, inspection_id, name, created_at)
               SELECT company_id, id, 'Slope ' || n, now() FROM job_inspections, generate_series(1, 2) AS n
               WHERE company_id = %(company)s""")
        for table in ("estimate_line_items", "supplemental_line_items", "change_order_line_items"):
            run(f"""INSERT INTO {table} (company_id, job_id, name, created_at)
                    SELECT company_id, id, 'Item', now() FROM jobs WHERE company_id = %(company)s""")
        items = {}
        for name, sql in {
            "job": "SELECT id, id FROM jobs",
            "inspection": """SELECT i.job_id, min(l.id) FROM job_inspection_line_items l
                             JOIN job_inspections i ON i.id = l.inspection_id GROUP BY i.job_id""",
            **{table: f"SELECT job_id, min(id) FROM {table} GROUP BY job_id"
               for table in ("estimate_line_items", "supplemental_line_items", "change_order_line_items")},
        }.items():
            items[name] = dict(connection.exec_driver_sql(sql).all())
        db.session.commit()
    jobs = sorted(items["job"])
    company["all_jobs"] = jobs
    company["line_items"] = {kind: [items[kind][job] for job in jobs] for kind in items if kind != "job"}
    company["crew"] = crew
    return company


def _photo_plan(rng, photos, jobs):
    """(created second, job index, captured second or None) per photo, in creation order:
    each job's photos are taken over a few weeks from its start, uploaded minutes to a
    day later."""
    sizes = [rng.lognormvariate(0, 1.2) for _ in range(jobs)]
    scale = photos / sum(sizes)
    counts = [int(size * scale) for size in sizes]
    for n in range(photos - sum(counts)):
        counts[n % jobs] += 1
    year = 365 * 86400
    plan = []
    for job, count in enumerate(counts):
        start, span = rng.uniform(0, year - 30 * 86400), rng.uniform(2, 30) * 86400
        for _ in range(count):
            captured = start + rng.uniform(0, span)
            plan.append((captured + rng.expovariate(1 / 3600), job,
                         None if rng.random() < 0.02 else captured))
    plan.sort()
    return plan


def _rows(company, photos):
    """Text rows for COPY photos (COLUMNS), one photo at a time."""
    rng = random.Random(25)
    users = [user["id"] for user in company["users"]] + company["crew"]
    jobs, items = company["all_jobs"], company["line_items"]
    chances = [("inspection", 0.3), ("estimate_line_items", 0.15), ("supplemental_line_items", 0.05),
               ("change_order_line_items", 0.03)]
    tag_chances = list(TAGS.items())
    places = [(json.dumps({"city": city, "state": state, "country": "United States", "country_code": "us",
                           "display_name": f"{city}, {state}, United States"}), lat, lon)
              for city, state, lat, lon in PLACES]
    company_id = company["id"]
    for n, (created, job, captured) in enumerate(_photo_plan(rng, photos, len(jobs))):
        key = f"scale-{n}_{secrets.token_hex(4)}"
        video = rng.random() < 0.02
        extension = "mp4" if video else "jpg"
        created_at = (YEAR + timedelta(seconds=created)).isoformat()
        captured_at = "\\N" if captured is None else (YEAR + timedelta(seconds=captured)).isoformat()
        location, lat, lon = places[job % len(places)]
        lat, lon = lat + rng.uniform(-0.05, 0.05), lon + rng.uniform(-0.05, 0.05)
        tags = json.dumps([tag for tag, chance in tag_chances if rng.random() < chance])
        references = [str(items[kind][job]) if rng.random() < chance else "\\N" for kind, chance in chances]
        exif = ("\\N" if captured is None else
                f'{{"Make": "Apple", "Model": "iPhone 15", "timestamp": {int((YEAR.timestamp() + captured) * 1000)}}}')
        variants = (f'{{"thumbnail": {{"key": "{key}.{extension}.thumbnail.jpg", "width": 400, "height": 300}}, '
                    f'"web": {{"key": "{key}.{extension}.web.jpg", "width": 1600, "height": 1200}}}}')
        yield "\t".join((
            str(company_id), str(users[n % len(users)]), f"IMG_{n:07d}.{extension}", str(jobs[job]),
            *references, tags, f'["claim-{job}"]', exif, "t" if video else "f", "uploaded",
            f"{key}.{extension}", f"originals/{key}.{extension}", "video/mp4" if video else "image/jpeg",
            str(40_000_000 if video else 3_500_000), created_at, created_at, created_at, captured_at,
            f"{lat:.5f}", f"{lon:.5f}", location, "processed", "1", created_at, created_at,
            secrets.token_hex(32), "4032", "3024", "12.5" if video else "\\N",
            "\\N" if captured is None else "exif", variants, "processed", "[]", "1", created_at,
            created_at, created_at)) + "\n"


def _load_photos(url, company, photos):
    """COPY the photos with their secondary indexes and FK triggers off; then the indexes."""
    timings = {}
    with psycopg.connect(url, autocommit=True) as connection:
        indexes = connection.execute(
            """SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'photos' AND indexname NOT IN (
                   SELECT conname FROM pg_constraint WHERE conrelid = 'photos'::regclass)""").fetchall()
        for name, _ in indexes:
            connection.execute(f'DROP INDEX "{name}"')
        connection.execute("SET session_replication_role = replica")  # no FK triggers per row
        started = time.perf_counter()
        with connection.cursor().copy(f"COPY photos ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            batch = []
            for row in _rows(company, photos):
                batch.append(row)
                if len(batch) == 5000:
                    copy.write("".join(batch))
                    batch = []
            copy.write("".join(batch))
        timings["copy_s"] = round(time.perf_counter() - started, 1)
        connection.execute("SET session_replication_role = DEFAULT")
        connection.execute("SET maintenance_work_mem = '512MB'")
        started = time.perf_counter()
        for _, definition in indexes:
            connection.execute(definition)
        timings["indexes_s"] = round(time.perf_counter() - started, 1)
        started = time.perf_counter()
        connection.execute("VACUUM (ANALYZE, FREEZE) photos")
        timings["vacuum_s"] = round(time.perf_counter() - started, 1)
    return timings
