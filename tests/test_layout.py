"""The architecture, checked (docs/adr/0010-layout.md): one package per phase, and what may import what.

Every module of `schemas/` and `pipelines/` is parsed; each import it makes (also inside functions) must
be of a package its own may use. The environment is read in one place only.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# package -> the project packages it may import (besides itself). Lower layers first.
ALLOWED: dict[str, set[str]] = {
    "schemas": set(),
    "pipelines.rules": {"schemas"},
    "pipelines.warehouse": {"schemas"},
    "pipelines.present": {"schemas", "pipelines.rules"},
    "pipelines.ingest": {"schemas", "pipelines.warehouse"},
    "pipelines.detect": {"schemas", "pipelines.rules", "pipelines.warehouse"},
    "pipelines.cases": {"schemas", "pipelines.rules", "pipelines.warehouse", "pipelines.present"},
    # pre-payment screening (CONTRACT section 7): reads a batch as ingest reads a file, applies the rules' own
    # definitions, records in the case register
    "pipelines.screen": {
        "schemas",
        "pipelines.rules",
        "pipelines.warehouse",
        "pipelines.present",
        "pipelines.ingest",
        "pipelines.cases",
    },
    "pipelines.web": {
        "schemas",
        "pipelines.rules",
        "pipelines.warehouse",
        "pipelines.present",
        "pipelines.cases",
        "pipelines.screen",
    },
    "pipelines.synth": set(),  # the generator is the oracle: it keeps its own statement of the contract
    "pipelines.app": {
        "schemas",
        "pipelines.rules",
        "pipelines.warehouse",
        "pipelines.present",
        "pipelines.ingest",
        "pipelines.detect",
        "pipelines.cases",
        "pipelines.screen",
        "pipelines.synth",
        "pipelines.web",
    },
    "pipelines": {"pipelines.app"},  # pipelines/__main__.py: `python -m pipelines` is `fundwatch`
}
# The only modules that may touch the process environment.
# settings reads it; pipelines/__init__ turns telemetry off; the `fundwatch` launcher looks whether a Prefect server
# or a Dask cluster is configured before importing anything, and a Prefect server's child gets this environment
# (both kept free of the settings' imports: pipelines.app.launch).
ENVIRONMENT_READERS = {
    "pipelines/app/settings.py",
    "pipelines/__init__.py",
    "pipelines/app/launch.py",
    "pipelines/app/prefect_server.py",
}


def modules() -> list[Path]:
    return sorted(p for folder in ("schemas", "pipelines") for p in (ROOT / folder).rglob("*.py"))


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_of(module: str) -> str | None:
    """The layer a project module belongs to: 'schemas', 'pipelines.<phase>' or 'pipelines' itself."""
    parts = module.split(".")
    if parts[0] == "schemas":
        return "schemas"
    if parts[0] != "pipelines":
        return None
    if len(parts) == 1 or parts[1] in ("__main__",):
        return "pipelines"
    return f"pipelines.{parts[1]}"


def imports_of(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in the file, relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    here = module_name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            found.append((node.lineno, name))
            found += [(node.lineno, f"{name}.{alias.name}") for alias in node.names]
    return found


def test_every_module_belongs_to_a_known_package():
    unknown = {module_name(p) for p in modules() if package_of(module_name(p)) not in ALLOWED}
    assert not unknown, f"modules outside the layout of ADR 0010: {sorted(unknown)}"


def test_no_package_imports_from_a_layer_it_may_not_use():
    wrong = []
    for path in modules():
        own = package_of(module_name(path))
        for line, imported in imports_of(path):
            target = package_of(imported)
            if target is None or target == own or target in ALLOWED[own]:
                continue
            if target == "pipelines" and imported in ("pipelines", "pipelines.__init__"):
                continue  # `from pipelines import x` is resolved through its submodule entry
            wrong.append(f"{path.relative_to(ROOT)}:{line} ({own}) imports {imported}")
    assert not wrong, "\n".join(wrong)


def test_schemas_is_the_ground_floor():
    offenders = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in (ROOT / "schemas").rglob("*.py")
        for line, name in imports_of(path)
        if name.split(".")[0] == "pipelines"
    ]
    assert not offenders, offenders


def test_nothing_uses_the_application_shell():
    users = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in modules()
        if package_of(module_name(path)) not in ("pipelines.app", "pipelines")
        for line, name in imports_of(path)
        if package_of(name) == "pipelines.app"
    ]
    assert not users, users


def test_the_environment_is_read_in_one_place():
    readers = {
        str(path.relative_to(ROOT))
        for path in modules()
        if "os.environ" in path.read_text(encoding="utf-8") or "getenv" in path.read_text(encoding="utf-8")
    }
    assert readers <= ENVIRONMENT_READERS, sorted(readers - ENVIRONMENT_READERS)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from pipelines.warehouse.session import writer", "pipelines.warehouse"),
        ("from .stage import scan_staged", "pipelines.detect"),
        ("import schemas.datasets", "schemas"),
    ],
)
def test_the_check_resolves_imports(tmp_path, source, expected, monkeypatch):
    """The checker itself: absolute and relative imports land in the right package."""
    fake = ROOT / "pipelines" / "detect" / "engine.py"
    monkeypatch.setattr(Path, "read_text", lambda self, encoding=None: source)
    names = [name for _, name in imports_of(fake)]
    assert package_of(names[0]) == expected


def test_only_the_shell_prints_parses_arguments_or_touches_prefect():
    shell_only = ("print(", "sys.stdout", "sys.stderr", "argparse")
    offenders = []
    for path in modules():
        if package_of(module_name(path)) in ("pipelines.app", "pipelines"):
            continue
        text = path.read_text(encoding="utf-8")
        offenders += [f"{path.relative_to(ROOT)}: {word}" for word in shell_only if word in text]
        offenders += [
            f"{path.relative_to(ROOT)}:{line} imports {name}"
            for line, name in imports_of(path)
            if name.split(".")[0] == "prefect"
        ]
    assert not offenders, offenders
