"""The trickle: --rate photos a second for --seconds, then the drain until every photo
is processed; the monitor checks the stack's processes all along.
"""
import time
from concurrent.futures import ThreadPoolExecutor

MAX_INFLIGHT = 8           # photos being created/uploaded/finalized at once
RECHECK_EVERY = 3.0        # seconds between reads of a photo not yet processed


def traffic(soak, monitor, args, report):
    """The trickle for args.seconds, then the drain; monitor checks all along."""
    pool = ThreadPoolExecutor(max_workers=MAX_INFLIGHT + 4, thread_name_prefix="soak")
    creating, checking = set(), set()
    interval = 1 / args.rate
    started = time.monotonic()
    deadline = started + args.seconds
    next_photo, next_check = started, started
    n = 0

    def submit(kind, function, *call_args):
        future = pool.submit(function, *call_args)
        kind.add(future)
        future.add_done_callback(kind.discard)

    try:
        for _ in range(int(args.seconds * 100) + 100):  # ticks of >= 10 ms
            now = time.monotonic()
            if now >= next_check:
                monitor.check()
                next_check = now + args.check_interval
            if now >= deadline:
                break
            if now >= next_photo:
                if len(creating) < MAX_INFLIGHT:
                    submit(creating, soak.one_photo, n)
                    n += 1
                else:
                    soak.count("lagged")
                next_photo += interval
                if next_photo < now - 1:  # far behind: do not burst to catch up
                    next_photo = now
            for photo in soak.take_due(now):
                if len(checking) < MAX_INFLIGHT:
                    submit(checking, soak.check, photo, RECHECK_EVERY)
                else:
                    soak.schedule(photo, 0.5)
            time.sleep(max(0.01, min(next_photo, next_check, deadline) - time.monotonic()))
        report["sent_seconds"] = time.monotonic() - started

        # In-flight photos finish (each request is bounded), then every photo is read
        # back until done or the drain time is up.
        drain_deadline = time.monotonic() + args.drain_seconds
        for _ in range(int(args.drain_seconds * 20) + 20):  # ticks of >= 50 ms
            now = time.monotonic()
            if now >= next_check:
                monitor.check()
                next_check = now + args.check_interval
            if not creating and not checking and all(
                    p.final or not p.uploaded for p in soak.photos):
                break
            if now > drain_deadline:
                break
            for photo in soak.take_due(now):
                if len(checking) < MAX_INFLIGHT:
                    submit(checking, soak.check, photo, 1.0)
                else:
                    soak.schedule(photo, 0.2)
            time.sleep(0.05)
        report["drain_seconds"] = time.monotonic() - started - report["sent_seconds"]
    finally:
        report["sent_seconds"] = report["sent_seconds"] or time.monotonic() - started
        pool.shutdown(wait=True, cancel_futures=True)
