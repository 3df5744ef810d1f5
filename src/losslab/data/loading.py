"""Loading a numeric CSV file into ``(X, y)`` with errors that say what went wrong."""

from __future__ import annotations

import csv as _csv
import os
from collections.abc import Sequence

import numpy as np

from losslab.data.synthetic import Dataset

__all__ = ["load_csv"]


def load_csv(
    path: str | os.PathLike[str],
    target: str,
    *,
    features: Sequence[str] | None = None,
    delimiter: str = ",",
) -> Dataset:
    """Read a CSV file with a header row; ``y`` is the column ``target``, ``X`` the others.

    ``features`` picks (and orders) the feature columns; by default every column except ``target``,
    in file order. All values must parse as numbers (``nan`` and ``inf`` are refused as well).

    Errors: ``FileNotFoundError`` for a missing file; ``ValueError`` for a missing column (listing
    the columns that exist), a non-numeric or empty cell (naming the column and the line), a row
    of the wrong length, or a file with no data rows.
    """
    where = "load_csv"
    p = os.fspath(path)
    if not os.path.isfile(p):
        raise FileNotFoundError(f"{where}: no such file: {p!r}")
    with open(p, newline="", encoding="utf-8") as handle:
        reader = _csv.reader(handle, delimiter=delimiter)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            raise ValueError(f"{where}: {p!r} is empty; expected a header row") from None
        rows = [row for row in reader if row and any(cell.strip() for cell in row)]
    columns = ", ".join(header)
    if target not in header:
        raise ValueError(f"{where}: target column {target!r} not found; columns are: {columns}")
    if features is None:
        names = [h for h in header if h != target]
    else:
        names = list(features)
        missing = [f for f in names if f not in header]
        if missing:
            raise ValueError(f"{where}: feature column(s) {missing} not found; columns are: {columns}")
    if not rows:
        raise ValueError(f"{where}: {p!r} has a header but no data rows")
    wanted = [*names, target]
    index = [header.index(c) for c in wanted]
    data = np.empty((len(rows), len(wanted)))
    for i, row in enumerate(rows):
        line = i + 2
        if len(row) != len(header):
            raise ValueError(f"{where}: line {line} has {len(row)} fields, the header has {len(header)}")
        for j, (col, k) in enumerate(zip(wanted, index)):
            cell = row[k].strip()
            try:
                value = float(cell)
            except ValueError:
                shown = "an empty value" if not cell else f"{cell!r}"
                raise ValueError(
                    f"{where}: column {col!r} must be numeric; line {line} holds {shown}"
                ) from None
            if not np.isfinite(value):
                raise ValueError(
                    f"{where}: column {col!r} must hold finite numbers; line {line} holds {cell!r}"
                )
            data[i, j] = value
    return Dataset(data[:, :-1], data[:, -1])
