"""The `augsbert` command's entry: one clear line on a platform it does not support, then the CLI.

Background jobs lock files with `fcntl` and bound a worker with `resource` (POSIX only), so the CLI runs on Linux
and macOS; on Windows it says so instead of failing with an ImportError (WSL works)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

UNSUPPORTED = "augsbert: runs on Linux and macOS (POSIX) only; on Windows, use WSL (Windows Subsystem for Linux)"


def main(argv: Sequence[str] | None = None) -> int:
    if sys.platform.startswith("win"):
        print(UNSUPPORTED, file=sys.stderr)
        return 2
    from .cli import main as cli_main  # noqa: PLC0415 - imports fcntl (POSIX): only after the platform check

    return cli_main(argv)
