"""User text in the app is shown literally: one escaper (`studio.security.md_escape`, re-exported as
`studio.ui.md_escape`) for everything that reaches Streamlit markdown; `studio.security.html_escape`
(html.escape) for Plotly titles, legends and hover text.

1. The helper: hostile strings come out with no active markdown and the same visible text.
2. The source: every call of a markdown-rendering Streamlit function (alerts, markdown, captions, toasts,
   headers, widget labels) whose text is built from values passes those values through `md_escape`, unless they
   are numbers (a numeric format spec) or in the short reviewed allow-list below. Fails with file:line.
3. The app: a hostile model name is shown literally in the Scenario page's error and in Launch's error.
"""

from __future__ import annotations

import ast
import html
import re
from pathlib import Path

import pytest

from studio.security import html_escape, md_escape

ROOT = Path(__file__).resolve().parent.parent

HOSTILE = [
    "![x](http://evil/x.png)",
    "[click](javascript:alert(1))",
    "<img src=x onerror=alert(1)>",
    "<b>bold</b> & <script>alert(1)</script>",
    "$x^2$ and $$y$$",
    ":red[x] :blue-background[y] :material/home: :small[z]",
    "**b** __u__ *i* _j_ ~~s~~",
    "`code` and ``two``",
    "back\\slash \\* \\\\[x]",
    "# heading",
    "- item",
    "1. first",
    "> quote",
    "a | b | c",
    "http://evil.example/path www.evil.example",
    "&lt;b&gt; &amp; &#x41;",
    "{#id .class}",
    "train.csv",
    "my-model_v2 (copy)",
]


# ------------------------------------------------------------------------------------------------ the helper
def _render(markdown: str) -> str:
    """HTML of `markdown` by a CommonMark renderer (markdown-it-py, with GFM tables and strikethrough)."""
    markdown_it = pytest.importorskip("markdown_it")
    return markdown_it.MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"]).render(markdown)


def _visible(rendered: str) -> str:
    inner = re.sub(r"^<p>(.*)</p>\n$", r"\1", rendered, flags=re.DOTALL)
    return html.unescape(inner)


@pytest.mark.parametrize("text", HOSTILE)
def test_md_escape_leaves_no_active_markdown(text):
    escaped = md_escape(text)
    rendered = _render(escaped)
    # one plain paragraph: no element besides <p>, every '<' of the input became &lt;
    assert re.fullmatch(r"<p>[^<]*</p>\n", rendered), rendered
    assert _visible(rendered) == text  # the visible text is the original
    # Streamlit's own syntax (not CommonMark): LaTeX `$`, directives `:name[...]`, and what a GFM autolink needs
    unescaped = re.sub(r"\\.", "", escaped)  # what a markdown parser sees as syntax: everything not escaped
    for special in ("$", ":", "[", "]", "*", "_", "`", "<", ">", "~", "|", "#", "&", "!", "(", ")", "."):
        assert special not in unescaped, (special, escaped)


@pytest.mark.parametrize("text", ["a\nb", "a\r\n\r\n# b", "a\u2028b", "x\n\n- y"])
def test_md_escape_never_starts_a_new_block(text):
    escaped = md_escape(text)
    assert "\n" not in escaped and "\r" not in escaped and "\u2028" not in escaped
    assert re.fullmatch(r"<p>[^<]*</p>\n", _render(escaped))


def test_md_escape_keeps_ordinary_text_and_takes_any_value():
    assert md_escape("A man plays guitar") == "A man plays guitar"
    assert md_escape("Größe 42 · 5 °C") == "Größe 42 · 5 °C"
    assert md_escape(3.5) == r"3\.5"
    assert md_escape(ValueError("bad *x*")) == r"bad \*x\*"


@pytest.mark.parametrize("text", HOSTILE + ["a\nb\n\n# c"])
def test_md_escape_in_a_code_span_stays_one_code_span(text):
    escaped = md_escape(text, code=True)
    rendered = _render(f"`{escaped}`")
    assert re.fullmatch(r"<p><code>[^<]*</code></p>\n", rendered), rendered
    assert "`" not in escaped and "\n" not in escaped


