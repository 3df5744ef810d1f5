"""The tour's single self-contained HTML page: inline CSS, figures as PNG data URIs, no scripts."""

from __future__ import annotations

import html
import math
import platform
from pathlib import Path
from typing import TYPE_CHECKING, Any

from losslab.experiments._framework import DOES_NOT_HOLD, HOLDS, HOLDS_ONLY_WHEN
from losslab.report._markdown import markdown_to_html
from losslab.report._math import latex_to_html

if TYPE_CHECKING:  # pragma: no cover
    from losslab.report.tour import Entry, Tour

__all__ = ["ERRATA_PATH", "render"]

#: The curriculum errata, shown as an appendix (found next to the sources in a checkout).
ERRATA_PATH = Path(__file__).resolve().parents[3] / "docs" / "curriculum-errata.md"

CSS = """
:root { --ink:#1d2330; --muted:#5b6475; --line:#d9dee7; --bg:#ffffff; --panel:#f6f8fb;
  --holds:#1f7a45; --holds-bg:#e3f4ea; --fails:#b3261e; --fails-bg:#fbe7e5;
  --only:#8a5a00; --only-bg:#fdf1d6; --error:#5a2d82; --error-bg:#efe6f7; --accent:#2952a3; }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.55 -apple-system, "Segoe UI", Roboto, "DejaVu Sans", Arial, sans-serif;
  color:var(--ink); background:var(--bg); }
main { max-width: 1080px; margin: 0 auto; padding: 24px 28px 48px; }
header.top { background: linear-gradient(135deg,#1e3a73,#2952a3); color:#fff; padding: 28px 0 22px; }
header.top .inner { max-width:1080px; margin:0 auto; padding:0 28px; }
header.top h1 { margin:0 0 6px; font-size: 30px; letter-spacing: .2px; }
header.top p { margin: 0; opacity: .92; }
h2 { font-size: 22px; margin: 0 0 10px; }
h3 { font-size: 17px; margin: 22px 0 8px; }
h4 { font-size: 15px; margin: 18px 0 6px; }
a { color: var(--accent); text-decoration: none; } a:hover { text-decoration: underline; }
nav#contents { background: var(--panel); border:1px solid var(--line); border-radius:8px; padding: 12px 18px;
  margin: 18px 0 26px; }
nav#contents ol { margin: 6px 0 0; padding-left: 22px; columns: 2; column-gap: 36px; }
nav#contents li { margin: 2px 0; break-inside: avoid; }
section.experiment, section.appendix, section#summary { border-top: 1px solid var(--line); padding-top: 22px;
  margin-top: 26px; }
.badge { display:inline-block; padding: 2px 10px; border-radius: 999px; font-size: 13px; font-weight: 600;
  white-space: nowrap; border: 1px solid transparent; vertical-align: middle; }
.badge.holds { color: var(--holds); background: var(--holds-bg); border-color: #b9e2c8; }
.badge.fails { color: var(--fails); background: var(--fails-bg); border-color: #f2c3bf; }
.badge.only { color: var(--only); background: var(--only-bg); border-color: #f1d9a0; white-space: normal;
  border-radius: 8px; }
.badge.error { color: var(--error); background: var(--error-bg); border-color: #d9c5ec; }
blockquote.claim { margin: 10px 0 14px; padding: 10px 16px; border-left: 4px solid var(--accent);
  background: var(--panel); font-style: italic; }
blockquote.claim footer { font-style: normal; color: var(--muted); font-size: 13px; margin-top: 6px; }
.verdict { border:1px solid var(--line); border-radius: 8px; padding: 10px 14px; margin: 12px 0; }
.verdict ul { margin: 6px 0 0; padding-left: 20px; font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace;
  font-size: 13px; }
.figures { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 14px; margin: 12px 0; }
figure { margin: 0; border: 1px solid var(--line); border-radius: 8px; padding: 8px; background: #fff; }
figure img { width: 100%; height: auto; display: block; }
figcaption { color: var(--muted); font-size: 13px; text-align: center; margin-top: 4px; }
table { border-collapse: collapse; margin: 8px 0 14px; font-size: 13.5px; width: auto; max-width: 100%; }
caption { text-align: left; font-weight: 600; padding: 4px 0; }
th, td { border: 1px solid var(--line); padding: 4px 9px; text-align: left; vertical-align: top; }
th { background: var(--panel); }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; font-family: "DejaVu Sans Mono", Menlo, monospace; }
.table-wrap { overflow-x: auto; }
p.note { color: var(--muted); font-size: 13px; margin-top: -8px; }
details { margin: 8px 0; } summary { cursor: pointer; color: var(--muted); }
pre.error { background: var(--error-bg); padding: 10px; border-radius: 6px; overflow-x: auto; font-size: 12.5px; }
.math { font-family: "DejaVu Serif", "Cambria Math", Georgia, serif; }
.cases { display: inline-flex; flex-direction: column; border-left: 2px solid var(--ink); padding-left: 6px;
  margin: 0 4px; vertical-align: middle; }
.cases > .case { display: block; } .cond { color: var(--muted); margin-left: 12px; }
footer.page { margin-top: 36px; border-top: 1px solid var(--line); padding-top: 12px; color: var(--muted);
  font-size: 13px; }
.counts span { margin-right: 14px; }
td.decided { font-size: 12.5px; color: var(--muted); max-width: 420px; }
td.name { white-space: nowrap; }
"""


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _slug(name: str) -> str:
    return "exp-" + "".join(c if c.isalnum() or c == "-" else "-" for c in name)


