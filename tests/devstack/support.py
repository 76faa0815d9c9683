"""Helpers for the tests of the development servers."""
import os
from pathlib import Path


def pgrep(pattern):
    """Pids of live processes whose command line contains `pattern`, like `pgrep -f`
    (which a fresh machine may lack)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if pattern in command and state != "Z":
            found.append(int(entry.name))
    return found
