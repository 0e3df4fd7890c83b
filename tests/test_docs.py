"""The documentation stays true to the tree: README.md and docs/*.md link only to files (and headings) that
exist, every module ARCHITECTURE.md names exists, and the README stays short enough to read to the end."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README_LIMIT = 10_000  # characters

FENCE = re.compile(r"^```.*?^```[^\n]*$", re.M | re.S)
INLINE_CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"!?\[[^\]\n]*\]\(([^()\s]+)(?:\s+\"[^\"]*\")?\)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.M)


def _pages() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _prose(text: str) -> str:
    """Markdown without fenced blocks and inline code (a `[x](y)` inside code is not a link)."""
    return INLINE_CODE.sub("", FENCE.sub("", text))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: markup and punctuation dropped, lower case, spaces to hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading keeps its text
    text = re.sub(r"[^\w\- ]", "", text.lower())
    return text.replace(" ", "-")


def anchors(text: str) -> set[str]:
    seen: dict[str, int] = {}
    out = set()
    for heading in HEADING.findall(FENCE.sub("", text)):
        base = slug(heading)
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.add(base if n == 0 else f"{base}-{n}")
    return out


def broken_links(page: Path, text: str | None = None) -> list[str]:
    """Relative links of one markdown page whose file (or heading, for `file.md#anchor`) does not exist."""
    text = page.read_text() if text is None else text
    problems = []
    for target in LINK.findall(_prose(text)):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):  # http:, https:, mailto: ...
            continue
        path, _, fragment = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            problems.append(f"{page.relative_to(ROOT)}: {target} (no such file)")
        elif fragment and file.suffix == ".md" and fragment not in anchors(file.read_text()):
            problems.append(f"{page.relative_to(ROOT)}: {target} (no such heading)")
    return problems


PATHLIKE = re.compile(r"^[\w.-]+(?:/[\w.-]+)*(?:\.py|/)$")


def missing_modules(text: str, root: Path = ROOT) -> list[str]:
    """Module paths named in backticks in ARCHITECTURE.md that are not in the tree.

    A backticked `dir/file.py` or `folder/` anywhere is resolved against the repository root. In a table row,
    a bare `name.py` (or `name/`) after a path in the same cell is resolved against the folder of that cell's
    first path, as in "`augsbert_core/plan.py`, `estimate.py`"."""
    missing = []
    prose = FENCE.sub("", text)
    table_cells = []
    for line in prose.splitlines():
        if line.lstrip().startswith("|"):
            table_cells.extend(line.strip().strip("|").split("|"))
    for cell in table_cells:
        names = [n for n in re.findall(r"`([^`\n]+)`", cell) if PATHLIKE.match(n)]
        if not names:
            continue
        base = Path(names[0].rstrip("/")).parent if "/" in names[0].rstrip("/") else Path()
        for name in names:
            path = Path(name) if "/" in name.rstrip("/") else base / name
            if not (root / path).exists():
                missing.append(str(path) + ("/" if name.endswith("/") else ""))
    for name in re.findall(r"`([^`\n]+)`", prose):
        if PATHLIKE.match(name) and "/" in name.rstrip("/") and not (root / name).exists():
            missing.append(name)
    return sorted(set(missing))


def test_readme_and_docs_pages_exist():
    assert (ROOT / "README.md").exists()
    names = {p.name for p in (ROOT / "docs").glob("*.md")}
    for page in ("app.md", "cli.md", "config.md", "data.md", "reliability.md", "results-contract.md", "results.md"):
        assert page in names, page
    assert "scaling.md" in names


@pytest.mark.parametrize("page", _pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_point_to_existing_files(page):
    assert broken_links(page) == []


def test_the_link_check_can_fail():
    page = ROOT / "docs" / "app.md"
    text = (
        "[ok](config.md) [gone](no-such-page.md) ![img](screenshots/none.png) [web](https://example.org)\n"
        "[bad anchor](config.md#no-such-heading) `[in code](nowhere.md)`\n"
        "```\n[in a block](nowhere-either.md)\n```\n"
    )
    assert broken_links(page, text) == [
        "docs/app.md: no-such-page.md (no such file)",
        "docs/app.md: screenshots/none.png (no such file)",
        "docs/app.md: config.md#no-such-heading (no such heading)",
    ]


def test_slugs_follow_github():
    assert slug("The built-in demo (`configs/demo-stsb.yaml`)") == "the-built-in-demo-configsdemo-stsbyaml"
    assert slug("Results — 2026-11-27, CPU only") == "results--2026-11-27-cpu-only"
    assert slug("Scale-out: multi-GPU training and labeling") == "scale-out-multi-gpu-training-and-labeling"


def test_architecture_names_only_modules_that_exist():
    assert missing_modules((ROOT / "ARCHITECTURE.md").read_text()) == []


def test_the_architecture_check_can_fail():
    text = (
        "| module | holds |\n|---|---|\n"
        "| `augsbert_core/plan.py`, `estimate.py`, `no_such_module.py` | x |\n"
        "| `app.py`, `app_pages/`, `no_such_folder/` | y |\n"
        "| `augsbert_core/gone.py` | z |\n\n"
        "Outside the table: `studio/`, `augsbert_core/vanished.py`, `default`, `run.json`.\n"
    )
    assert missing_modules(text) == [
        "augsbert_core/gone.py",
        "augsbert_core/no_such_module.py",
        "augsbert_core/vanished.py",
        "no_such_folder/",
    ]


def test_readme_is_short():
    size = len((ROOT / "README.md").read_text())
    assert size < README_LIMIT, f"README.md has {size:,} characters; move detail to docs/ (limit {README_LIMIT:,})"
