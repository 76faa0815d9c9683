"""Development services.

    python -m devstack s3 [--dir .dev/s3] [--port 8333] [--bucket photos]
                          [--cors-origins ORIGINS] [--public-url URL]
    python -m devstack credentials [--dir .dev/s3] [--webhook-keys .dev/webhook-secret-keys]
    python -m devstack postgres [--dir .dev/postgres] [--port 5433] [--database photoservice]
                                [--ensure | -- COMMAND ...]
    python -m devstack redis [--dir .dev/redis] [--port 6380] [--no-persist]

`s3` gives the bucket the CORS rule browsers need (photoservice.store_cors): pages
on --cors-origins and on --public-url (the origin serving /app/) may upload there.

`s3`, `postgres` and `redis` run their server in the foreground until SIGTERM/SIGINT
(e.g. from honcho), and stop it within a few seconds.

`credentials` only creates the S3 credentials, so the web process finds them even
if it starts before `s3`. They live in <dir>/credentials.json, created once; the
Flask app reads the same file (.dev/s3/credentials.json) as its dev default. It
also creates the Fernet key that encrypts webhook signing secrets at rest
(WEBHOOK_SECRET_KEYS), once, in .dev/webhook-secret-keys (beside <dir>), which
the app reads as its dev default too: without a key the app refuses to start.

`postgres --ensure` creates the cluster and the database, then stops the server;
`postgres -- COMMAND ...` runs COMMAND (e.g. the migrations) while the server is up,
with DATABASE_URL set to it, then stops the server and exits with COMMAND's code.
"""
import argparse
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

from devstack.postgres import DEV_POSTGRES_DIR, DEV_POSTGRES_PORT, EmbeddedPostgres
from devstack.redis_server import DEV_REDIS_DIR, DEV_REDIS_PORT, EmbeddedRedis
from devstack.seaweed import DEV_S3_DIR, SeaweedS3, load_dev_credentials
from photoservice import store_cors


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


def ensure_webhook_secret_keys(path):
    """Return the stored Fernet key for webhook secrets, generating it on first use."""
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # O_EXCL + 0600, as the S3 credentials: a key is never replaced (secrets
            # sealed with it would be lost) nor readable by other accounts.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # made meanwhile by another run
        else:
            with os.fdopen(fd, "w") as f:
                f.write(Fernet.generate_key().decode() + "\n")
    return path.read_text().strip()


def run_s3(args):
    access_key, secret_key = ensure_credentials(args.dir)
    if args.command == "credentials":
        keys = args.webhook_keys or args.dir.parent / "webhook-secret-keys"
        ensure_webhook_secret_keys(keys)
        print(f"S3 credentials in {args.dir.resolve() / 'credentials.json'}, "
              f"webhook secret key in {keys.resolve()}")
        return 0
    origins = store_cors.store_origins(
        [origin.strip() for origin in args.cors_origins.split(",") if origin.strip()], args.public_url)
    server = SeaweedS3(args.dir.resolve(), access_key, secret_key,
                       bucket=args.bucket, s3_port=args.port, cors=store_cors.bucket_cors(origins))

    def announce(srv):
        print(f"S3 listening on {srv.endpoint_url} (bucket {srv.bucket!r}, "
              f"credentials in {srv.data_dir / 'credentials.json'}; "
              f"browsers allowed from {', '.join(origins)})", flush=True)

    return server.run_foreground(on_ready=announce)


def run_postgres(args):
    server = EmbeddedPostgres(args.dir, port=args.port, database=args.database,
                              os_user=args.os_user)

    def announce(srv):
        print(f"PostgreSQL {srv.url} ready (data in {srv.pgdata}, log {srv.log_path})",
              flush=True)

    command = args.run[1:] if args.run[:1] == ["--"] else args.run
    if not (args.ensure or command):
        return server.run_foreground(on_ready=announce)
    try:
        with server:
            announce(server)
            if not command:
                return 0
            try:
                return subprocess.run(command, env={**os.environ, "DATABASE_URL": server.url}).returncode
            except FileNotFoundError as error:
                print(error, file=sys.stderr)
                return 127
    except KeyboardInterrupt:
        return 130


def run_redis(args):
    server = EmbeddedRedis(args.dir, port=args.port, persist=args.persist)

    def announce(srv):
        persistence = f"append-only file in {srv.directory}" if srv.persist else "no persistence"
        print(f"Redis {srv.url} ready ({persistence}, log {srv.log_path})", flush=True)

    return server.run_foreground(on_ready=announce)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m devstack")
    commands = parser.add_subparsers(dest="command", required=True)
    s3 = commands.add_parser("s3", help="run the development S3 store (SeaweedFS)")
    creds = commands.add_parser("credentials", help="create the S3 credentials if missing")
    for command in (s3, creds):
        command.add_argument("--dir", type=Path, default=DEV_S3_DIR,
                             help="data directory (default: .dev/s3 in the repository root)")
        command.set_defaults(run_command=run_s3)
    creds.add_argument("--webhook-keys", type=Path, default=None,
                       help="the Fernet key for webhook secrets (default: webhook-secret-keys "
                            "beside --dir, i.e. .dev/webhook-secret-keys)")
    s3.add_argument("--port", type=int, default=8333, help="S3 port on 127.0.0.1")
    s3.add_argument("--bucket", default="photos")
    s3.add_argument("--cors-origins", default="",
                    help="comma-separated origins (CORS_ORIGINS) whose pages may upload to the bucket")
    s3.add_argument("--public-url", default="http://127.0.0.1:5000",
                    help="the origin serving /app/ (PUBLIC_URL), allowed too (default: %(default)s)")

    postgres = commands.add_parser("postgres", help="run the development PostgreSQL server")
    postgres.add_argument("--dir", type=Path, default=DEV_POSTGRES_DIR,
                          help="cluster directory (default: .dev/postgres in the repository root)")
    postgres.add_argument("--port", type=int, default=DEV_POSTGRES_PORT,
                          help=f"port on 127.0.0.1 (default: {DEV_POSTGRES_PORT})")
    postgres.add_argument("--database", default="photoservice",
                          help="database created if missing (default: photoservice)")
    postgres.add_argument("--os-user", default="nobody",
                          help="as root, the account the server runs as (default: nobody)")
    postgres.add_argument("--ensure", action="store_true",
                          help="create the cluster and the database, then stop")
    postgres.add_argument("run", nargs=argparse.REMAINDER, metavar="-- COMMAND",
                          help="run COMMAND with DATABASE_URL set while the server is up")
    postgres.set_defaults(run_command=run_postgres)

    redis = commands.add_parser("redis", help="run the development Redis server")
    redis.add_argument("--dir", type=Path, default=DEV_REDIS_DIR,
                       help="data directory (default: .dev/redis in the repository root)")
    redis.add_argument("--port", type=int, default=DEV_REDIS_PORT,
                       help=f"port on 127.0.0.1 (default: {DEV_REDIS_PORT})")
    redis.add_argument("--no-persist", dest="persist", action="store_false",
                       help="keep no append-only file (data is lost on stop)")
    redis.set_defaults(run_command=run_redis)

    args = parser.parse_args(argv)
    try:
        return args.run_command(args)
    except RuntimeError as error:  # e.g. the port is taken: the log tail says so
        print(error, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