@pytest.mark.parametrize("text", HOSTILE)
def test_html_escape_for_plotly(text):
    out = html_escape(text)
    assert "<" not in out and ">" not in out
    assert html.unescape(out) == text


def test_chart_titles_and_legends_are_html_escaped():
    import pandas as pd

    from studio import charts

    evil = "<a href='https://evil.example'>x</a>"
    fig = charts.distributions_side_by_side({evil: pd.Series([0.1, 0.5])}, title=evil)
    assert fig.layout.title.text == html.escape(evil, quote=False)
    assert fig.data[0].name == html.escape(evil, quote=False)
    silver = pd.DataFrame({"score": [0.2, 0.4], "series": [evil, evil]})
    fig = charts.silver_vs_gold(silver, None, by="series")
    assert all("<a" not in (t.name or "") for t in fig.data)
    preds = pd.DataFrame({"gold": [0.1], "augsbert": [0.2], "sentence1": ["<b>a</b>"], "sentence2": ["<i>b</i>"]})
    fig = charts.scatter_pred_gold(preds, "augsbert", evil)
    assert "<a" not in fig.layout.title.text and "<b>" not in fig.data[0].hovertext[0]
    assert fig.data[0].hovertext[0] == "&lt;b&gt;a&lt;/b&gt;<br>&lt;i&gt;b&lt;/i&gt;"


# ------------------------------------------------------------------------------------------------ the source
#: Streamlit functions whose text argument is rendered as markdown.
MARKDOWN_CALLS = {
    "error",
    "warning",
    "info",
    "success",
    "markdown",
    "caption",
    "toast",
    "write",
    "header",
    "subheader",
    "title",
    "exception",
    "badge",
    "help",
}
#: Widgets whose label (first argument or `label=`) is rendered as (a subset of) markdown, images included.
LABEL_CALLS = {
    "button",
    "download_button",
    "checkbox",
    "toggle",
    "expander",
    "page_link",
    "link_button",
    "text_input",
    "number_input",
    "selectbox",
    "multiselect",
    "radio",
    "slider",
    "pills",
    "file_uploader",
    "metric",
    "popover",
    "text_area",
}
#: Receivers whose `.info()`/`.write()`/... are not Streamlit.
NOT_STREAMLIT = {"logging", "logger", "log", "warnings", "handle", "sys", "fh", "file", "stream", "re"}
ESCAPERS = {"md_escape"}
#: Calls whose result is never user text: numbers, times, or sentences built only from constants and numbers.
SAFE_CALLS = {
    "len",
    "int",
    "float",
    "round",
    "sum",
    "abs",
    "min",
    "max",
    "fmt_time",
    "pct",
    "fmt_duration",  # times and percentages
    "ks_label",  # 'KS to gold: all candidates 0.21 · kept pairs 0.12'
    "recommendation_reason",  # a fixed sentence naming model titles
    "teacher_search_summary",  # counts, epochs and learning rates
    "seed_trials_summary",  # titles of the core's own model folders, and seeds
    "ensemble_text",  # numbers, fixed words and the core's enum names (metric, labeler) from the run's files
    "model_title",  # fixed titles of the core's model keys
    "model_label",  # fixed titles of the model aliases (default, mpnet, auto)
    "metric_label",  # 'test Spearman': fixed words for the core's metric keys and splits (studio.metric_format)
    "metric_value",  # '81.2': a metric as a number (studio.metric_format)
    "metric_delta",  # '+3.1': a difference of metrics as a number (studio.metric_format)
    "metric_column_label",  # 'AugSBERT · test Spearman': a model title and metric words
    "card_help",  # a result card's help: metric words and numbers (app_pages/training.py)
    "labeling_teacher_text",  # the labeling teacher's dev score: fixed titles, metric words and a number
    "scale_text",  # '0–5': two numbers (studio.charts)
}
#: The app's modules: their ALL_CAPS attributes (SCENARIOS, ROLES, DEMOS, PAGES, ...) are constant tables.
APP_MODULES = {"ui", "scenario", "words", "workspace", "runinfo", "security", "charts", "est", "core_models", "jobs"}
#: Values that are never user text (source as ast.unparse writes it), in every file: fields the run store sets or
#: validates (ids are [0-9a-z-], scenario and sampler are enums) and the core's stage titles.
SAFE_VALUES = {
    "record.id",
    "r.status",
    "record.scenario",
    "record.sampler",
    "prog.stage_title",
    "s['wrong']",
    "s['corrected']",  # review counts (runinfo.review_summary)
    "flash",
}  # a session note: checked where it is set (see _is_session_note)
#: Locals reviewed per file (a trailing '*': any lookup in it): built from constant tables, enums or numbers only.
SAFE_LOCALS = {
    "app_pages/data.py": {"title", "note", "target", "t", "task_line", "missing", "demo[*"},  # roles, targets
    "app_pages/home.py": {"i", "title", "text"},  # workflow steps: constants, numbers and escaped run names
    "app_pages/scenario.py": {
        "role",
        "absent",
        "problem",
        "label",
        "runs",
        "source",
        "first.silver_note",
        "first.parts*",  # the core's estimate: numbers and stage names
        "new['teacher']*",
        "new['labeler']*",
        "new['candidates']*",
    },  # validated enums
    "studio/modelbox.py": {"title", "help_text"},  # the Scenario page's constant box titles (moved with model_box)
    "studio/qualitybox.py": {"grid", "role"},  # trial count, 'teacher'/'student' (moved from the Scenario page)
    "app_pages/training.py": {"title", "what", "icon", "note", "primary", "split", "target.note", "label"},
    "app_pages/compare.py": {"what", "base.note"},
    # need_run(constant); teacher_line: runinfo.labeling_teacher_text (fixed titles, metric words, a number)
    "studio/ui.py": {"title", "hint", "kind", "count", "running", "message", "error.more", "teacher_line"},
}
#: Notes (`runinfo.model_download(...).note`) are markdown written by runinfo with the model name in a code span
#: escaped by md_escape(code=True); `target.note`/`base.note` are those.


