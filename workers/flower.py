"""The Procfile's `flower`: Celery's dashboard, started only behind credentials.

    python -m workers.flower [FLOWER OPTIONS ...]      e.g. --port=$PORT

Flower shows every task's arguments and results (photo ids, webhook payloads), so
wherever it can be reached from outside the machine it must ask who is looking. It
starts only with Flower's own credentials, from the environment or the command line:
basic auth (FLOWER_BASIC_AUTH=user:password, comma-separated for more users) or its
OAuth login (FLOWER_AUTH, the allowed e-mail addresses as a regular expression, with
FLOWER_AUTH_PROVIDER, FLOWER_OAUTH2_KEY, FLOWER_OAUTH2_SECRET and
FLOWER_OAUTH2_REDIRECT_URI); or with FLOWER_ALLOW_OPEN=1, which says that only this
machine can reach it (`make dev` binds it to 127.0.0.1). Otherwise it exits with
code 2 and says why. Once checked, this process becomes
`celery --app workers.flower:celery_app flower` with the same arguments.

Flower watches `celery_app` below: the broker and queues of the app's Celery settings,
without the Flask app, so it needs only REDIS_URL and holds no other secret (no
database URL, no store credentials, no WEBHOOK_SECRET_KEYS).
"""
import os
import shutil
import sys
from pathlib import Path

from celery import Celery

from photoservice import settings

CELERY_APP = "workers.flower:celery_app"
celery_app = Celery("photoservice", set_as_current=False)
celery_app.config_from_object(settings.celery_config(settings.from_environ()))
OAUTH_OPTIONS = ("FLOWER_AUTH_PROVIDER", "FLOWER_OAUTH2_KEY", "FLOWER_OAUTH2_SECRET",
                 "FLOWER_OAUTH2_REDIRECT_URI")
HOW = ("set FLOWER_BASIC_AUTH=user:password (or Flower's OAuth options: FLOWER_AUTH with "
       + ", ".join(OAUTH_OPTIONS) + "), or FLOWER_ALLOW_OPEN=1 if only this machine can reach it")


def flower_options(environ, argv):
    """Flower's options as FLOWER_* names: the environment's, then the command line's
    `--name=value` on top, as Flower itself reads them."""
    options = {name: value for name, value in environ.items() if name.startswith("FLOWER_")}
    for arg in argv:
        name, _, value = arg.lstrip("-").partition("=")
        options["FLOWER_" + name.upper().replace("-", "_")] = value
    return options


def refusal(options):
    """Why Flower must not start with these options, or None."""
    if options.get("FLOWER_ALLOW_OPEN", "").strip() == "1":
        return None
    basic_auth = options.get("FLOWER_BASIC_AUTH", "").strip()
    if basic_auth:
        users = [entry.partition(":") for entry in basic_auth.split(",")]
        if all(user and colon and password for user, colon, password in users):
            return None
        return "FLOWER_BASIC_AUTH must be user:password pairs (non-empty), separated by commas"
    if options.get("FLOWER_AUTH", "").strip():
        missing = [name for name in OAUTH_OPTIONS if not options.get(name, "").strip()]
        if not missing:
            return None
        return f"FLOWER_AUTH (Flower's OAuth login) also needs {', '.join(missing)}"
    return "it would show every task's arguments and results to anyone who reaches it; " + HOW


def celery_command():
    """The `celery` script installed beside this interpreter (a venv's, a slug's)."""
    beside = Path(sys.executable).with_name("celery")
    return str(beside) if beside.exists() else shutil.which("celery") or "celery"


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    reason = refusal(flower_options(os.environ, argv))
    if reason:
        print(f"flower not started: {reason}.", file=sys.stderr)
        return 2
    celery = celery_command()
    os.execvp(celery, [celery, "--app", CELERY_APP, "flower", *argv])


if __name__ == "__main__":
    sys.exit(main())
