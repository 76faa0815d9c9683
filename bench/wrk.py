"""Run wrk and read its figures."""
import re
import subprocess

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text):
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * UNITS[unit]


def run(url, script, args, seconds=10, connections=8, threads=2):
    """Requests done, requests/s, p50 and p99 latency (ms) and non-2xx count of one wrk run."""
    done = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script,
         url, "--", *map(str, args)], capture_output=True, text=True, check=True)
    out = done.stdout
    if "Requests/sec" not in out or "99%" not in out:
        raise RuntimeError(f"wrk gave no figures:\n{out}\n{done.stderr}")
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", out, re.MULTILINE))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": _ms(percentiles["50"]),
        "p99": _ms(percentiles["99"]),
        "errors": int(errors.group(1)) if errors else 0,
        "socket_errors": "Socket errors" in out,
    }
