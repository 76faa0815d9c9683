"""`python -m bench.soak`: the options, then each step in turn (see bench/soak/__init__.py)."""
import argparse
import os
import signal
import subprocess
import sys
import time

import requests

from bench import soak as package
from bench.private_clone import run as run_in_private_clone
from bench.soak.client import Soak
from bench.soak.logs import check_log, log_sizes, server_log_notes, weed_stop_warning
from bench.soak.photos import Image
from bench.soak.stack import (
    DEV_DIR, DEV_PORTS, FLOWER, LOG_PATH, ROOT, DevLog, SoakFailure, clean_environment,
    port_in_use, seed_users, wait_ready)
from bench.soak.summary import summarize
from bench.soak.traffic import traffic
from bench.soak.watch import Monitor, ProcessWatch, rss_by_process, stack_processes, stop_stack


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.soak",
                                     description=package.__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("SOAK_SECONDS", 300)),
                        help="how long to send photos (default: SOAK_SECONDS or 300)")
    parser.add_argument("--rate", type=float, default=2.0, help="photos a second (default 2)")
    parser.add_argument("--fresh", action="store_true",
                        help="`make clean` first (all dev data!) to time a first start")
    parser.add_argument("--private-clone", action="store_true",
                        help="run from a fresh clone of HEAD in a 0700 directory (as root: "
                             "/root/photoservice-soak-*/app), then check that `make clean` "
                             "there leaves nothing (bench/private_clone.py)")
    parser.add_argument("--start-timeout", type=float, default=300,
                        help="seconds `make dev` may take to be ready (default 300)")
    parser.add_argument("--drain-seconds", type=float, default=60,
                        help="seconds to wait at the end for photos to be processed (default 60)")
    parser.add_argument("--check-interval", type=float, default=2,
                        help="seconds between checks that every process is alive (default 2)")
    args = parser.parse_args(argv)
    if not (0 < args.rate <= 20 and 0 < args.seconds <= 86400):
        parser.error("--rate must be in (0, 20], --seconds in (0, 86400]")
    if args.private_clone:
        return run_in_private_clone([arg for arg in (argv if argv is not None else sys.argv[1:])
                    if arg != "--private-clone"], ROOT)
    os.chdir(ROOT)

    busy = {name: port for name, port in DEV_PORTS.items() if port_in_use(port)}
    leftovers = stack_processes()
    if busy or leftovers:
        print(f"soak: the dev stack's ports are taken ({busy}) or its processes run "
              f"({leftovers}): stop that `make dev` first.", file=sys.stderr)
        return 2
    if args.fresh:
        subprocess.run(["make", "-s", "clean"], cwd=ROOT, check=True)
    first = not DEV_DIR.exists() or not any(DEV_DIR.iterdir())
    sizes = log_sizes()

    def interrupted(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, interrupted)
    # Ctrl-C works even if we were started with SIGINT ignored (a background job of a
    # shell): then `make dev` also starts with the default, as from a terminal.
    signal.signal(signal.SIGINT, signal.default_int_handler)

    report = {"start": "first" if first else "restart", "start_seconds": None,
              "stop_seconds": None, "sent_seconds": 0.0, "drain_seconds": 0.0}
    problems, soak, rss = [], None, {}
    LOG_PATH.parent.mkdir(parents=True, exist_ok=True)
    print(f"soak: starting `make dev` ({report['start']} start), log in {LOG_PATH}", flush=True)
    with open(LOG_PATH, "wb") as out:
        make = subprocess.Popen(["make", "dev"], cwd=ROOT, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, env=clean_environment(),
                                start_new_session=True)  # setsid: its own process group
    log, watch = DevLog(LOG_PATH), ProcessWatch(make.pid)
    try:
        report["start_seconds"] = wait_ready(make, log, args.start_timeout)
        print(f"soak: ready in {report['start_seconds']:.1f} s", flush=True)
        for _ in range(240):  # the worker may connect after the web is ready
            log.poll()
            if log.worker_ready:
                break
            time.sleep(0.25)
        else:
            problems.append("the Celery worker never said it was ready")
        try:
            flower = requests.get(FLOWER + "/healthcheck", timeout=5)
            if flower.status_code != 200:
                problems.append(f"flower /healthcheck: HTTP {flower.status_code}")
        except requests.RequestException as error:
            problems.append(f"flower /healthcheck: {type(error).__name__}")
        users = seed_users()
        watch.snapshot()
        rss["start"] = rss_by_process(log.started)
        soak = Soak(args, users)
        print(f"soak: {args.rate:g} photos/s for {args.seconds:g} s over {len(users)} API keys "
              f"({'Pillow' if Image else 'fixed'} JPEGs)", flush=True)
        traffic(soak, Monitor(make, log, watch), args, report)
        rss["end"] = rss_by_process(log.started)
    except SoakFailure as failure:
        problems.append(str(failure))
        report["aborted"] = True
    except KeyboardInterrupt:
        problems.append("interrupted")
        report["aborted"] = True
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not skip the stop
        print("soak: stopping the stack (SIGINT to its process group)", flush=True)
        problems += stop_stack(make, watch, log, report)
        signal.signal(signal.SIGINT, signal.default_int_handler)
    errors, log_problems = check_log(log, log.started)
    problems += log_problems
    notes = server_log_notes(sizes)
    warnings = [w for w in (weed_stop_warning(sizes),) if w]
    return summarize(args, report, soak, problems, warnings, errors, notes, rss, log)


if __name__ == "__main__":
    sys.exit(main())
