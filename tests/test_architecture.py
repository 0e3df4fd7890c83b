"""The rooms keep their rules: no import circles among the project's modules, the core never imports streamlit
(nor the app's helpers), and lazy imports inside functions are only of heavy libraries (ruff's PLC0415, with a
reason on the line)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("augsbert_core", "studio")


def _imports(path: Path, package: str) -> set[str]:
    """Every module of this project that `path` imports, at top level or inside functions. `package` is the
    dotted package `path` lives in (`augsbert_core`, `augsbert_core.recipe`): relative imports resolve from it."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                parent = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{parent}.{node.module}" if node.module else parent
            elif node.module and node.module.split(".")[0] in PACKAGES:
                base = node.module
            else:
                continue
            if node.module:  # `from . import x` imports the module x, not the package's __init__
                found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.split(".")[0] in PACKAGES}
    return found


def _modules() -> dict[str, tuple[Path, str]]:
    """Every module of the project's packages, sub-packages included: {dotted name: (path, its package)}."""
    modules = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            inside = ".".join(parts[:-1])
            modules[inside if path.stem == "__init__" else ".".join(parts)] = (path, inside)
    return modules


def _graph() -> dict[str, set[str]]:
    modules = {name: _imports(path, package) for name, (path, package) in _modules().items()}
    return {name: {d for d in deps if d in modules and d != name} for name, deps in modules.items()}


def test_no_import_circles():
    graph, cycles = _graph(), []

    def visit(node: str, path: list[str]) -> None:
        for dep in graph[node]:
            if dep in path:
                cycles.append(" -> ".join(path[path.index(dep) :] + [dep]))
            elif dep != "augsbert_core":  # the package's __init__ re-exports; importing it is not a circle
                visit(dep, path + [dep])

    for module in graph:
        visit(module, [module])
    assert not cycles, sorted(set(cycles))[:10]


def test_the_core_is_headless():
    core = {name: where for name, where in _modules().items() if name.startswith("augsbert_core")}
    assert "augsbert_core.recipe.context" in core  # sub-packages are walked too
    for name, (path, package) in core.items():
        text = path.read_text(encoding="utf-8")
        assert "import streamlit" not in text and "from streamlit" not in text, name
        assert not any(dep.startswith("studio") for dep in _imports(path, package)), name


def test_the_cycle_check_can_fail(tmp_path):
    a, b = tmp_path / "a.py", tmp_path / "b.py"
    a.write_text("from . import b\n")
    b.write_text("from .a import thing\n")
    assert "augsbert_core.b" in _imports(a, "augsbert_core") and "augsbert_core.a" in _imports(b, "augsbert_core")


def test_the_room_table_is_true():
    """Every core module imports only the rooms ARCHITECTURE.md's table lists for it ('nothing' means nothing;
    rows that say 'the rooms above' or 'anything in the core' are checked by the no-circle test instead)."""
    lines = (ROOT / "ARCHITECTURE.md").read_text().splitlines()
    table = [line for line in lines if line.startswith("| `augsbert_core/")]
    wrong = []
    for line in table:
        cells = [c.strip() for c in line.strip("|").split("|")]
        modules = re.findall(r"`(?:augsbert_core/)?([a-z_0-9]+)(?:\.py|/)`", cells[0])  # modules and packages
        allowed = cells[2]
        if "rooms above" in allowed or "anything" in allowed:
            continue
        names = set(re.findall(r"[a-z_0-9]+", re.sub(r"\([^)]*\)", "", allowed))) - {"nothing"}
        names |= set(re.findall(r"\(([a-z_0-9]+),? ", allowed))  # 'teacher (lazily)' style notes keep their room
        for module in modules:
            folder = ROOT / "augsbert_core" / module  # a sub-package: every module in it, as one room
            paths = sorted(folder.rglob("*.py")) if folder.is_dir() else [ROOT / "augsbert_core" / f"{module}.py"]
            imported = set().union(*(_imports(p, ".".join(p.relative_to(ROOT).parts[:-1])) for p in paths))
            found = {m.split(".")[1] for m in imported if m.startswith("augsbert_core.")}
            extra = found - names - set(modules) - {"augsbert_core"}
            if extra:
                wrong.append(f"{module}.py imports {sorted(extra)}, not in its row ({allowed})")
    assert not wrong, "\n".join(wrong)
