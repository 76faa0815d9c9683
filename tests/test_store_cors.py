"""The store's CORS rule (photoservice.store_cors) and `flask apply-bucket-cors`, against
the suite's SeaweedFS: the origins it names may upload, others are refused."""
import json
import subprocess
import sys
from pathlib import Path

import requests

from photoservice.store_cors import bucket_cors, store_origins

FLASK = str(Path(sys.executable).with_name("flask"))
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def test_the_origins_are_cors_origins_and_the_desk():
    assert store_origins(["https://office.example"], "http://127.0.0.1:5000/") == [
        "https://office.example", "http://127.0.0.1:5000"]
    assert store_origins([], "https://photos.example") == ["https://photos.example"]
    assert store_origins(["https://photos.example"], "https://photos.example") == ["https://photos.example"]
    assert store_origins(["*"], "https://photos.example") == ["*"]


def test_the_rule_allows_uploads_and_exposes_etag():
    (rule,) = bucket_cors(["https://office.example"])["CORSRules"]
    assert {"POST", "PUT", "GET"} <= set(rule["AllowedMethods"]) and rule["ExposeHeaders"] == ["ETag"]


def store_preflight(s3_store, origin, method="POST"):
    return requests.options(f"{s3_store.endpoint_url}/{s3_store.bucket}/some/key.jpg", timeout=10,
                            headers={"Origin": origin, "Access-Control-Request-Method": method,
                                     "Access-Control-Request-Headers": "content-type"})


def test_apply_bucket_cors_gives_the_store_the_rule(app_env, s3_store):
    env = app_env(CORS_ORIGINS="https://office.example", PUBLIC_URL="http://127.0.0.1:5999")
    done = subprocess.run([FLASK, "--app", "wsgi", "apply-bucket-cors"], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"bucket": s3_store.bucket,
                                       "origins": ["https://office.example", "http://127.0.0.1:5999"]}
    for origin in ("https://office.example", "http://127.0.0.1:5999"):
        for method in ("POST", "PUT", "GET"):
            answer = store_preflight(s3_store, origin, method)
            assert answer.status_code == 200, (origin, method)
            assert answer.headers["Access-Control-Allow-Origin"] == origin
            assert "ETag" in answer.headers["Access-Control-Expose-Headers"]
    refused = store_preflight(s3_store, "https://evil.example")
    assert refused.status_code == 403 and "Access-Control-Allow-Origin" not in refused.headers


def test_apply_bucket_cors_fails_cleanly_when_the_store_is_down(app_env):
    env = app_env(S3_ENDPOINT_URL="http://127.0.0.1:9")
    done = subprocess.run([FLASK, "--app", "wsgi", "apply-bucket-cors"], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "Error: The object store is unavailable" in done.stderr
    assert "Traceback" not in done.stderr