def _call_name(node: ast.Call) -> str:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _constant_table(node: ast.AST) -> bool:
    """An ALL_CAPS module constant, or a lookup/method of one: `LIMIT`, `scenario.SCENARIOS[s][0]`,
    `words.AUGMENTERS.items()`, `METRIC_TITLES.get(m, m)` (the arguments are checked separately)."""
    while True:
        if isinstance(node, ast.Name):
            return node.id.isupper()
        if isinstance(node, ast.Attribute):
            if node.attr.isupper() and isinstance(node.value, ast.Name) and node.value.id in APP_MODULES:
                return True
            node = node.value
        elif isinstance(node, ast.Subscript):
            node = node.value
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            node = node.func.value
        else:
            return False


def _allowed(node: ast.AST, rel: str, names: frozenset) -> bool:
    text = ast.unparse(node)
    patterns = SAFE_VALUES | SAFE_LOCALS.get(rel, set()) | names
    return any(text == v or (v.endswith("*") and text.startswith(v[:-1])) for v in patterns)


def _numeric_format(spec: ast.JoinedStr | None) -> bool:
    """`{x:.2f}`, `{n:,}`, `{v:g}`, `{d:+.1f}`, `{v:.0e}`: only numbers accept these (a string raises)."""
    if spec is None or not all(isinstance(v, ast.Constant) for v in spec.values):
        return False
    text = "".join(str(v.value) for v in spec.values)
    return bool(re.fullmatch(r"[<>=^]?[+\- ]?#?0?\d*[,_]?(?:\.\d+)?[bdeEfFgGnoxX%]?", text)) and any(
        c in text for c in ",.bdeEfFgGnoxX%"
    )


