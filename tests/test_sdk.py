"""The SDKs integrators generate from /openapi.json, run against the live app.

Python: openapi-python-client must build every operation and model (a skipped one
fails the test), and the generated package runs the photo flow, a resumed upload
(multipart) and the other routes. TypeScript: openapi-typescript's types, compiled
by tsc in strict mode with a short script that uses them, which then runs the flow
and a resumed upload with fetch.
The npm packages (tests/sdk/package.json) are cached under .dev/sdk-node.
"""
import importlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from photoservice.photos.upload_parts import MIN_PART_SIZE
from tests.support import JPEG_STUB, upload

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
SDK_DIR = Path(__file__).resolve().parent / "sdk"
NODE_CACHE = ROOT / ".dev" / "sdk-node"
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def role_key(company, role):
    return next(u for u in company["users"] if u["role"] == role)["api_key"]


@pytest.fixture
def server(web_server):
    # Webhook URLs on this machine, as the webhook tests have them (nothing is delivered).
    # The flows send more than 5 requests a second with one key; limits are tested elsewhere.
    return web_server(workers=1, WEBHOOK_ALLOW_PRIVATE=1, API_RATE_LIMIT="off")


@pytest.fixture
def document(server, tmp_path):
    response = requests.get(f"{server.url}/openapi.json", timeout=10)
    assert response.status_code == 200
    path = tmp_path / "openapi.json"
    path.write_text(response.text)
    return path


def snake(name):
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


@pytest.fixture
def python_sdk(document, tmp_path):
    """The generated package, imported from tmp_path; fails on any warning."""
    config = tmp_path / "sdk.yaml"
    config.write_text("post_hooks: []\n")  # no formatter run on the output
    generator = Path(sys.executable).parent / "openapi-python-client"
    run = subprocess.run(
        [str(generator), "generate", "--path", str(document), "--meta", "none",
         "--output-path", str(tmp_path / "photoservice_sdk"), "--config", str(config),
         "--fail-on-warning"],
        capture_output=True, text=True, timeout=120)
    output = run.stdout + run.stderr
    assert run.returncode == 0 and "WARNING" not in output and "Warning" not in output, output

    spec = json.loads(document.read_text())
    sys.path.insert(0, str(tmp_path))
    try:
        sdk = importlib.import_module("photoservice_sdk")
        models = importlib.import_module("photoservice_sdk.models")
        for name in spec["components"]["schemas"]:
            assert hasattr(models, name), f"model {name} was not generated"
        for path, item in spec["paths"].items():
            for method, operation in item.items():
                if method not in HTTP_METHODS:
                    continue
                module = f"photoservice_sdk.api.{operation['tags'][0].lower()}." \
                         f"{snake(operation['operationId'])}"
                assert importlib.util.find_spec(module), f"{method.upper()} {path}: no {module}"
        yield sdk
    finally:
        sys.path.remove(str(tmp_path))
        for name in [n for n in sys.modules if n.split(".")[0] == "photoservice_sdk"]:
            del sys.modules[name]


