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
    in file order. All values must parse as numbers (``nan`` and ``inf`` are refused as well). A
    UTF-8 byte-order mark (as spreadsheets write) is skipped.

    Errors: ``FileNotFoundError`` for a missing file; ``ValueError`` for a missing column (listing
    the columns that exist), duplicate column names in the header or in ``features``, ``target``
    listed among ``features``, a non-numeric or empty cell (naming the column and the line), a row
    of the wrong length, or a file with no data rows; ``TypeError`` for a ``target`` that is not a
    string or ``features`` that are not a sequence of strings.
    """
    where = "load_csv"
    if not isinstance(target, str):
        raise TypeError(f"{where}: target must be a column name (str), got target={target!r}")
    if features is not None and (isinstance(features, str) or not all(isinstance(f, str) for f in features)):
        raise TypeError(f"{where}: features must be a sequence of column names, got features={features!r}")
    p = os.fspath(path)
    if not os.path.isfile(p):
        raise FileNotFoundError(f"{where}: no such file: {p!r}")
    with open(p, newline="", encoding="utf-8-sig") as handle:
        reader = _csv.reader(handle, delimiter=delimiter)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            raise ValueError(f"{where}: {p!r} is empty; expected a header row") from None
        rows = [row for row in reader if row and any(cell.strip() for cell in row)]
    columns = ", ".join(header)
    duplicates = sorted({h for h in header if header.count(h) > 1})
    if duplicates:
        raise ValueError(
            f"{where}: duplicate column name(s) {duplicates} in the header; column names must be unique"
        )
    if target not in header:
        raise ValueError(f"{where}: target column {target!r} not found; columns are: {columns}")
    if features is None:
        names = [h for h in header if h != target]
    else:
        names = list(features)
        if target in names:
            raise ValueError(f"{where}: target column {target!r} is also listed in features {names}")
        repeated = sorted({f for f in names if names.count(f) > 1})
        if repeated:
            raise ValueError(f"{where}: feature column(s) {repeated} listed more than once in features")
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
