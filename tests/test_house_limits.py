"""The house's size limits (issue 24, item 7): no module over 600 lines, no function over 80, no class over 400,
a page's top-level code at most 200 lines; and choices asked through their specs, never compared by name. Every
room is within the limits (13 modules, 16 functions, 1 class and 3 pages were over them before the house plan);
`STILL_OVER` is where an exception would have to be written down, with its size as a ceiling."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("augsbert_core", "studio", "app_pages")
MODULE_LINES, FUNCTION_LINES, CLASS_LINES, PAGE_TOP_LEVEL = 600, 80, 400, 200

#: what is over a limit, with its size as a ceiling (none now): "path" for a module, "path:name" for a function or
#: class, "page:path" for a page's top-level lines
STILL_OVER: dict[str, int] = {}


def sizes(path: Path, rel: str) -> dict[str, tuple[int, int]]:
    """{key: (lines, limit)} for the module, each function and class in it, and a page's top-level code."""
    text = path.read_text(encoding="utf-8")
    tree = ast.parse(text)
    found = {rel: (len(text.splitlines()), MODULE_LINES)}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            limit = CLASS_LINES if isinstance(node, ast.ClassDef) else FUNCTION_LINES
            key = f"{rel}:{node.name}"
            lines = node.end_lineno - node.lineno + 1
            found[key] = max(found.get(key, (0, limit)), (lines, limit))
    if rel.startswith("app_pages/"):
        script = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom)
        top = sum(n.end_lineno - n.lineno + 1 for n in tree.body if not isinstance(n, script))
        found[f"page:{rel}"] = (top, PAGE_TOP_LEVEL)
    return found


def over_limits(root: Path = ROOT) -> dict[str, int]:
    over = {}
    for source in SOURCES:
        for path in sorted((root / source).rglob("*.py")):
            for key, (lines, limit) in sizes(path, str(path.relative_to(root))).items():
                if lines > limit:
                    over[key] = lines
    return over


def test_no_room_grows_past_the_limits():
    over = over_limits()
    new = {k: v for k, v in over.items() if k not in STILL_OVER}
    assert not new, f"over the house's limits (split them; see ARCHITECTURE.md): {new}"
    grown = {k: (v, STILL_OVER[k]) for k, v in over.items() if k in STILL_OVER and v > STILL_OVER[k]}
    assert not grown, f"rooms over a limit grew (now, ceiling): {grown}"


def test_the_list_of_rooms_over_a_limit_only_shrinks():
    """An entry whose room is back within the limits must leave the list (so the ceiling cannot be reused)."""
    over = over_limits()
    stale = sorted(k for k in STILL_OVER if k not in over)
    assert not stale, f"within the limits now: remove from STILL_OVER: {stale}"


def test_the_split_rooms_stay_within_the_limits():
    """The recipe's stages and the CLI, split from pipeline.py (1,179 lines, an 862-line class) and cli.py
    (1,056 lines, a 218-line parser builder), stay within every limit."""
    over = over_limits()
    split = [k for k in over if k.startswith(("augsbert_core/recipe/", "augsbert_core/cli/", "augsbert_core/pipeline"))]
    assert not split, split


def test_the_limits_can_fail(tmp_path):
    (tmp_path / "augsbert_core").mkdir()
    body = "\n".join(f"    x{i} = {i}" for i in range(FUNCTION_LINES + 1))
    (tmp_path / "augsbert_core" / "big.py").write_text(f"def long():\n{body}\n")
    assert over_limits(tmp_path) == {"augsbert_core/big.py:long": FUNCTION_LINES + 2}


def scenario_number_comparisons(root: Path = ROOT) -> list[str]:
    """`file:line` of every comparison of a scenario with a number (`cfg.scenario == 3`, `scenario in (1, 2)`)."""
    found = []
    for source in SOURCES:
        for path in sorted((root / source).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Compare) or "scenario" not in ast.unparse(node):
                    continue
                values = [node.left, *node.comparators]
                numbers = [c for v in values for c in ([v] if isinstance(v, ast.Constant) else getattr(v, "elts", []))]
                if any(isinstance(c, ast.Constant) and c.value in (1, 2, 3) for c in numbers):
                    found.append(f"{path.relative_to(root)}:{node.lineno}")
    return found


def test_scenarios_are_asked_not_compared():
    """What a scenario reads and makes is its registry.ScenarioSpec's (gold_train, labels, source_domain, ...): no
    module compares scenario numbers (90 comparisons in 20 modules before the spec)."""
    assert scenario_number_comparisons() == []


def test_the_scenario_walk_can_fail(tmp_path):
    (tmp_path / "studio").mkdir()
    (tmp_path / "studio" / "x.py").write_text("def f(cfg):\n    return cfg.scenario in (1, 2) or cfg.task == 3\n")
    assert scenario_number_comparisons(tmp_path) == ["studio/x.py:2"]


REGISTRIES = {"augsbert_core/registry.py", "augsbert_core/choices.py"}  # where choice names may be compared


def choice_names() -> set[str]:
    """Every choice's name, read from the live registries: samplers and their searches, losses, labelers, engines,
    candidate sources, model aliases and `auto`."""
    from augsbert_core import choices, registry

    names = set(registry.SAMPLERS) | set(registry.LOSSES) | set(registry.INDEXED_SEARCHES)
    for table in (choices.LABELERS, choices.ENGINES, choices.CANDIDATE_SOURCES, choices.MODEL_ALIASES):
        names |= set(table)
    return names


def choice_literal_comparisons(root: Path = ROOT, names: set[str] | None = None) -> dict[str, list[int]]:
    """{module: lines} of every comparison of a value with a choice name written as a literal (`engine == "ray"`,
    `source in ("given", "given+sampled")`), outside the registries."""
    names = choice_names() if names is None else names
    found: dict[str, list[int]] = {}
    for source in SOURCES:
        for path in sorted((root / source).rglob("*.py")):
            rel = str(path.relative_to(root))
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Compare):
                    continue
                values = [node.left, *node.comparators]
                consts = [c for v in values for c in ([v] if isinstance(v, ast.Constant) else getattr(v, "elts", []))]
                if any(isinstance(c, ast.Constant) and isinstance(c.value, str) and c.value in names for c in consts):
                    found.setdefault(rel, []).append(node.lineno)
    return {k: v for k, v in found.items() if k not in REGISTRIES}


def test_choices_are_asked_not_compared():
    """A sampler, loss, labeler, engine, candidate source or model alias is asked through its spec
    (`engine(cfg.engine).cluster`, `candidates_spec(...).samples`), never compared by name outside the registries
    (76 comparisons in 28 modules before the specs)."""
    assert choice_literal_comparisons() == {}


def test_the_choice_walk_can_fail(tmp_path):
    (tmp_path / "studio").mkdir()
    (tmp_path / "studio" / "x.py").write_text("def f(cfg):\n    return cfg.engine == 'ray' or cfg.task == 'ray2'\n")
    assert choice_literal_comparisons(tmp_path) == {"studio/x.py": [2]}