def test_python_sdk_runs_the_photo_flow(python_sdk, server, company):
    from photoservice_sdk import AuthenticatedClient
    from photoservice_sdk.api.photos import (
        create_photo, delete_photo, finalize_photo_upload, get_photo, list_photos,
        renew_upload_url, update_photo)
    from photoservice_sdk.models import (
        Error, Photo, PhotoCreate, PhotoCreated, PhotoDetail, PhotoPage, PhotoUpdate, UploadPolicy)

    client = AuthenticatedClient(base_url=server.url, token=role_key(company, "crew"))
    body = PhotoCreate.from_dict({"name": "Front roof damage", "tags": ["hail"],
                                  "exif": {"timestamp": 1732790400000, "Make": "Pixel"}})
    created = create_photo.sync(client=client, body=body)
    assert isinstance(created, PhotoCreated), created
    assert created.status.value == "pending_upload"

    # Step 2: the file goes to the store with the policy create returned.
    assert isinstance(created.upload_url, UploadPolicy), created.upload_url
    policy = {"url": created.upload_url.url, "fields": created.upload_url.fields.to_dict()}
    assert upload(policy, JPEG_STUB).status_code == 204

    finalized = finalize_photo_upload.sync(client=client, photo_id=created.id)
    assert isinstance(finalized, Photo), finalized
    assert finalized.status.value == "uploaded" and finalized.size == len(JPEG_STUB)

    detail = get_photo.sync(client=client, photo_id=created.id)
    assert isinstance(detail, PhotoDetail) and detail.download_url
    assert detail.exif.to_dict()["Make"] == "Pixel"

    page = list_photos.sync(client=client)
    assert isinstance(page, PhotoPage)
    assert [photo.id for photo in page.results] == [created.id] and page.count == 1

    # A rule the document states in words: no NUL in exif text. The 400 parses as Error.
    refused = create_photo.sync_detailed(
        client=client, body=PhotoCreate.from_dict({"name": "x", "exif": {"note": "a\x00b"}}))
    assert refused.status_code == 400
    assert isinstance(refused.parsed, Error) and refused.parsed.code == 400
    assert "exif" in refused.parsed.errors.to_dict()

    updated = update_photo.sync(client=client, photo_id=created.id,
                                body=PhotoUpdate(name="Front slope, hail damage"))
    assert isinstance(updated, PhotoDetail) and updated.name == "Front slope, hail damage"

    second = create_photo.sync(client=client, body=PhotoCreate(name="Porch"))
    renewed = renew_upload_url.sync(client=client, photo_id=second.id)
    assert isinstance(renewed, UploadPolicy) and renewed.url

    assert delete_photo.sync_detailed(client=client, photo_id=created.id).status_code == 204
    missing = get_photo.sync_detailed(client=client, photo_id=created.id)
    assert missing.status_code == 404 and isinstance(missing.parsed, Error)


def test_python_sdk_runs_a_resumed_upload(python_sdk, server, company):
    """A file in two parts: the first sent, the connection lost, the status read, the rest sent."""
    from photoservice_sdk import AuthenticatedClient
    from photoservice_sdk.api.photos import (
        abort_multipart_upload, create_photo, finalize_photo_upload, get_multipart_part_urls,
        get_multipart_upload, start_multipart_upload)
    from photoservice_sdk.models import (
        Error, MultipartStart, MultipartStatus, MultipartUpload, PartNumbers, PartUrls, Photo,
        PhotoCreate)

    client = AuthenticatedClient(base_url=server.url, token=role_key(company, "crew"))
    created = create_photo.sync(client=client, body=PhotoCreate(name="Walkaround.jpg"))
    content = JPEG_STUB + b"0" * (MIN_PART_SIZE + 1000 - len(JPEG_STUB))
    started = start_multipart_upload.sync(client=client, photo_id=created.id,
                                          body=MultipartStart(size=len(content)))
    assert isinstance(started, MultipartUpload) and started.part_count == 2, started

    def send(numbers):
        urls = get_multipart_part_urls.sync(client=client, photo_id=created.id,
                                            body=PartNumbers(part_numbers=numbers))
        assert isinstance(urls, PartUrls), urls
        for part in urls.parts:
            body = content[(part.part_number - 1) * started.part_size:][:part.size]
            assert requests.put(part.url, data=body, headers=part.headers.to_dict(),
                                timeout=60).status_code == 200

    send([1])
    status = get_multipart_upload.sync(client=client, photo_id=created.id)
    assert isinstance(status, MultipartStatus)
    received = {part.part_number for part in status.received}
    assert received == {1}
    send([n for n in range(1, status.part_count + 1) if n not in received])
    finalized = finalize_photo_upload.sync(client=client, photo_id=created.id)
    assert isinstance(finalized, Photo) and finalized.size == len(content), finalized

    second = create_photo.sync(client=client, body=PhotoCreate(name="Porch"))
    start_multipart_upload.sync(client=client, photo_id=second.id, body=MultipartStart(size=10))
    incomplete = finalize_photo_upload.sync_detailed(client=client, photo_id=second.id)
    assert incomplete.status_code == 409 and isinstance(incomplete.parsed, Error)
    assert incomplete.parsed.missing_parts == [1] and incomplete.parsed.wrong_size_parts == []
    assert abort_multipart_upload.sync_detailed(client=client, photo_id=second.id).status_code == 204


