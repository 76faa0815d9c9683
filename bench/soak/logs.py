"""What the logs say after the run: error lines and unclean stops in the `make dev`
log, error-like lines in the servers' own logs, and a weed that had to be killed.
"""
import re

from bench.soak.stack import DEV_DIR, LOG_PATH

# Lines that fail the soak wherever they appear in the `make dev` log: Python's and
# gunicorn's ERROR/CRITICAL levels, Celery's "…: ERROR/MainProcess]", tracebacks.
ERROR_LINE = re.compile(r" ERROR |\[ERROR\]|: ERROR/|\bCRITICAL\b|Traceback")


def check_log(log, names):
    """Problems in the `make dev` log: error lines, and processes that did not stop
    cleanly when asked to."""
    lines = log.lines()
    errors = [line for line in lines if ERROR_LINE.search(line)]
    problems = []
    if errors:
        problems.append(f"{len(errors)} error lines in {LOG_PATH}, the first ones:\n  "
                        + "\n  ".join(errors[:15]))
    log.poll()
    unclean = {name: rc for name, rc in log.stopped.items() if rc != 0}
    if unclean:
        problems.append(f"stopped with a non-zero code: {unclean}")
    killed = [line for line in lines if "sending SIGKILL" in line]
    if killed:
        problems.append("honcho had to kill: " + "; ".join(killed))
    missing = sorted(set(names) - set(log.stopped))
    if missing:
        problems.append(f"no 'stopped' line for {missing}")
    return errors, problems


SERVER_LOGS = {  # log, pattern of lines worth reporting
    "postgres": (DEV_DIR / "postgres" / "postgres.log", re.compile(r"\b(ERROR|FATAL|PANIC):")),
    "redis": (DEV_DIR / "redis" / "redis.log",
              re.compile(r"^\d+:[A-Z] .* # .*(WARNING|[Ee]rror|[Ff]ail)")),
    "s3": (DEV_DIR / "s3" / "weed.log", re.compile(r"^[EF]\d{4} ")),
}
# What servers log on every start and stop: a probe before PostgreSQL accepts
# connections, and the sessions a fast shutdown ends.
EXPECTED_SERVER_LINES = re.compile(r"the database system is (starting up|shutting down)|"
                                   r"terminating connection due to administrator command")


def log_sizes():
    return {name: (path.stat().st_size if path.exists() else 0)
            for name, (path, _) in SERVER_LOGS.items()}


def server_log_notes(sizes):
    """Lines of the servers' own logs written during the soak that look like errors."""
    notes = {}
    for name, (path, pattern) in SERVER_LOGS.items():
        try:
            with open(path, "rb") as f:
                f.seek(sizes.get(name, 0))
                text = f.read().decode(errors="replace")
        except OSError:
            continue
        found = [line for line in text.splitlines()
                 if pattern.search(line) and not EXPECTED_SERVER_LINES.search(line)]
        if found:
            notes[name] = found
    return notes


def weed_stop_warning(sizes):
    """weed lists each server it stopped, the volume server last; a list cut short means
    the devstack s3 runner killed it when its grace period ran out."""
    path = SERVER_LOGS["s3"][0]
    try:
        with open(path, "rb") as f:
            f.seek(sizes.get("s3", 0))
            text = f.read().decode(errors="replace")
    except OSError:
        return None
    if "Shutting down SeaweedFS" not in text:
        return f"weed logged no shutdown in {path}: killed?"
    listed = text.rsplit("Shutting down SeaweedFS", 1)[1]
    if re.search(r"^\s*Volume\s+stopped", listed, re.M):
        return None
    return (f"weed did not finish its shutdown, so it was killed (grace period of the "
            f"devstack s3 runner); {path} ends: " + " | ".join(
                line.strip() for line in listed.splitlines() if line.strip()))
