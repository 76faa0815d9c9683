"""One request id from the router to the last task it caused, through real processes:
gunicorn (as the Procfile runs it) and a worker, both with LOG_FORMAT=json, and a
receiver. Every line they write parses, and none carries a key, a signature or the
photo's coordinates."""
import json

import requests

from tests.media.images import DENVER, jpeg
from tests.support import upload

JSON_LOGS = {"LOG_FORMAT": "json", "WEBHOOK_ALLOW_PRIVATE": "1"}


def json_lines(path):
    """Every line of a process's output, each parsed (a line that is not JSON fails)."""
    lines = path.read_text().splitlines()
    not_json = [line for line in lines if not line.startswith("{")]
    assert not not_json, f"{path.name}: lines that are not JSON objects: {not_json[:5]}"
    return [json.loads(line) for line in lines]


def task_lines(lines, task):
    return [line for line in lines if line.get("task") == f"workers.tasks.{task}"]


def test_the_request_id_reaches_every_task_and_the_receiver(
        owner, register, receiver, start_worker, web_server, wait_processed, wait_deliveries):
    worker = start_worker(**JSON_LOGS)
    web = web_server(workers=1, **JSON_LOGS)
    endpoint = register(receiver.url, ["photo.uploaded", "photo.processed"])
    created = requests.post(f"{web.url}/light/photos/", timeout=30, json={
        "name": "Ridge", "exif": {"latitude": DENVER[0], "longitude": DENVER[1]}},
        headers={**owner.headers, "X-Request-ID": "router-create-1"})
    assert created.status_code == 201 and created.headers["X-Request-ID"] == "router-create-1"
    photo = created.json()
    assert upload(photo["upload_url"], jpeg(640, 480, gps=DENVER)).status_code == 204
    finalized = requests.put(f"{web.url}/light/photos/{photo['id']}/uploaded/", timeout=30,
                             headers={**owner.headers, "X-Request-ID": "not a valid id"})
    assert finalized.status_code == 200
    finalize_id = finalized.headers["X-Request-ID"]
    assert finalize_id != "not a valid id"
    wait_processed([photo["id"]])
    wait_deliveries(2)
    shown = requests.get(f"{web.url}/light/photos/{photo['id']}/", headers=owner.headers, timeout=30)

    # The receiver hears both events with the finalize's id beside the signature.
    assert sorted((r["headers"]["X-Request-ID"], json.loads(r["body"])["type"]) for r in receiver.requests) \
        == [(finalize_id, "photo.processed"), (finalize_id, "photo.uploaded")]

    web.stop()
    worker.stop()  # its shutdown lines are JSON too
    web_lines, worker_lines = json_lines(web.log_path), json_lines(worker.log_path)
    logged = {(line["method"], line["path"], line["status"]): line for line in web_lines if "method" in line}
    create_line = logged["POST", "/light/photos/", 201]
    assert (create_line["request_id"], create_line["user_id"]) == ("router-create-1", owner.id)
    assert logged["PUT", "/light/photos/<int:photo_id>/uploaded/", 200]["request_id"] == finalize_id
    assert any(line["logger"].startswith("gunicorn") for line in web_lines)  # gunicorn's own, as JSON

    for task, request_id in (("process_photo", "router-create-1"), ("process_media", finalize_id)):
        lines = task_lines(worker_lines, task)
        assert lines and {(line["request_id"], line["photo_id"]) for line in lines} \
            == {(request_id, photo["id"])}
        assert any("succeeded" in line["message"] for line in lines)  # Celery's own line too
    deliveries = task_lines(worker_lines, "deliver_webhook")
    assert {line["request_id"] for line in deliveries} == {finalize_id}
    assert len({line["delivery_id"] for line in deliveries}) == 2

    text = web.log_path.read_text() + worker.log_path.read_text()
    signatures = [r["headers"]["webhook-signature"].split(",")[-1] for r in receiver.requests]
    secrets = [owner.headers["X-API-KEY"], endpoint["secret"], photo["upload_url"]["fields"]["x-amz-signature"],
               shown.json()["download_url"].partition("?")[2], *signatures]
    assert not [secret for secret in secrets if secret and secret in text]
    assert str(DENVER[0]) not in text and str(DENVER[1]) not in text