def test_python_sdk_manages_webhooks(python_sdk, server, company):
    from photoservice_sdk import AuthenticatedClient
    from photoservice_sdk.api.webhooks import (
        create_webhook_endpoint, delete_webhook_endpoint, get_webhook_endpoint,
        list_webhook_deliveries, list_webhook_endpoints, redeliver_webhook_delivery,
        rotate_webhook_secret, update_webhook_endpoint)
    from photoservice_sdk.models import (
        DeliveryPage, Error, WebhookEndpoint, WebhookEndpointCreate, WebhookEndpointUpdate,
        WebhookEndpointWithSecret)

    client = AuthenticatedClient(base_url=server.url, token=role_key(company, "owner"))
    created = create_webhook_endpoint.sync(client=client, body=WebhookEndpointCreate.from_dict(
        {"url": "https://127.0.0.1:9/photos", "events": ["photo.uploaded"]}))
    assert isinstance(created, WebhookEndpointWithSecret) and created.secret, created

    listed = list_webhook_endpoints.sync(client=client)
    assert [endpoint.id for endpoint in listed] == [created.id]
    assert isinstance(get_webhook_endpoint.sync(client=client, webhook_id=created.id),
                      WebhookEndpoint)
    updated = update_webhook_endpoint.sync(client=client, webhook_id=created.id,
                                           body=WebhookEndpointUpdate(description="CRM"))
    assert isinstance(updated, WebhookEndpoint) and updated.description == "CRM"
    rotated = rotate_webhook_secret.sync(client=client, webhook_id=created.id)
    assert isinstance(rotated, WebhookEndpointWithSecret) and rotated.secret != created.secret

    deliveries = list_webhook_deliveries.sync(client=client, webhook_id=created.id)
    assert isinstance(deliveries, DeliveryPage) and deliveries.results == []
    unknown = redeliver_webhook_delivery.sync_detailed(client=client, webhook_id=created.id,
                                                       delivery_id=1)
    assert unknown.status_code == 404 and isinstance(unknown.parsed, Error)

    assert delete_webhook_endpoint.sync_detailed(client=client, webhook_id=created.id) \
        .status_code == 204


def node_tools():
    """openapi-typescript and tsc from the pinned package.json, installed once into .dev/."""
    wanted = (SDK_DIR / "package.json").read_text()
    installed = NODE_CACHE / "package.json"
    bin_dir = NODE_CACHE / "node_modules" / ".bin"
    if not (installed.exists() and installed.read_text() == wanted
            and (bin_dir / "tsc").exists() and (bin_dir / "openapi-typescript").exists()):
        NODE_CACHE.mkdir(parents=True, exist_ok=True)
        installed.write_text(wanted)
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--no-package-lock"],
                       cwd=NODE_CACHE, check=True, capture_output=True, timeout=300)
    return bin_dir


@pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed")
def test_typescript_types_compile_and_run_the_flow(document, server, company, tmp_path):
    bin_dir = node_tools()
    work = tmp_path / "ts"
    work.mkdir()
    subprocess.run([str(bin_dir / "openapi-typescript"), str(document), "-o",
                    str(work / "schema.d.ts")], check=True, capture_output=True, timeout=120)
    shutil.copy(SDK_DIR / "flow.ts", work / "flow.ts")
    (work / "tsconfig.json").write_text(json.dumps({"compilerOptions": {
        "strict": True, "target": "ES2022", "module": "ES2022", "moduleResolution": "bundler",
        "lib": ["ES2022", "DOM"], "outDir": "out", "skipLibCheck": False}, "files": ["flow.ts"]}))
    compiled = subprocess.run([str(bin_dir / "tsc"), "-p", str(work)], capture_output=True,
                              text=True, timeout=120)
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    (work / "out" / "package.json").write_text('{"type": "module"}')

    ran = subprocess.run(["node", str(work / "out" / "flow.js"), server.url,
                          role_key(company, "crew")], capture_output=True, text=True, timeout=60)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert ran.stdout.strip() == "create upload finalize get list 400 resumed"
