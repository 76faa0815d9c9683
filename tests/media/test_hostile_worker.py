"""Hostile metadata through a real Celery worker: each file is processed, its photo says
what was ignored, and the worker's process spends little CPU and memory on it."""
import hashlib

import psutil

from photoservice.derivatives import DERIVATIVES
from tests.media.hostile import HOSTILE, MB, hostile
from tests.media.images import DENVER, jpeg
from tests.support import upload


def status_kb(pid, field):
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field + ":"))


def reset_peak(pid):
    """Set the process's peak RSS (VmHWM) back to its current RSS."""
    with open(f"/proc/{pid}/clear_refs", "w") as clear_refs:
        clear_refs.write("5")


def cpu_seconds(pid):
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def test_a_worker_processes_hostile_files_at_a_small_cost(app, as_user, start_worker, wait_processed,
                                                          monkeypatch):
    monkeypatch.setitem(app.config, "PHOTO_UPLOAD_MAX_BYTES", 8 * MB)  # room for the 4 MB blocks
    worker = start_worker()
    crew = as_user("crew")

    def process(content, content_type):
        photo = crew.create(name="Hostile metadata")
        assert upload(photo["upload_url"], content, fields={"Content-Type": content_type}).status_code == 204
        assert crew.finalize(photo["id"]).status_code == 200
        wait_processed([photo["id"]])
        return crew.get(f"/light/photos/{photo['id']}/").get_json()

    # The child loads Pillow, pillow-heif and the time zone data on its first photo.
    assert process(jpeg(640, 480, taken="2024:05:01 14:30:00", gps=DENVER), "image/jpeg")[
        "media_warnings"] == []
    [child] = worker.children()
    costs = {}
    for name, (content_type, _build, warnings) in HOSTILE.items():
        reset_peak(child)
        rss, cpu = status_kb(child, "VmRSS"), cpu_seconds(child)
        shown = process(hostile(name), content_type)
        costs[name] = {"cpu_s": round(cpu_seconds(child) - cpu, 3),
                       "growth_mb": round((status_kb(child, "VmHWM") - rss) / 1024, 1)}
        assert shown["media_status"] == "processed", (name, shown["media_error"])
        assert shown["media_warnings"] == warnings, name
        assert shown["sha256"] == hashlib.sha256(hostile(name)).hexdigest()
        assert set(shown["variants"]) == set(DERIVATIVES)
    assert worker.children() == [child]  # the same process throughout: never killed or recycled
    for name, cost in costs.items():
        # Pillow's own reader took 20 s and 770 MB on the JPEG GPS fan, and over 1.8 GB
        # on the PNG one. Here the work includes the download, hash and derivatives.
        assert cost["cpu_s"] < 2.0 and cost["growth_mb"] < 64, (name, costs)
