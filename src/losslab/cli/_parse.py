"""Reading values from the command line: numbers, arrays and ``key=value`` parameters.

One parser for every command: ``--loss-param delta=2``, ``--optimizer-param betas=0.9,0.99``,
and scoped forms such as ``--loss-param huber.delta=1.5`` (see :func:`parse_scoped_params`).
Every error is a :class:`~losslab.cli._app.UsageError` naming the option.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from losslab.cli._app import UsageError

if TYPE_CHECKING:
    import numpy as np

    from losslab.data.synthetic import DatasetInfo

__all__ = [
    "FIGURE_FORMATS",
    "complete_from",
    "dataset_info",
    "is_number",
    "output_path",
    "parse_array",
    "parse_params",
    "parse_scoped_params",
    "parse_value",
]


def complete_from(names: Callable[[], Iterable[str]]) -> Callable[[str], list[str]]:
    """Shell completion of the names ``names()`` returns (called only when completing).

    Help text names an example instead of listing a registry, so ``losslab --help`` loads no
    registry; the shell completes the full list and a wrong name's error lists it.

    >>> complete_from(lambda: ["adam", "adagrad", "sgd"])("ada")
    ['adagrad', 'adam']
    """

    def complete(incomplete: str) -> list[str]:
        return sorted(n for n in names() if n.startswith(incomplete))

    return complete


_TRUE = {"true", "yes", "on"}
_FALSE = {"false", "no", "off"}
_NONE = {"none", "null"}


def dataset_info(name: str) -> DatasetInfo:
    """``--data NAME``: the dataset's :func:`losslab.data.info`, or the option's usage error naming
    the valid names."""
    import typer

    import losslab as ll

    try:
        return ll.data.info(name)
    except ValueError as err:
        raise typer.BadParameter(str(err), param_hint="--data") from None


def parse_value(text: str) -> Any:
    """A command-line value: ``int``, ``float``, ``bool``, ``None``, a list of numbers, or a string.

    >>> parse_value("1.5"), parse_value("2"), parse_value("true"), parse_value("none")
    (1.5, 2, True, None)
    >>> parse_value("0.2,0.8"), parse_value("weston_watkins")
    ([0.2, 0.8], 'weston_watkins')
    """
    t = text.strip()
    low = t.lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    if low in _NONE:
        return None
    number = _number(t)
    if number is not None:
        return number
    if t.startswith("[") or re.search(r"[,;\s]", t):
        try:
            return parse_array([t]).tolist()
        except UsageError:
            return t
    return t


def _number(t: str) -> int | float | None:
    try:
        return int(t)
    except ValueError:
        pass
    try:
        return float(t)
    except ValueError:
        return None


def is_number(token: str) -> bool:
    """Whether ``token`` reads as a number (``-1`` is a value, not an option)."""
    return _number(token) is not None


def parse_array(tokens: Sequence[str], name: str = "value") -> np.ndarray:
    """Numbers from the command line: ``0.9,0.2``, ``"0.9 0.2"``, rows split by ``;``, or ``[[...]]``.

    One number gives a 0-d array. Integers stay integers (class indices).

    >>> parse_array(["5"]).shape, parse_array(["0.9,0.2"]).tolist(), parse_array(["1,2;3,4"]).shape
    ((), [0.9, 0.2], (2, 2))
    """
    import numpy as np  # (not at import time: `losslab --help` needs no NumPy)

    text = " ".join(tokens).strip()
    if not text:
        raise UsageError(f"{name} needs a value, e.g. --{name.replace('_', '-')} 0.9,0.2")
    if text.startswith("["):
        try:
            return np.asarray(ast.literal_eval(text))
        except (ValueError, SyntaxError):
            raise UsageError(f"{name}: cannot read {text!r} as a (nested) list of numbers") from None
    rows = []
    for row in text.split(";"):
        items = [s for s in re.split(r"[,\s]+", row.strip()) if s]
        numbers = [_number(s) for s in items]
        bad = [s for s, v in zip(items, numbers) if v is None]
        if bad:
            raise UsageError(f"{name}: expected numbers, got {bad[0]!r}")
        rows.append(numbers)
    if len(rows) == 1:
        return np.asarray(rows[0][0] if len(rows[0]) == 1 else rows[0])
    if len({len(r) for r in rows}) != 1:
        raise UsageError(f"{name}: rows separated by ';' must have the same length")
    return np.asarray(rows)


def _split_item(item: str, option: str) -> tuple[str, str]:
    key, eq, value = item.partition("=")
    key = key.strip().replace("-", "_")
    if not eq or not key or not value.strip():
        raise UsageError(f"{option}: expected KEY=VALUE (e.g. {option} delta=2), got {item!r}")
    return key, value


def parse_params(items: Iterable[str] | None, option: str = "--param") -> dict[str, Any]:
    """``["delta=2", "from-logits=true"]`` as ``{"delta": 2, "from_logits": True}``.

    Values are read by :func:`parse_value`; a key given twice is an error naming ``option``.

    >>> parse_params(["delta=2", "betas=0.9,0.99", "from-logits=yes"], "--loss-param")
    {'delta': 2, 'betas': [0.9, 0.99], 'from_logits': True}
    """
    out: dict[str, Any] = {}
    for item in items or ():
        key, value = _split_item(item, option)
        if key in out:
            raise UsageError(f"{option}: {key} is given twice")
        out[key] = parse_value(value)
    return out


def parse_scoped_params(
    items: Iterable[str] | None, option: str, scopes: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """Parameters per scope: ``huber.delta=1.5`` goes to ``huber``, an unscoped ``delta=1.5`` to all.

    ``scopes`` are the names the command works with (e.g. the losses of ``plot``); a scope not
    among them is an error naming ``option``.

    >>> parse_scoped_params(["huber.delta=1.5", "reduction=sum"], "--loss-param", ["mse", "huber"])
    {'mse': {'reduction': 'sum'}, 'huber': {'reduction': 'sum', 'delta': 1.5}}
    """
    common: dict[str, Any] = {}
    scoped: dict[str, dict[str, Any]] = {s: {} for s in scopes}
    for item in items or ():
        key, value = _split_item(item, option)
        scope, dot, name = key.rpartition(".")
        if not dot:
            target, name = common, key
        elif scope in scoped:
            target = scoped[scope]
        else:
            raise UsageError(f"{option}: {scope!r} in {item!r} is not one of {', '.join(scopes)}")
        if name in target:
            raise UsageError(f"{option}: {key} is given twice")
        target[name] = parse_value(value)
    return {s: {**common, **params} for s, params in scoped.items()}


FIGURE_FORMATS = ("png", "svg", "pdf")


def output_path(
    path: str | Path,
    *,
    option: str = "--out",
    default_name: str = "figure",
    formats: Sequence[str] = FIGURE_FORMATS,
) -> Path:
    """Where a command writes a file, checked before any work is done.

    An existing directory gets ``default_name.<first format>`` inside it; a name without a
    suffix gets ``.<first format>``; the suffix must be one of ``formats`` and the directory must
    exist. The returned path is the one to write to and to print.

    >>> output_path("curves", default_name="race").name
    'curves.png'
    >>> output_path("curves.svg").suffix
    '.svg'
    """
    p = Path(path).expanduser()
    if p.is_dir():
        p = p / f"{default_name}.{formats[0]}"
    elif not p.suffix:
        p = p.with_name(f"{p.name}.{formats[0]}")
    suffix = p.suffix.lower().lstrip(".")
    if suffix not in formats:
        raise UsageError(
            f"{option}: cannot write {suffix!r} files ({str(path)!r}); use one of "
            + ", ".join(f".{f}" for f in formats)
        )
    if not p.parent.is_dir():
        raise UsageError(f"{option}: the directory {str(p.parent)!r} does not exist (create it first)")
    return p