def badge(verdict: str | None) -> str:
    """The verdict as a coloured badge (``None``: the experiment failed to run)."""
    if verdict is None:
        return '<span class="badge error">error</span>'
    if verdict == HOLDS:
        cls = "holds"
    elif verdict == DOES_NOT_HOLD:
        cls = "fails"
    elif verdict.startswith(HOLDS_ONLY_WHEN):
        cls = "only"
    else:  # pragma: no cover - the framework only produces the three forms
        cls = "error"
    return f'<span class="badge {cls}">{_e(verdict)}</span>'


def _number(x: Any) -> str:
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int):
        return str(x)
    if isinstance(x, float):
        if not math.isfinite(x):
            return str(x)
        if x == 0 or 1e-3 <= abs(x) < 1e5:
            return f"{x:.4g}"
        return f"{x:.3e}"
    return _e(x)


def _cell(x: Any) -> str:
    cls = ' class="num"' if isinstance(x, (int, float)) and not isinstance(x, bool) else ""
    return f"<td{cls}>{_number(x)}</td>"


def _table(title: str, columns: list[str], rows: list[list[Any]], note: str = "") -> str:
    head = "".join(f"<th>{_e(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(_cell(c) for c in row) + "</tr>" for row in rows)
    out = (
        f'<div class="table-wrap"><table><caption>{_e(title)}</caption><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )
    return out + (f'<p class="note">{_e(note)}</p>' if note else "")


def _entry(index: int, entry: Entry) -> str:
    sid = _slug(entry.name)
    r = entry.result
    if r is None:
        return (
            f'<section class="experiment" id="{sid}"><h2>{index}. {_e(entry.title)} {badge(None)}</h2>'
            f"<p>The experiment <code>{_e(entry.name)}</code> failed to run; the error:</p>"
            f'<pre class="error">{_e(entry.error or "")}</pre></section>'
        )
    claim = r.claim
    parts = [
        f'<section class="experiment" id="{sid}">',
        f"<h2>{index}. {_e(r.title)}</h2>",
        f'<blockquote class="claim">“{_e(claim.quote)}”<footer>— seed {_e(claim.citation)} '
        f"(<code>{_e(claim.source)}</code>)</footer></blockquote>",
        f"<p><strong>Setup.</strong> {_e(r.setup)}</p>",
        f'<div class="verdict"><strong>Verdict:</strong> {badge(r.verdict)}'
        f"<ul>{''.join(f'<li>{_e(line)}</li>' for line in r.verdict_reason.split('; '))}</ul></div>",
    ]
    if entry.figures:
        figs = "".join(
            f'<figure><img src="{uri}" alt="{_e(name)}"><figcaption>{_e(name)}</figcaption></figure>'
            for name, uri in entry.figures.items()
        )
        parts.append(f'<div class="figures">{figs}</div>')
    for name, err in entry.figure_errors.items():
        parts.append(f'<p class="note">figure “{_e(name)}” could not be drawn: {_e(err)}</p>')
    for t in r.tables:
        parts.append(_table(t.title, t.columns, t.rows, t.note))
    metric_rows: list[list[Any]] = [[k, v] for k, v in r.metrics.items()]
    parts.append(
        f"<details><summary>All metrics ({len(metric_rows)}) and parameters</summary>"
        + _table("Metrics", ["metric", "value"], metric_rows)
        + _table("Parameters", ["parameter", "value"], [[k, _param(v)] for k, v in r.params.items()])
        + "</details>"
    )
    parts.append(f'<p class="note">Run time {entry.elapsed_s:.2f} s, seed {r.seed}.</p></section>')
    return "\n".join(parts)


def _param(v: Any) -> Any:
    return v if isinstance(v, (int, float, str)) else str(v)


def _summary(tour: Tour) -> str:
    rows = []
    for i, entry in enumerate(tour.entries, 1):
        r = entry.result
        cite = _e(r.claim.citation) if r is not None else "-"
        verdict = badge(r.verdict if r is not None else None)
        decided = _e(r.verdict_reason.split("; ")[0]) if r is not None else "the experiment raised an error"
        rows.append(
            f'<tr><td class="num">{i}</td><td class="name"><a href="#{_slug(entry.name)}">{_e(entry.name)}</a></td>'
            f'<td>{cite}</td><td>{verdict}</td><td class="decided">{decided}</td>'
            f'<td class="num">{entry.elapsed_s:.2f} s</td></tr>'
        )
    counts = tour.counts()
    tally = "".join(f"<span>{_e(k)}: <strong>{v}</strong></span>" for k, v in counts.items())
    return (
        '<section id="summary"><h2>Summary of verdicts</h2>'
        "<p>Each verdict is computed from the experiment's numbers against thresholds stated with it: "
        f"{badge(HOLDS)} when every comparison the claim needs comes out as claimed, "
        f"{badge(DOES_NOT_HOLD)} when one does not, and {badge(HOLDS_ONLY_WHEN + ' ...')} when the claim is "
        "true here but a further check names the condition it needs. Where noise matters the numbers are "
        "means over several seeds, and a difference counts only beyond its standard error.</p>"
        f'<p class="counts">{tally}</p>'
        '<div class="table-wrap"><table><thead><tr><th>#</th><th>experiment</th><th>claim (seed, section)</th>'
        f"<th>verdict</th><th>decided by</th><th>time</th></tr></thead><tbody>{''.join(rows)}</tbody></table></div></section>"
    )


def _contents(tour: Tour) -> str:
    items = "".join(f'<li><a href="#{_slug(e.name)}">{_e(e.title)}</a></li>' for e in tour.entries)
    items += '<li><a href="#errata">Appendix A: curriculum errata</a></li>'
    items += '<li><a href="#loss-catalog">Appendix B: the loss catalog</a></li>'
    return (
        f'<nav id="contents"><strong>Contents</strong> · <a href="#summary">summary</a><ol>{items}</ol></nav>'
    )


def _errata() -> str:
    if ERRATA_PATH.is_file():
        body = markdown_to_html(ERRATA_PATH.read_text(encoding="utf-8"))
    else:
        body = "<p>The errata file (docs/curriculum-errata.md) is not part of this installation.</p>"
    return f'<section class="appendix" id="errata"><h2>Appendix A: curriculum errata</h2>{body}</section>'


def _catalog() -> str:
    from losslab import losses

    rows = []
    for name in losses.names():
        info = losses.get(name).info
        rows.append(
            f"<tr><td><code>{_e(name)}</code></td><td>{_e(info.task)}</td>"
            f'<td class="math">{latex_to_html(info.formula)}</td>'
            f'<td class="math">{latex_to_html(info.gradient)}</td>'
            f"<td>{'yes' if info.convex else 'no'}</td><td>{'yes' if info.robust else 'no'}</td>"
            f"<td>{_e(info.torch or '-')}</td></tr>"
        )
    return (
        '<section class="appendix" id="loss-catalog"><h2>Appendix B: the loss catalog</h2>'
        f"<p>Every registered loss ({len(rows)}), from its declaration. Arguments are (y_pred, y_true); "
        "gradients are with respect to y_pred (ŷ).</p>"
        '<div class="table-wrap"><table><thead><tr><th>loss</th><th>task</th><th>formula</th><th>gradient</th>'
        f"<th>convex</th><th>robust</th><th>PyTorch</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
        "</div></section>"
    )


def _versions() -> str:
    import matplotlib
    import numpy
    import scipy

    import losslab

    return (
        f"losslab {losslab.__version__} · Python {platform.python_version()} · NumPy {numpy.__version__} · "
        f"SciPy {scipy.__version__} · matplotlib {matplotlib.__version__} · {platform.system()} "
        f"{platform.machine()}"
    )


def render(tour: Tour) -> str:
    """The whole page for a finished :class:`~losslab.report.tour.Tour`."""
    mode = "quick" if tour.quick else "full"
    body = "\n".join(_entry(i, e) for i, e in enumerate(tour.entries, 1))
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>losslab tour: the curriculum's claims, tested</title>
<style>{CSS}</style>
</head>
<body>
<header class="top"><div class="inner">
<h1>losslab tour</h1>
<p>The curriculum's claims, each run as an experiment with its verdict computed from the numbers
({len(tour.entries)} experiments, {mode} mode, seed {tour.seed}).</p>
</div></header>
<main>
{_contents(tour)}
{_summary(tour)}
{body}
{_errata()}
{_catalog()}
<footer class="page">
<p>{_e(_versions())}</p>
<p>Seed {tour.seed} · {mode} mode · run time {tour.elapsed_s:.1f} s · generated {_e(tour.generated)}</p>
</footer>
</main>
</body>
</html>
"""
