"""Reading config files safely: YAML without Python tags, alias bombs or a key twice in one mapping (YAML would
keep the last silently); JSON without duplicate keys; a size cap. `config.ExperimentConfig.from_file` reads through
`load_config_file`."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from ..errors import ConfigError

MAX_YAML_NODES = 100_000  # a config expands to at most this many YAML nodes (aliases counted as expanded)


class _BoundedLoader(yaml.SafeLoader):
    """yaml.SafeLoader that refuses documents whose aliases expand past MAX_YAML_NODES (billion laughs), and reads
    exponent numbers without a dot (`7e-1`, `2e-5`) as floats, as YAML 1.2 and the CLI do (YAML 1.1: strings)."""


_BoundedLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def safe_yaml(text: str, source: str = "config") -> Any:
    """Parse YAML safely: no Python tags, aliases allowed only while the expanded document stays small."""
    loader = _BoundedLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_expansion(node, source)
        _check_duplicate_keys(node, source)
        return loader.construct_document(node)
    except RecursionError:
        raise ConfigError(f"{source}: nested too deeply to be a config") from None
    finally:
        loader.dispose()


def _check_expansion(root: yaml.Node, source: str) -> None:
    sizes: dict[int, int] = {}

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key not in sizes:
            sizes[key] = 0  # a recursive alias counts once, then expands no further
            if isinstance(node, yaml.MappingNode):
                total = 1 + sum(size(k) + size(v) for k, v in node.value)
            elif isinstance(node, yaml.SequenceNode):
                total = 1 + sum(size(item) for item in node.value)
            else:
                total = 1
            if total > MAX_YAML_NODES:
                raise ConfigError(
                    f"{source}: its aliases expand to more than {MAX_YAML_NODES:,} values (a YAML "
                    "alias bomb?); write the values out instead of aliasing them"
                )
            sizes[key] = total
        return sizes[key]

    size(root)


MAX_CONFIG_BYTES = 1_000_000


def _check_duplicate_keys(root: yaml.Node, source: str) -> None:
    """A key twice in one mapping is refused: YAML would keep the last silently (a second `student:` block would
    replace the first whole). Keys merged in with `<<` may be overridden: that is what merging is for."""
    seen_nodes: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen_nodes:
            continue
        seen_nodes.add(id(node))
        if isinstance(node, yaml.MappingNode):
            lines: dict[str, int] = {}
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.tag != "tag:yaml.org,2002:merge":
                    line = key.start_mark.line + 1
                    if key.value in lines:
                        raise ConfigError(
                            f"{source}: key {key.value!r} appears twice in one mapping (lines {lines[key.value]} and "
                            f"{line}); YAML would keep only the last: merge them into one"
                        )
                    lines[key.value] = line
                stack.append(value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)


def unique_json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """`json.loads(..., object_pairs_hook=unique_json_object)`: a JSON object, refusing a key that appears twice
    (json keeps the last silently) with a ConfigError (a ValueError)."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ConfigError(f"key {key!r} appears twice in one JSON object; JSON would keep only the last")
        out[key] = value
    return out


def load_config_file(path: str | Path) -> dict[str, Any]:
    """The raw mapping of a YAML/JSON config file, or ConfigError naming the file and what is wrong."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"config file not found: {path}")
    if not path.is_file():
        raise ConfigError(f"{path}: not a regular file (a directory, FIFO or device cannot be a config)")
    if path.stat().st_size > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path}: {path.stat().st_size:,} bytes; a config is at most {MAX_CONFIG_BYTES:,}")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    is_json = path.suffix.lower() == ".json"
    try:
        raw = json.loads(text, object_pairs_hook=unique_json_object) if is_json else safe_yaml(text, str(path))
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}" if is_json else str(exc)) from None
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: not valid {'JSON' if is_json else 'YAML'}: {' '.join(str(exc).split())}") from None
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply to be a config") from None
    raw = {} if raw is None else raw
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: a config must be a mapping of keys to values, got {type(raw).__name__}")
    return raw
