"""Data flows one way: routes → schemas → services → models; nothing below imports up.

Read from the source with `ast`, so a new module joins the check by existing.
"""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("photoservice", "workers")


def module_name(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path):
    """Absolute names of the modules a source file imports."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return found


GRAPH = {module_name(path): imports_of(path)
         for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))}


def is_http(module):
    """Modules that speak HTTP: the web package, and each resource's routes and schemas."""
    return (module == "photoservice.web" or module.startswith("photoservice.web.")
            or module.rsplit(".", 1)[-1] in ("routes", "schemas"))


# Who may import HTTP modules: HTTP modules themselves and the app factory.
HTTP_IMPORTERS = {"photoservice"}


def test_the_graph_covers_the_code():
    assert {"photoservice.photos.services", "photoservice.web.auth", "workers.tasks"} <= set(GRAPH)


@pytest.mark.parametrize("module", sorted(m for m in GRAPH if not is_http(m) and m not in HTTP_IMPORTERS))
def test_nothing_below_the_routes_imports_http_modules(module):
    upward = sorted(name for name in GRAPH[module] if name.startswith("photoservice") and is_http(name))
    assert upward == [], f"{module} imports {upward}"


def test_extensions_import_nothing_from_the_app():
    assert not [name for name in GRAPH["photoservice.extensions"] if name.startswith("photoservice")]


def test_the_web_process_never_imports_the_workers():
    assert not [m for m in GRAPH if m.startswith("photoservice")
                and any(name.startswith("workers") for name in GRAPH[m])]


def test_the_check_sees_an_upward_import(tmp_path, monkeypatch):
    bad = ROOT / "photoservice" / "photos" / "services.py"
    imports = imports_of(bad)
    assert "photoservice.photos.models" in imports  # relative imports resolve
    monkeypatch.setattr(Path, "read_text", lambda self: "from ..web.auth import current_caller\n")
    assert "photoservice.web.auth" in imports_of(bad)


def test_the_web_process_loads_no_worker_libraries():
    """Pillow, pillow-heif, timezonefinder and geopy cost the worker tens of MB each;
    the web process (wsgi) must not pay for them."""
    import os
    import subprocess
    import sys

    from cryptography.fernet import Fernet
    code = ("import sys, wsgi; print(sorted(m for m in ('PIL', 'pillow_heif', 'timezonefinder', "
            "'geopy', 'numpy') if m in sys.modules))")
    env = dict(os.environ, WEBHOOK_SECRET_KEYS=Fernet.generate_key().decode())  # else no start
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         env=env, check=True).stdout
    assert out.strip() == "[]"


def lint_imports(root):
    """Run import-linter on the tree at `root` with the contracts in pyproject.toml."""
    import subprocess
    import sys

    command = [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"]
    return subprocess.run(command, cwd=root, capture_output=True, text=True,
                          env={"PYTHONPATH": str(root), "PATH": ""})


def test_packages_depend_one_way():
    """import-linter's contracts in pyproject.toml: layers, the transport, independence."""
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_the_contracts_catch_a_transport_that_imports_a_domain_package(tmp_path):
    import shutil

    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    queue = tmp_path / "photoservice" / "queue.py"
    queue.write_text(queue.read_text() + "\nfrom .photos import outbox  # noqa\n")
    result = lint_imports(tmp_path)
    assert result.returncode == 1
    assert "The transport and the kinds-of-work table know no domain package BROKEN" in result.stdout
