"""The text of a loss's card, from its declaration: what ``help(loss)`` and notebooks show.

Built on first use (``Loss.__doc__`` on an instance calls :func:`card_text`), so importing the
zoo costs nothing for it.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

__all__ = ["card_markdown", "card_text", "example"]


def _aliases(loss: Any) -> list[str]:
    from losslab.losses._spec import aliases

    out = []
    for alias, (name, params) in aliases().items():
        if name == loss.name:
            bound = ", ".join(f"{k}={v!r}" for k, v in params.items())
            out.append(f"{alias} ({bound})" if bound else alias)
    return out


def _small(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim >= 2 and x.shape[0] > 2:
        x = x[:2]
    if x.dtype.kind == "f":
        x = np.round(x, 2)
    return x


def example(loss: Any) -> tuple[dict[str, np.ndarray], Any] | None:
    """Small inputs drawn from the declaration's sampler (seed 0) and the loss's value on them.

    ``None`` where the sampler cannot give them (the text then shows the call only).
    """
    try:
        arrays = [np.asarray(a) for a in loss.sample(np.random.default_rng(0))]
    except Exception:  # the card must never fail; the example is optional
        return None
    for candidate in ([_small(a) for a in arrays], arrays):
        try:
            return dict(zip(loss.inputs, candidate)), loss(*candidate)
        except Exception:  # (e.g. the first rows of index arrays point past the smaller batch)
            continue
    return None


def _fmt(x: Any) -> str:
    a = np.asarray(x)
    if a.dtype.kind == "f":
        a = np.round(a, 4)
    return repr(a.tolist()) if a.size <= 12 else np.array2string(a, precision=4, separator=", ", threshold=12)


def _rows(loss: Any) -> list[tuple[str, str]]:
    info = loss.info
    rows = [("formula", info.formula), ("gradient", info.gradient)]
    for name in loss.inputs:
        domain = getattr(info, name, "") if name in ("y_pred", "y_true") else ""
        rows.append((name, domain or "an array"))
    return rows


def card_text(loss: Any) -> str:
    """The plain-text card: summary, signature, formula, gradient, parameters, conventions, example.

    >>> import losslab as ll
    >>> text = card_text(ll.losses.huber)
    >>> "delta=1.0" in text and "torch.nn.HuberLoss" in text and "Example" in text
    True
    """
    info = loss.info
    sig = f"{loss.name}{inspect.signature(loss)}"
    lines = [info.summary or loss.name, "", sig, ""]
    if loss.doc:
        lines += [inspect.cleandoc(loss.doc), ""]
    lines += [f"Task: {info.task} ({info.kind.replace('_', '-')}); gradient with respect to "
              f"{', '.join(info.differentiable_inputs)}.", ""]  # fmt: skip
    lines += [f"{key}: {value}" for key, value in _rows(loss)]
    lines += ["", "Parameters (keyword-only, with defaults):"]
    lines.append(
        f"    reduction={loss.default_reduction!r}: 'mean', 'sum' or 'none' (also 'sum_over_batch_size', None)"
    )
    lines.append("    sample_weight=None: weights broadcast against the unreduced loss")
    for key, p in loss.params.items():
        lines.append(f"    {key}={p.default!r}: {p.doc or '-'}")
    lines += ["", "Properties: " + ", ".join(
        f"{k} {'yes' if getattr(info, k) else 'no'}" for k in ("convex", "robust", "differentiable")
    )]  # fmt: skip
    lines += ["", "Argument order: " + ", ".join(loss.inputs) + " (PyTorch's (input, target); Keras "
              "passes (y_true, y_pred): use keywords, loss(y_true=t, y_pred=p), to be safe)."]  # fmt: skip
    lines.append(f"PyTorch: {info.torch or '-'}")
    lines.append(f"Keras: {info.keras or '-'}")
    if info.conventions:
        lines.append(f"Conventions: {info.conventions}")
    names = [*info.aliases, *[a for a in _aliases(loss) if a.split(" ")[0] not in info.aliases]]
    if names:
        lines.append(f"Aliases: {', '.join(names)}")
    if info.use_when:
        lines.append(f"Use when: {info.use_when}")
    ex = example(loss)
    call = ", ".join(loss.inputs)
    lines += ["", "Example (inputs from the declaration's sampler):"]
    if ex is None:
        lines.append(f"    ll.losses.{loss.name}({call})")
    else:
        arrays, value = ex
        for name, arr in arrays.items():
            lines.append(f"    {name} = {_fmt(arr)}")
        lines.append(f"    ll.losses.{loss.name}({call}) gives {_fmt(value)}")
    if info.references:
        lines += ["", "References:", *[f"    {r}" for r in info.references]]
    return "\n".join(lines) + "\n"


def card_markdown(loss: Any) -> str:
    """The card as Markdown (notebooks: ``Loss._repr_markdown_``)."""
    info = loss.info
    out = [f"**{loss.name}** — {info.summary}", "", f"`{loss.name}{inspect.signature(loss)}`", ""]
    out += [f"- formula: ${info.formula}$", f"- gradient: ${info.gradient}$"]
    for key, p in loss.params.items():
        out.append(f"- `{key}={p.default!r}`: {p.doc or '-'}")
    out.append(f"- PyTorch: `{info.torch or '-'}`; Keras: `{info.keras or '-'}`")
    if info.conventions:
        out.append(f"- conventions: {info.conventions}")
    return "\n".join(out) + "\n"
