"""Write requirements.txt, the lock: every package the project and its extras need, pinned at the version
installed here, where the suite passes. The install scripts install with it as constraints (`pip install -c
requirements.txt ...`), so CI gets these exact versions and a new release of a transitive package cannot break it
overnight; pyproject.toml keeps the ranges.

Refresh (after changing a range in pyproject.toml and installing it):
    python scripts/lock.py            # rewrites requirements.txt from this environment
    python scripts/lock.py --check    # exit 1 when requirements.txt differs from this environment
"""

from __future__ import annotations

import argparse
import sys
from importlib import metadata
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PROJECT = "augsbert-studio"
LOCK = ROOT / "requirements.txt"
# what scripts/test.sh installs (and CI tests)
LOCKED_EXTRAS = ("app", "augment", "bench", "onnx", "ray", "static", "test", "tracking")
HEADER = """\
# The lock: every package AugSBERT Studio and its extras need, at the versions CI tests. Written by
# scripts/lock.py from a passing environment; the ranges are in pyproject.toml. The install scripts use it as
# constraints: pip install -c requirements.txt -e ".[app,augment]" (scripts/install.sh --extras ...).
# `pip install -r requirements.txt` installs all of it (every locked extra: app, augment, bench, onnx, ray,
# static, test, tracking).
# torch 2.13.0 is the CPU wheel on the project machines (and the regular CUDA wheel elsewhere).
"""


def closure(extras: list[str]) -> dict[str, str]:
    """{canonical name: installed version} of the project's requirements with `extras`, transitively."""
    env = default_environment()
    pinned: dict[str, str] = {}
    todo = [(PROJECT, tuple(extras))]
    seen: set[tuple[str, tuple[str, ...]]] = set()
    while todo:
        name, wanted = todo.pop()
        if (name, wanted) in seen:
            continue
        seen.add((name, wanted))
        dist = metadata.distribution(name)
        for text in dist.requires or []:
            req = Requirement(text)
            active = any(req.marker.evaluate({**env, "extra": e}) for e in (wanted or ("",))) if req.marker else True
            if not active:
                continue
            key = canonicalize_name(req.name)
            try:
                version = metadata.version(req.name)
            except metadata.PackageNotFoundError:
                raise SystemExit(f"lock.py: {req.name} (needed by {name}) is not installed: install it first") from None
            pinned[key] = version.split("+")[0]  # torch 2.13.0+cpu: the local label is the wheel's, not the release
            todo.append((req.name, tuple(sorted(req.extras))))
    pinned.pop(canonicalize_name(PROJECT), None)
    return pinned


def oldest_python() -> str:
    """The oldest Python the project supports (pyproject's requires-python floor, e.g. '3.11.0')."""
    floor = str(metadata.metadata(PROJECT)["Requires-Python"]).split(">=")[1].split(",")[0].strip()
    return floor + ".0" * (2 - floor.count("."))


def too_new(pins: dict[str, str]) -> list[str]:
    """Pins a supported Python cannot install (Debian 12 has 3.11.2; soupsieve 4.x needs 3.11.5)."""
    oldest = oldest_python()
    out = []
    for name, version in pins.items():
        needs = metadata.metadata(name).get("Requires-Python")
        if needs and not SpecifierSet(needs).contains(oldest):
            out.append(f"{name}=={version} needs Python {needs}")
    return out


def render(pins: dict[str, str]) -> str:
    return HEADER + "".join(f"{name}=={version}\n" for name, version in sorted(pins.items()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="compare with requirements.txt instead of writing")
    args = parser.parse_args()
    pins = closure(list(LOCKED_EXTRAS))
    blocked = too_new(pins)
    if blocked:  # the lock must install on every Python the project supports
        print(f"lock.py: not installable on Python {oldest_python()}: " + "; ".join(blocked), file=sys.stderr)
        print("install an older release of each here, run the tests, then lock again", file=sys.stderr)
        return 1
    text = render(pins)
    if args.check:
        same = LOCK.is_file() and LOCK.read_text() == text
        print("requirements.txt matches this environment" if same else "requirements.txt is stale: run scripts/lock.py")
        return 0 if same else 1
    LOCK.write_text(text)
    print(f"wrote {LOCK.name}: {text.count('==')} pins")
    return 0


if __name__ == "__main__":
    sys.exit(main())