def _offenders(node: ast.AST, rel: str, names: frozenset = frozenset()) -> list[ast.AST]:
    """Sub-expressions of a markdown text argument that may carry user text unescaped. `names`: loop variables
    of an enclosing comprehension over a constant table."""

    def again(x: ast.AST, extra: frozenset = frozenset()) -> list[ast.AST]:
        return _offenders(x, rel, names | extra)

    if isinstance(node, ast.Constant) or _allowed(node, rel, names):
        return []
    if isinstance(node, ast.JoinedStr):
        return [
            bad
            for part in node.values
            if isinstance(part, ast.FormattedValue) and not _numeric_format(part.format_spec)
            for bad in again(part.value)
        ]
    if isinstance(node, ast.BinOp):  # '+' joins text; other operators only compute numbers
        return again(node.left) + again(node.right) if isinstance(node.op, (ast.Add, ast.Mod)) else []
    if isinstance(node, ast.IfExp):
        return again(node.body) + again(node.orelse)
    if isinstance(node, ast.BoolOp):
        return [bad for v in node.values for bad in again(v)]
    if isinstance(node, (ast.Compare, ast.UnaryOp)):
        return []
    if isinstance(node, (ast.GeneratorExp, ast.ListComp)):
        bound: set[str] = set()
        for gen in node.generators:  # the element decides; a loop over a constant table binds constants
            if not again(gen.iter):
                bound |= {n.id for n in ast.walk(gen.target) if isinstance(n, ast.Name)}
        return again(node.elt, frozenset(bound))
    if isinstance(node, ast.Subscript):  # a lookup in (or a slice of) a safe value is safe
        return [] if _constant_table(node) or not again(node.value) else [node]
    if isinstance(node, ast.Call):
        name = _call_name(node)
        method_of = node.func.value if isinstance(node.func, ast.Attribute) else None
        if name in ESCAPERS:
            return []
        if name in SAFE_CALLS:
            return []
        if name == "join" and method_of is not None and node.args:
            return again(method_of) + again(node.args[0])
        if name == "format" and method_of is not None:  # '...{x}...'.format(x=...): the template and the values
            return again(method_of) + [bad for a in [*node.args, *(k.value for k in node.keywords)] for bad in again(a)]
        if name in ("replace", "strip", "lower", "upper", "capitalize", "items", "get") and method_of is not None:
            args = node.args[1:] if name == "get" else []  # d.get(k, default): the table and the default
            return again(method_of) + [bad for a in args for bad in again(a)]
        if name == "str" and node.args:
            return again(node.args[0])
    if _constant_table(node):
        return []
    return [node]


def _is_session_note(target: ast.AST) -> bool:
    """`st.session_state["data_flash"] = ...`: notes that a page shows later with st.success."""
    return (
        isinstance(target, ast.Subscript)
        and ast.unparse(target.value) == "st.session_state"
        and isinstance(target.slice, ast.Constant)
        and "flash" in str(target.slice.value)
    )


def _receiver_root(func: ast.Attribute) -> str:
    node = func.value
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else ""


def _sources() -> list[Path]:
    files = [
        ROOT / "app.py",
        *sorted((ROOT / "app_pages").glob("*.py")),
        *sorted((ROOT / "pages").glob("*.py")),
        *sorted((ROOT / "studio").glob("*.py")),
    ]
    return [f for f in files if "streamlit" in f.read_text(encoding="utf-8")]


