"""What is wrong with an input file, as data: `Problem` (file, 1-based data row, column as spelled in the file,
message) and `DataError` (a ValueError, kind 'data', keeping the first MAX_PROBLEMS problems and counting the
rest), plus the helpers the readers (`tables`) and the validator (`data`) share to build them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import NoReturn

import numpy as np
import pandas as pd

from ..errors import AugsbertError

MAX_PROBLEMS = 50  # problems kept on a DataError (the rest are only counted)


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or worth a warning) in an input file."""

    file: str  # file name as given (str(path))
    row: int | None  # 1-based data row (header not counted); None for file-level problems
    column: str | None  # column name in the FILE (original name, before alias mapping)
    message: str  # what is wrong, specific

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        return f"{', '.join(where)}: {self.message}"


class DataError(AugsbertError, ValueError):
    """Bad input. `.problems` lists the problems found (at most MAX_PROBLEMS); `.total` counts all of them."""

    kind = "data"
    problems: list[Problem]
    total: int

    def __init__(self, problems: Iterable[Problem], total: int | None = None) -> None:
        found = list(problems)
        if not found:
            raise ValueError("DataError needs at least one Problem")
        self.total = max(total or 0, len(found))
        self.problems = found[:MAX_PROBLEMS]
        super().__init__(self._text())

    @property
    def more(self) -> int:
        """How many problems were counted but not kept in `.problems`."""
        return self.total - len(self.problems)

    def _text(self) -> str:
        rest = self.total - 1
        suffix = f" (and {rest} more problem{'s' if rest != 1 else ''})" if rest else ""
        return f"{self.problems[0]}{suffix}"

    def __str__(self) -> str:
        return self._text()

    def __reduce__(self):  # keep picklable despite the custom __init__
        return (type(self), (self.problems, self.total))


def _fail(file: str, message: str, *, row: int | None = None, column: str | None = None) -> NoReturn:
    raise DataError([Problem(file, row, column, message)])


class _ProblemLog:
    """Collects row problems as boolean masks; builds `Problem`s only for the first bad rows."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.total = 0
        self._single: list[Problem] = []
        self._groups: list[tuple[np.ndarray, str, Callable[[int], str]]] = []

    def add(self, message: str, *, row: int | None = None, column: str | None = None) -> None:
        self._single.append(Problem(self.file, row, column, message))
        self.total += 1

    def add_rows(self, mask: np.ndarray, column: str, message: Callable[[int], str]) -> None:
        """`mask[i]` marks a bad row at 0-based position i; `message(i)` describes it."""
        positions = np.flatnonzero(mask)
        if len(positions):
            self._groups.append((positions, column, message))
            self.total += len(positions)

    def raise_if_any(self) -> None:
        if not self.total:
            return
        found = list(self._single)
        for positions, column, message in self._groups:
            found.extend(Problem(self.file, int(p) + 1, column, message(int(p))) for p in positions[:MAX_PROBLEMS])
        found.sort(key=lambda p: (p.row is not None, p.row or 0))  # file-level first, then by row (stable)
        raise DataError(found, self.total)


def _preview(value: object, limit: int = 40) -> str:
    """Short repr of a raw cell for messages."""
    text = str(value)
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _bool_array(values: pd.Series | np.ndarray) -> np.ndarray:
    if isinstance(values, pd.Series):
        return values.to_numpy(dtype=bool, na_value=False)
    return np.asarray(values, dtype=bool)
