"""The soak's summary: counts, latencies, memory, the stop, warnings and failures; the
last line is key=value pairs. Its return value is the exit code.
"""
import math

from bench.soak.logs import SERVER_LOGS
from bench.soak.traffic import MAX_INFLIGHT

def percentile(values, fraction):
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]


def summarize(args, report, soak, problems, warnings, errors, notes, rss, log):
    counts = soak.counts if soak else {}
    latency = soak.latency if soak else {}
    flow = [v for kind in ("create", "upload", "finalize") for v in latency.get(kind, [])]
    # After an abort, what the traffic saw of the stack going down is only noted.
    traffic_problems = notes.setdefault("traffic after the failure", []) if report.get("aborted") \
        else problems
    if soak:
        unfinished = [p.id for p in soak.photos if p.uploaded and not p.final]
        not_uploaded = counts["photos"] - counts["uploaded"]
        expected = int(args.rate * args.seconds)
        if unfinished:
            traffic_problems.append(
                f"{len(unfinished)} photos not processed after the drain, e.g. {unfinished[:10]}")
        if not_uploaded:
            traffic_problems.append(f"{not_uploaded} photos created but not uploaded and finalized")
        if counts["errors"]:
            traffic_problems.append(f"{counts['errors']} request errors:\n  "
                                    + "\n  ".join(soak.messages))
        if counts["photos"] < 0.9 * expected:
            traffic_problems.append(
                f"only {counts['photos']} photos created of the {expected} planned "
                f"({counts['lagged']} slots skipped with {MAX_INFLIGHT} in flight)")

    print("\n== soak summary ==")
    start = report["start_seconds"]
    migrated = f" (honcho started after {log.honcho_after:.1f} s)" if log.honcho_after else ""
    print(f"start ({report['start']}): "
          + (f"{start:.1f} s to /readyz 200{migrated}" if start else "not ready"))
    if soak:
        print(f"photos: {counts['photos']} created in {report['sent_seconds']:.0f} s, "
              f"{counts['uploaded']} uploaded+finalized, {counts['processed']} processed, "
              f"{counts['failed']} failed; drain {report['drain_seconds']:.1f} s")
        print(f"checks: {counts['located']} located, {counts['dated']} dated from exif; "
              f"{counts['checks']} reads; throttled {counts['throttled']}; "
              f"errors {counts['errors']}")
        for kind, values in latency.items():
            if values:
                print(f"latency {kind:8}: n={len(values)} p50 {percentile(values, .5):.0f} ms, "
                      f"p99 {percentile(values, .99):.0f} ms, max {max(values):.0f} ms")
        if soak.lag_ms:
            print(f"processing (processed_at - created_at): "
                  f"p50 {percentile(soak.lag_ms, .5):.0f} ms, "
                  f"p99 {percentile(soak.lag_ms, .99):.0f} ms, max {max(soak.lag_ms):.0f} ms")
    if rss.get("start"):
        end = rss.get("end", {})
        print("resident memory, MB at the start -> end (children included): " + ", ".join(
            f"{name} {mb:.0f} -> {end[name]:.0f}" if name in end else f"{name} {mb:.0f}"
            for name, mb in rss["start"].items()))
    if report["stop_seconds"] is not None:
        each = ", ".join(f"{name} {seconds:.1f}" for name, seconds in
                         sorted(report.get("stopped_after", {}).items(), key=lambda i: i[1]))
        print(f"stop: {report['stop_seconds']:.2f} s after SIGINT (gone after, s: {each}); "
              f"exit codes: {log.stopped}")
    for name, lines in notes.items():
        if name in SERVER_LOGS:
            print(f"note: {len(lines)} error-like lines in the {name} log during the soak, e.g.:"
                  + "".join(f"\n  {line}" for line in lines[:5]))
        elif lines:
            print(f"note: {name}:" + "".join(f"\n  {line}" for line in lines))
    for warning in warnings:
        print(f"WARN: {warning}")
    for problem in problems:
        print(f"FAIL: {problem}")

    ok = not problems
    fields = {
        "soak_seconds": f"{args.seconds:g}", "rate": f"{args.rate:g}",
        "photos": counts.get("photos", 0), "uploaded": counts.get("uploaded", 0),
        "processed": counts.get("processed", 0), "failed": counts.get("failed", 0),
        "errors": counts.get("errors", 0), "throttled": counts.get("throttled", 0),
        "max_latency_ms": f"{max(flow):.0f}" if flow else "-",
        "p99_latency_ms": f"{percentile(flow, .99):.0f}" if flow else "-",
        "max_processing_ms": f"{max(soak.lag_ms):.0f}" if soak and soak.lag_ms else "-",
        "start": report["start"],
        f"{report['start']}_start_s" if report["start"] == "first" else "restart_s":
            f"{start:.1f}" if start else "-",
        "stop_seconds": "-" if report["stop_seconds"] is None else f"{report['stop_seconds']:.2f}",
        "error_lines": len(errors), "warnings": len(warnings), "ok": int(ok),
    }
    print(" ".join(f"{k}={v}" for k, v in fields.items()), flush=True)
    return 0 if ok else 1
