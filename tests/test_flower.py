"""workers.flower, the Procfile's `flower`: no dashboard of every task without credentials."""
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.servers import free_port
from workers.flower import flower_options, refusal

ROOT = Path(__file__).resolve().parent.parent
FLOWER = [sys.executable, "-m", "workers.flower"]
OAUTH = {"FLOWER_AUTH": r".*@example\.com", "FLOWER_AUTH_PROVIDER": "flower.views.auth.GithubLoginHandler",
         "FLOWER_OAUTH2_KEY": "key", "FLOWER_OAUTH2_SECRET": "secret",
         "FLOWER_OAUTH2_REDIRECT_URI": "https://flower.example.com/login"}


def without_flower_settings(env):
    return {name: value for name, value in env.items() if not name.startswith("FLOWER_")}


@pytest.mark.parametrize("options", [
    {"FLOWER_BASIC_AUTH": "ops:s3cret"},
    {"FLOWER_BASIC_AUTH": "ops:s3cret,oncall:an0ther"},
    OAUTH,
    {"FLOWER_ALLOW_OPEN": "1"},
], ids=["basic", "basic-two-users", "oauth", "private"])
def test_starts_with_credentials_or_when_private(options):
    assert refusal(options) is None


@pytest.mark.parametrize("options, reason", [
    ({}, "FLOWER_BASIC_AUTH=user:password"),
    ({"FLOWER_BASIC_AUTH": "  "}, "FLOWER_ALLOW_OPEN=1"),
    ({"FLOWER_BASIC_AUTH": "ops"}, "user:password pairs"),
    ({"FLOWER_BASIC_AUTH": "ops:"}, "user:password pairs"),
    ({"FLOWER_BASIC_AUTH": "ops:s3cret,:nouser"}, "user:password pairs"),
    ({"FLOWER_AUTH": ".*@example.com"}, "also needs FLOWER_AUTH_PROVIDER, FLOWER_OAUTH2_KEY"),
    ({**OAUTH, "FLOWER_OAUTH2_SECRET": ""}, "also needs FLOWER_OAUTH2_SECRET"),
    ({"FLOWER_ALLOW_OPEN": "0"}, "FLOWER_ALLOW_OPEN=1"),
], ids=["nothing", "blank", "no-password", "empty-password", "empty-user", "oauth-alone",
        "oauth-no-secret", "allow-open-0"])
def test_refuses_without_credentials(options, reason):
    assert reason in refusal(options)


def test_command_line_options_count_as_flower_reads_them():
    options = flower_options({"FLOWER_PORT": "5555", "PATH": "/bin"},
                             ["--port=8000", "--basic-auth=ops:s3cret", "--address=0.0.0.0"])
    assert options == {"FLOWER_PORT": "8000", "FLOWER_BASIC_AUTH": "ops:s3cret",
                       "FLOWER_ADDRESS": "0.0.0.0"}
    assert refusal(options) is None


def test_the_process_exits_non_zero_and_says_why(app_env):
    started = time.monotonic()
    result = subprocess.run([*FLOWER, f"--port={free_port()}"], cwd=ROOT, capture_output=True, text=True,
                            env=without_flower_settings(app_env()), timeout=60)
    assert result.returncode == 2
    assert "flower not started" in result.stderr and "FLOWER_BASIC_AUTH" in result.stderr
    assert time.monotonic() - started < 10  # refused before Celery or the app are loaded


@pytest.mark.slow
def test_with_basic_auth_it_becomes_flower_and_asks_for_credentials(app_env, tmp_path):
    port, log = free_port(), tmp_path / "flower.log"
    env = {**without_flower_settings(app_env()), "FLOWER_BASIC_AUTH": "ops:s3cret"}
    with open(log, "wb") as output:
        flower = subprocess.Popen([*FLOWER, "--address=127.0.0.1", f"--port={port}"], cwd=ROOT,
                                  env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}/"
        for _ in range(300):
            try:
                anonymous = requests.get(url, timeout=5)
                break
            except requests.ConnectionError:
                assert flower.poll() is None, log.read_text()[-2000:]
                time.sleep(0.1)
        assert anonymous.status_code == 401
        assert "Basic" in anonymous.headers["WWW-Authenticate"]
        assert requests.get(url, auth=("ops", "wrong"), timeout=5).status_code == 401
        assert requests.get(url, auth=("ops", "s3cret"), timeout=5).status_code == 200
        command = Path(f"/proc/{flower.pid}/cmdline").read_bytes().split(b"\0")
        assert b"workers.flower:celery_app" in command and b"flower" in command  # exec'd, same pid
    finally:
        flower.terminate()
        flower.wait(15)