def scan(path: Path, root: Path = ROOT) -> list[str]:
    """'file:line: what' for each markdown call of `path` that shows a value unescaped."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    rel = path.relative_to(root).as_posix()
    problems = []
    hint = "(wrap it in md_escape, or allow-list it in tests/test_escaping.py if it is never user text)"
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(_is_session_note(t) for t in node.targets):
            for bad in _offenders(node.value, rel):
                problems.append(f"{rel}:{bad.lineno}: a session note shows `{ast.unparse(bad)}` unescaped {hint}")
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        name, receiver = node.func.attr, _receiver_root(node.func)
        if receiver in NOT_STREAMLIT or (name == "write" and receiver != "st"):
            continue
        for kw in node.keywords:
            if kw.arg == "unsafe_allow_html" and not (isinstance(kw.value, ast.Constant) and kw.value.value is False):
                problems.append(f"{rel}:{node.lineno}: {name}(unsafe_allow_html=...) enables HTML")
        if name == "html" and receiver == "st":
            problems.append(f"{rel}:{node.lineno}: st.html renders raw HTML")
        texts = [
            kw.value
            for kw in node.keywords
            if kw.arg in ("body", "label", "help", "caption", "captions")
            or (kw.arg == "text" and name in ("progress", "spinner", "status"))
        ]
        if name in MARKDOWN_CALLS | LABEL_CALLS and name != "page_link":  # page_link's first argument is a page
            texts += node.args[:1]
        if name == "write":
            texts += node.args[1:]
        for text in texts:
            for bad in _offenders(text, rel):
                problems.append(f"{rel}:{bad.lineno}: {name}() shows `{ast.unparse(bad)}` unescaped {hint}")
    return problems


def test_every_markdown_call_escapes_user_text():
    sources = _sources()
    assert any(p.name == "ui.py" for p in sources) and len(sources) >= 7
    problems = [p for path in sources for p in scan(path)]
    assert not problems, "\n".join(problems)


def test_the_source_check_finds_unescaped_text(tmp_path):
    """The checker itself: it flags the issue's examples and passes their fixes."""
    sample = tmp_path / "page.py"
    sample.write_text(
        "import streamlit as st\n"
        "st.error(f'**Cannot launch:** {exc}')\n"  # 2: flagged
        "st.markdown(f'**Run:** {ui.md_escape(record.name)} · {n:,} rows')\n"  # fine
        "st.caption(prog.last_message)\n"  # 4: flagged
        "st.info('Runs: ' + ', '.join(f'{r.name} ({r.status})' for r in runs))\n"  # 5: flagged (r.name)
        "st.markdown(body, unsafe_allow_html=True)\n"  # 6: flagged twice
        "st.session_state['data_flash'] = f'Saved {name}'\n"  # 7: flagged
        "log.info(f'{exc}')\n",  # not streamlit
        encoding="utf-8",
    )
    found = scan(sample, tmp_path)
    lines = sorted(int(p.split(":")[1]) for p in found)
    assert lines == [2, 4, 5, 6, 6, 7], found


# --------------------------------------------------------------------------------------------------- the app
EVIL_MODEL = "![x](http://evil.example/x.png)"


def test_hostile_model_name_is_shown_literally(tmp_path, monkeypatch):
    """A model name with an image link, saved in the shared Scenario draft, shows as text: in the Scenario page's
    'Not accepted' error and in the 'Cannot launch' error another session gets when it presses Launch."""
    from streamlit.testing.v1 import AppTest

    from studio import scenario, workspace

    monkeypatch.setenv("AUGSBERT_HOME", str(tmp_path / "workspace"))
    monkeypatch.setenv("AUGSBERT_DEVICE_LABEL", "CPU (test)")
    monkeypatch.chdir(ROOT)
    workspace.load_demo("stsb-quick")
    draft = scenario.load_draft()
    draft["student"]["model"] = EVIL_MODEL
    scenario.save_draft(draft)

    def launch_page():
        from studio import scenario, ui

        ui.launch(scenario.load_draft())

    at = AppTest.from_function(launch_page, default_timeout=30).run()
    assert not at.exception, [e.value for e in at.exception]
    body = at.error[0].value
    assert body.startswith("**Cannot launch:** ") and md_escape(EVIL_MODEL) in body
    shown = _visible(_render(body))
    assert "<img" not in _render(body) and "<a " not in _render(body)
    assert EVIL_MODEL in shown  # the reader sees the name as typed

    at = AppTest.from_file(str(ROOT / "app_pages" / "scenario.py"), default_timeout=30).run()
    assert not at.exception, [e.value for e in at.exception]
    errors = [e.value for e in at.error]
    assert any(md_escape(EVIL_MODEL) in e and "<img" not in _render(e) for e in errors), errors
