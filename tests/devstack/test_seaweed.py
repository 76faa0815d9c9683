"""Tests for devstack.seaweed against real `weed mini` processes."""
import signal
import socket
import stat

import pytest
import requests

from devstack.__main__ import ensure_credentials, main
from devstack.seaweed import SeaweedS3, free_port, load_dev_credentials

POLICY = dict(
    Fields={"Content-Type": "image/jpeg"},
    Conditions=[["content-length-range", 1, 1000], ["starts-with", "$Content-Type", "image/"]],
    ExpiresIn=300,
)


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    """One shared server: starting takes ~1 s, a clean stop a few more."""
    with SeaweedS3(tmp_path_factory.mktemp("s3"), "testkey", "testsecret") as server:
        yield server


def post_file(s3, key, content, content_type=None):
    """Upload `content` the way a browser would, through a presigned POST form."""
    post = s3.client().generate_presigned_post(s3.bucket, key, **POLICY)
    fields = dict(post["fields"])
    if content_type:
        fields["Content-Type"] = content_type
    return requests.post(post["url"], data=fields, files={"file": ("f.jpg", content)}, timeout=10)


def key_exists(s3, key):
    return s3.client().list_objects_v2(Bucket=s3.bucket, Prefix=key)["KeyCount"] > 0


def test_put_and_get_object(s3):
    client = s3.client()
    client.put_object(Bucket=s3.bucket, Key="hello.txt", Body=b"hello")
    assert client.get_object(Bucket=s3.bucket, Key="hello.txt")["Body"].read() == b"hello"


def test_presigned_post_accepts_small_image(s3):
    response = post_file(s3, "small.jpg", b"\xff\xd8" + b"x" * 100)
    assert response.status_code == 204, response.text
    head = s3.client().head_object(Bucket=s3.bucket, Key="small.jpg")
    assert (head["ContentLength"], head["ContentType"]) == (102, "image/jpeg")


def test_presigned_post_rejects_oversize_file(s3):
    response = post_file(s3, "big.jpg", b"x" * 2000)
    assert 400 <= response.status_code < 500, response.text
    assert not key_exists(s3, "big.jpg")


def test_presigned_post_rejects_wrong_content_type(s3):
    response = post_file(s3, "page.html", b"<html>", content_type="text/html")
    assert 400 <= response.status_code < 500, response.text
    assert not key_exists(s3, "page.html")


def test_second_instance_runs_alongside_and_stop_frees_port(s3, tmp_path):
    other = SeaweedS3(tmp_path, "otherkey", "othersecret").start()
    try:
        assert other.s3_port != s3.s3_port
        other.client().put_object(Bucket=other.bucket, Key="only-here", Body=b"1")
        assert key_exists(other, "only-here") and not key_exists(s3, "only-here")
    finally:
        other.stop()
    with socket.socket() as sock:  # nothing listens any more, and the port can be reused
        assert sock.connect_ex(("127.0.0.1", other.s3_port)) != 0
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", other.s3_port))
    assert other.process is None


def test_start_failure_reports_log_tail(tmp_path):
    port = free_port()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", port))
        busy.listen()
        server = SeaweedS3(tmp_path, "k", "s", s3_port=port)
        with pytest.raises(RuntimeError, match="weed") as error:
            server.start(timeout=15)
    assert str(server.log_path) in str(error.value)
    assert server.process is None


def test_free_port_pairs_are_bindable():
    port = free_port()
    assert port < 55000
    for p in (port, port + 10000):
        with socket.socket() as sock:  # bound the way weed (Go) binds: SO_REUSEADDR
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", p))


def test_dev_credentials_created_once_with_mode_0600(tmp_path):
    assert load_dev_credentials(tmp_path) is None
    assert main(["credentials", "--dir", str(tmp_path)]) == 0  # what `make dev` runs
    keys = load_dev_credentials(tmp_path)
    assert ensure_credentials(tmp_path) == keys and len(keys[1]) == 40
    assert stat.S_IMODE((tmp_path / "credentials.json").stat().st_mode) == 0o600


def test_a_restart_in_the_same_directory_reuses_its_ports(tmp_path):
    """weed names the master's folder after its port: new ports each start would pile
    folders up under .dev/s3."""
    with SeaweedS3(tmp_path, "k", "s") as first:
        ports = dict(first.ports)
    with SeaweedS3(tmp_path, "k", "s", s3_port=ports["s3"]) as second:
        assert second.ports == ports
        assert second.client().list_buckets()["Buckets"]
    assert len([p for p in tmp_path.iterdir() if p.name.startswith("m") and p.name[1:].isdigit()]) <= 1


def test_the_dev_store_lets_the_desk_and_cors_origins_upload(foreground, tmp_path):
    """`make dev`'s store: pages on CORS_ORIGINS and PUBLIC_URL may send files to the bucket."""
    port = free_port()
    server = foreground("s3", "--dir", tmp_path, "--port", port,
                        "--cors-origins", "https://office.example", "--public-url", "http://127.0.0.1:5000")
    line = server.process.stdout.readline()
    assert "browsers allowed from https://office.example, http://127.0.0.1:5000" in line, line
    for origin, allowed in (("http://127.0.0.1:5000", True), ("https://office.example", True),
                            ("https://evil.example", False)):
        answer = requests.options(f"http://127.0.0.1:{port}/photos/key.jpg", timeout=10,
                                  headers={"Origin": origin, "Access-Control-Request-Method": "POST"})
        assert (answer.headers.get("Access-Control-Allow-Origin") == origin) is allowed, origin
    assert server.signal_and_time_exit(signal.SIGTERM)[0] == 0
