"""Development services.

    python -m devstack s3 [--dir .dev/s3] [--port 8333] [--bucket photos]
    python -m devstack credentials [--dir .dev/s3]

`s3` runs SeaweedFS in the foreground until SIGTERM/SIGINT (e.g. from honcho).
`credentials` only creates the credentials, so the web process finds them even
if it starts before `s3`. They live in <dir>/credentials.json, created once; the
Flask app reads the same file (.dev/s3/credentials.json) as its dev default.
"""
import argparse
import json
import os
import secrets
import sys
from pathlib import Path

from devstack.seaweed import DEV_S3_DIR, SeaweedS3, load_dev_credentials


def ensure_credentials(directory):
    """Return the stored (access_key, secret_key), generating them on first use."""
    directory = Path(directory)
    existing = load_dev_credentials(directory)
    if existing:
        return existing
    directory.mkdir(parents=True, exist_ok=True)
    keys = {"access_key": secrets.token_hex(10), "secret_key": secrets.token_hex(20)}
    # O_EXCL + 0600: never clobber existing keys, never make them world-readable.
    fd = os.open(directory / "credentials.json", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(keys, f, indent=2)
    return keys["access_key"], keys["secret_key"]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m devstack")
    commands = parser.add_subparsers(dest="command", required=True)
    s3 = commands.add_parser("s3", help="run the development S3 store (SeaweedFS)")
    creds = commands.add_parser("credentials", help="create the S3 credentials if missing")
    for command in (s3, creds):
        command.add_argument("--dir", type=Path, default=DEV_S3_DIR,
                             help="data directory (default: .dev/s3 in the repository root)")
    s3.add_argument("--port", type=int, default=8333, help="S3 port on 127.0.0.1")
    s3.add_argument("--bucket", default="photos")
    args = parser.parse_args(argv)

    access_key, secret_key = ensure_credentials(args.dir)
    if args.command == "credentials":
        print(f"S3 credentials in {args.dir.resolve() / 'credentials.json'}")
        return 0
    server = SeaweedS3(args.dir.resolve(), access_key, secret_key,
                       bucket=args.bucket, s3_port=args.port)

    def announce(srv):
        print(f"S3 listening on {srv.endpoint_url} (bucket {srv.bucket!r}, "
              f"credentials in {srv.data_dir / 'credentials.json'})", flush=True)

    try:
        return server.run_foreground(on_ready=announce)
    except RuntimeError as error:  # e.g. the port is taken: the log tail says so
        print(error, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
