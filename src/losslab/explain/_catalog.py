"""The loss catalog: a card per registered loss and ``docs/losses.md``, generated from the registry.

``python -m losslab.explain.catalog > docs/losses.md`` regenerates the committed file; a test
fails when it is stale. ``losslab show NAME`` prints the same card.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

from losslab.losses._spec import TASKS, Loss, aliases, get, names

__all__ = ["LossCard", "card", "catalog_markdown", "main"]

GENERATED_NOTE = (
    "<!-- Generated from the loss registry by `python -m losslab.explain.catalog > docs/losses.md`;"
    " do not edit by hand. -->"
)


@dataclass(frozen=True)
class LossCard:
    """Everything known about a loss, from its declaration, in display order."""

    name: str
    task: str
    kind: str
    summary: str
    formula: str
    gradient: str
    convex: bool
    robust: bool
    differentiable: bool
    params: tuple[tuple[str, Any, str], ...]
    inputs: tuple[str, ...]
    differentiable_inputs: tuple[str, ...]
    domains: tuple[tuple[str, str], ...]
    use_when: str
    conventions: str
    torch: str | None
    keras: str | None
    aliases: tuple[str, ...]
    references: tuple[str, ...]

    @property
    def properties(self) -> dict[str, bool]:
        return {"convex": self.convex, "robust": self.robust, "differentiable": self.differentiable}

    def _repr_markdown_(self) -> str:
        """The card as in ``docs/losses.md``, for notebooks."""
        return "\n".join(_section(self))


def card(loss: str | Loss) -> LossCard:
    """The :class:`LossCard` of a registered loss (or of its name or alias).

    >>> card("huber").params
    (('delta', 1.0, 'threshold between the quadratic and linear parts'),)
    """
    loss = get(loss) if isinstance(loss, str) else loss
    info = loss.info
    domains = tuple((n, d) for n, d in (("y_pred", info.y_pred), ("y_true", info.y_true)) if d)
    return LossCard(
        name=loss.name,
        task=info.task,
        kind=info.kind,
        summary=info.summary,
        formula=info.formula,
        gradient=info.gradient,
        convex=info.convex,
        robust=info.robust,
        differentiable=info.differentiable,
        params=tuple((k, p.default, p.doc) for k, p in loss.params.items()),
        inputs=tuple(info.inputs),
        differentiable_inputs=tuple(info.differentiable_inputs),
        domains=domains,
        use_when=info.use_when,
        conventions=info.conventions,
        torch=info.torch,
        keras=info.keras,
        aliases=_aliases_of(loss.name),
        references=tuple(info.references),
    )


def _aliases_of(name: str) -> tuple[str, ...]:
    """Every alias of a loss, bound parameters shown: ``bce_with_logits (from_logits=True)``."""
    out = []
    for alias, (target, params) in aliases().items():
        if target == name:
            bound = ", ".join(f"{k}={v!r}" for k, v in params.items())
            out.append(f"{alias} ({bound})" if bound else alias)
    return tuple(out)


def _cell(text: str) -> str:
    """A markdown table cell: pipes would split the row."""
    return text.replace("|", r"\|").replace("\n", " ")


def _math_cell(latex: str) -> str:
    """LaTeX inside a table cell: bars written as ``\\vert`` so no pipe reaches the table."""
    latex = latex.replace(r"\|", r"\Vert ").replace("|", r"\vert ")
    return f"${latex}$" if latex else "-"


def _code(text: str | None) -> str:
    return f"`{text}`" if text else "-"


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _section(c: LossCard) -> list[str]:
    out = [f"### `{c.name}`", ""]
    if c.summary:
        out += [c.summary, ""]
    out += [
        f"- **Task:** {c.task} ({c.kind.replace('_', '-')}); inputs `{', '.join(c.inputs)}`, "
        f"gradient with respect to `{', '.join(c.differentiable_inputs)}`",
        "- **Properties:** " + ", ".join(f"{k} {_yes(v)}" for k, v in c.properties.items()),
    ]
    if c.aliases:
        out.append("- **Aliases:** " + ", ".join(f"`{a}`" for a in c.aliases))
    out.append("")
    out += ["$$", c.formula, "$$", "", "$$", c.gradient, "$$", ""]
    if c.params:
        out += ["| parameter | default | meaning |", "|---|---|---|"]
        out += [f"| `{k}` | `{v!r}` | {_cell(doc) or '-'} |" for k, v, doc in c.params]
        out.append("")
    else:
        out += ["No parameters.", ""]
    for name, domain in c.domains:
        out.append(f"- **`{name}`:** {domain}")
    if c.use_when:
        out.append(f"- **Use when:** {c.use_when}")
    out.append(f"- **PyTorch:** {_code(c.torch)}; **Keras:** {_code(c.keras)}")
    if c.conventions:
        out.append(f"- **Conventions:** {c.conventions}")
    if c.references:
        out.append("- **References:** " + "; ".join(c.references))
    out.append("")
    return out


def catalog_markdown() -> str:
    """``docs/losses.md``: a table of every registered loss, then a section per loss.

    Deterministic (sorted by task order, then name), so the committed file can be checked.
    """
    cards = [card(n) for n in names()]
    order = {t: k for k, t in enumerate(TASKS)}
    cards.sort(key=lambda c: (order.get(c.task, len(order)), c.name))
    lines = [
        GENERATED_NOTE,
        "",
        "# The losslab loss catalog",
        "",
        f"Every registered loss ({len(cards)}), generated from its declaration. Arguments are "
        "`(y_pred, y_true)`; gradients are with respect to `y_pred` (the logits when "
        '`from_logits=True`). `reduction="mean"` averages over elements (element-wise losses) '
        "or over samples after summing the class axis. "
        "`losslab show NAME` prints a section; `losslab explain NAME --y-pred ... --y-true ...` "
        "works an example by hand.",
        "",
        "| name | task | formula | gradient | convex | robust | differentiable | PyTorch | Keras |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for c in cards:
        lines.append(
            f"| [`{c.name}`](#{c.name}) | {c.task} | {_math_cell(c.formula)} | {_math_cell(c.gradient)} | "
            f"{_yes(c.convex)} | {_yes(c.robust)} | {_yes(c.differentiable)} | {_cell(_code(c.torch))} | "
            f"{_cell(_code(c.keras))} |"
        )
    lines.append("")
    task = None
    for c in cards:
        if c.task != task:
            task = c.task
            lines += [f"## {task.capitalize()} losses", ""]
        lines += _section(c)
    return "\n".join(lines).rstrip() + "\n"


def main() -> None:
    """Write the catalog to stdout."""
    sys.stdout.write(catalog_markdown())
