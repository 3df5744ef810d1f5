r"""The experiment declaration, the verdict rule, the result and the registry.

An :class:`Experiment` is declared once, in its own module; :func:`run` merges its parameters
(defaults, then the quick defaults when ``quick=True``, then the caller's overrides), calls its
``compute`` function, and decides the verdict from the metrics with its :class:`VerdictRule`.

Verdicts are computed, never written: a :class:`Criterion` compares one metric with a stated
threshold (optionally requiring the whole interval ``mean +- spread`` across seeds to lie on the
claimed side), and the rule combines them:

* any criterion fails: ``"does not hold"``;
* every criterion passes and every qualifier passes: ``"holds"``;
* every criterion passes but some qualifier fails: ``"holds only when <the qualifier's words>"``
  (the claim is true in the setting tested, but not beyond the named condition).

``verdict_reason`` lists every comparison with its numbers, so the page shows what decided it.
"""

from __future__ import annotations

import importlib
import math
import pkgutil
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from losslab._core.registry import Registry
from losslab._core.validation import check_bool, check_choice, check_int

if TYPE_CHECKING:  # pragma: no cover - typing only
    from matplotlib.figure import Figure

__all__ = [
    "Claim",
    "Criterion",
    "Experiment",
    "Outcome",
    "Qualifier",
    "Result",
    "Table",
    "VerdictRule",
    "get",
    "mean_sem",
    "mean_std",
    "names",
    "register",
    "run",
    "seed_list",
]

Comparison = Literal[">", ">=", "<", "<="]
COMPARISONS: tuple[str, ...] = (">", ">=", "<", "<=")
HOLDS = "holds"
DOES_NOT_HOLD = "does not hold"
HOLDS_ONLY_WHEN = "holds only when"


# --------------------------------------------------------------------------- declarations


@dataclass(frozen=True)
class Claim:
    """The curriculum's words, quoted, with the seed file and the section they come from.

    ``quote`` is verbatim (whitespace and Markdown emphasis aside); separate lines or bullets of
    the source are joined with ``" · "``.
    """

    quote: str
    source: str
    section: str

    @property
    def citation(self) -> str:
        """``"002 §12 Hands-On Lab"``: the seed file's number and the section."""
        return f"{self.source.split('_')[0]} {self.section}"


@dataclass(frozen=True)
class Criterion:
    """``metric OP threshold``: one comparison of a computed number with a stated threshold.

    ``spread`` names a metric holding the standard deviation of ``metric`` across seeds; the
    criterion then passes only when the whole interval ``metric +- spread`` lies on the claimed
    side of the threshold (an effect smaller than the seed-to-seed noise does not count).
    ``meaning`` says in words what the metric measures.
    """

    metric: str
    op: Comparison
    threshold: float
    spread: str | None = None
    meaning: str = ""

    def __post_init__(self) -> None:
        check_choice("Criterion", "op", self.op, COMPARISONS)

    def value(self, metrics: Mapping[str, float]) -> tuple[float, float]:
        """The metric and its spread (0 without one); a missing or non-finite metric raises."""
        out = []
        for key in (self.metric, self.spread):
            if key is None:
                out.append(0.0)
                continue
            if key not in metrics:
                raise ValueError(f"verdict: the rule needs metric {key!r}, which the run did not compute")
            v = float(metrics[key])
            if not math.isfinite(v):
                raise ValueError(f"verdict: metric {key!r} is {v}, so no verdict can be computed")
            out.append(v)
        return out[0], out[1]

    def passes(self, metrics: Mapping[str, float]) -> bool:
        """Whether the comparison holds (with the spread against the claim, when given)."""
        v, s = self.value(metrics)
        # the end of the interval least favourable to the claim
        edge = v - s if self.op in (">", ">=") else v + s
        return {
            ">": edge > self.threshold,
            ">=": edge >= self.threshold,
            "<": edge < self.threshold,
            "<=": edge <= self.threshold,
        }[self.op]

    def describe(self, metrics: Mapping[str, float]) -> str:
        """``"mse_slope_excess = 0.31 ± 0.02 > 0.1: yes"`` -- the numbers that decided."""
        v, s = self.value(metrics)
        shown = f"{_fmt(v)} ± {_fmt(s)}" if self.spread else _fmt(v)
        words = f" ({self.meaning})" if self.meaning else ""
        mark = "yes" if self.passes(metrics) else "no"
        return f"{self.metric}{words} = {shown} {self.op} {_fmt(self.threshold)}: {mark}"


@dataclass(frozen=True)
class Qualifier:
    """A further comparison whose failure narrows the claim: ``"holds only when <only_when>"``."""

    criterion: Criterion
    only_when: str


@dataclass(frozen=True)
class VerdictRule:
    """The claim as data: every ``criteria`` must pass; failed ``qualifiers`` narrow the verdict."""

    criteria: tuple[Criterion, ...]
    qualifiers: tuple[Qualifier, ...] = ()

    def __post_init__(self) -> None:
        if not self.criteria:
            raise ValueError("VerdictRule: criteria must name at least one comparison")

    def metrics_used(self) -> list[str]:
        """Every metric the rule reads."""
        used = []
        for c in (*self.criteria, *(q.criterion for q in self.qualifiers)):
            used += [c.metric] + ([c.spread] if c.spread else [])
        return used

    def decide(self, metrics: Mapping[str, float]) -> tuple[str, str]:
        """``(verdict, reason)`` from the metrics."""
        lines = [c.describe(metrics) for c in self.criteria]
        if not all(c.passes(metrics) for c in self.criteria):
            return DOES_NOT_HOLD, "; ".join(lines)
        failed = [q for q in self.qualifiers if not q.criterion.passes(metrics)]
        lines += [q.criterion.describe(metrics) for q in self.qualifiers]
        if failed:
            return f"{HOLDS_ONLY_WHEN} {' and '.join(q.only_when for q in failed)}", "; ".join(lines)
        return HOLDS, "; ".join(lines)


@dataclass
class Table:
    """A table of results: ``columns`` and ``rows`` (numbers or text), a title and a note."""

    title: str
    columns: list[str]
    rows: list[list[Any]]
    note: str = ""

    def __post_init__(self) -> None:
        self.rows = [[_plain(c) for c in row] for row in self.rows]
        for row in self.rows:
            if len(row) != len(self.columns):
                raise ValueError(
                    f"Table {self.title!r}: each row needs {len(self.columns)} cells, got {len(row)}"
                )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: numbers as floats or ints, everything else as text."""
        return {
            "title": self.title,
            "columns": list(self.columns),
            "rows": [[_jsonable(c) for c in row] for row in self.rows],
            "note": self.note,
        }


@dataclass
class Outcome:
    """What an experiment's ``compute`` returns: metrics (numbers), tables and data for figures."""

    metrics: dict[str, float]
    tables: list[Table] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)


Compute = Callable[[dict[str, Any], int], Outcome]
Draw = Callable[["Result"], "dict[str, Figure]"]


@dataclass(frozen=True)
class Experiment:
    """One runnable experiment, declared once.

    ``name``
        registry name, words joined by ``-`` (``"robust-regression"``).
    ``title``, ``claim``, ``setup``
        the heading, the quoted claim and the set-up in words (``str.format`` fields name
        parameters: ``"{epochs} epochs"``).
    ``defaults``, ``quick``
        parameters of a full run, and the ones a quick run changes (smaller sizes, fewer seeds).
    ``compute``
        ``compute(params, seed) -> Outcome``: the computation, with no drawing.
    ``rule``
        the :class:`VerdictRule` deciding the verdict from the metrics.
    ``counterfactual``
        parameter overrides under which the claim should fail (data without outliers, balanced
        classes, ...): the test suite runs them and asserts the verdict changes.
    ``figures``
        ``figures(result) -> {name: Figure}``, drawn with :mod:`losslab.viz` on demand (the
        metrics never need matplotlib).
    ``order``
        the position in the tour (see the package docstring for the ranges).
    """

    name: str
    title: str
    claim: Claim
    setup: str
    defaults: Mapping[str, Any]
    compute: Compute
    rule: VerdictRule
    counterfactual: Mapping[str, Any]
    quick: Mapping[str, Any] = field(default_factory=dict)
    figures: Draw | None = None
    order: int = 1000

    def __post_init__(self) -> None:
        for label, given in (("quick", self.quick), ("counterfactual", self.counterfactual)):
            unknown = sorted(set(given) - set(self.defaults))
            if unknown:
                raise ValueError(
                    f"Experiment {self.name}: {label} names unknown parameter(s) {', '.join(unknown)}; "
                    f"parameters: {', '.join(sorted(self.defaults))}"
                )
        if not self.counterfactual:
            raise ValueError(
                f"Experiment {self.name}: declare a counterfactual (overrides that break the claim)"
            )

    def params_for(self, quick: bool = False, **overrides: Any) -> dict[str, Any]:
        """Defaults, then the quick defaults, then ``overrides`` (unknown names raise ``TypeError``)."""
        unknown = sorted(set(overrides) - set(self.defaults))
        if unknown:
            raise TypeError(
                f"experiments.run: {self.name} has no parameter(s) {', '.join(unknown)}; "
                f"valid parameters: {', '.join(sorted(self.defaults))}"
            )
        params = dict(self.defaults)
        if quick:
            params.update(self.quick)
        params.update(overrides)
        return params

    def run(self, seed: int = 0, quick: bool = False, **overrides: Any) -> Result:
        """Run with ``seed``; see :func:`run`."""
        seed = check_int("experiments.run", "seed", seed, minimum=0)
        quick = check_bool("experiments.run", "quick", quick)
        params = self.params_for(quick, **overrides)
        start = time.perf_counter()
        outcome = self.compute(params, seed)
        elapsed = time.perf_counter() - start
        metrics = {k: float(v) for k, v in outcome.metrics.items()}
        verdict, reason = self.rule.decide(metrics)
        return Result(
            experiment=self,
            seed=seed,
            quick=quick,
            params=params,
            metrics=metrics,
            tables=list(outcome.tables),
            data=dict(outcome.data),
            verdict=verdict,
            verdict_reason=reason,
            elapsed_s=elapsed,
        )


@dataclass
class Result:
    """A finished run: parameters, metrics, tables, data, the verdict and the numbers behind it.

    ``figures`` draws the experiment's figures (with :mod:`losslab.viz`) the first time it is read.
    """

    experiment: Experiment
    seed: int
    quick: bool
    params: dict[str, Any]
    metrics: dict[str, float]
    tables: list[Table]
    data: dict[str, Any]
    verdict: str
    verdict_reason: str
    elapsed_s: float
    _figures: dict[str, Figure] | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        """The experiment's registry name."""
        return self.experiment.name

    @property
    def title(self) -> str:
        """The experiment's heading."""
        return self.experiment.title

    @property
    def claim(self) -> Claim:
        """The quoted claim with its source."""
        return self.experiment.claim

    @property
    def setup(self) -> str:
        """The set-up in words, with this run's parameters filled in."""
        return self.experiment.setup.format(**self.params)

    @property
    def holds(self) -> bool:
        """Whether the verdict is an unqualified ``"holds"``."""
        return self.verdict == HOLDS

    @property
    def figures(self) -> dict[str, Figure]:
        """``{name: matplotlib Figure}`` drawn from this result (empty if the experiment draws none)."""
        if self._figures is None:
            draw = self.experiment.figures
            self._figures = {} if draw is None else dict(draw(self))
        return self._figures

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary: claim, parameters, metrics, tables, verdict and its reason."""
        return {
            "name": self.name,
            "title": self.title,
            "claim": {
                "quote": self.claim.quote,
                "source": self.claim.source,
                "section": self.claim.section,
            },
            "setup": self.setup,
            "seed": self.seed,
            "quick": self.quick,
            "params": {k: _jsonable(v) for k, v in self.params.items()},
            "metrics": {k: _jsonable(v) for k, v in self.metrics.items()},
            "tables": [t.to_dict() for t in self.tables],
            "verdict": self.verdict,
            "verdict_reason": self.verdict_reason,
            "elapsed_s": self.elapsed_s,
        }

    def __repr__(self) -> str:
        return f"Result({self.name!r}, verdict={self.verdict!r}, {len(self.metrics)} metrics)"


# --------------------------------------------------------------------------- registry

_REGISTRY: Registry[Experiment] = Registry("experiment", separator="-")
_loaded = False


def register(experiment: Experiment) -> Experiment:
    """Add an experiment to the catalog (a module's last line: ``register(EXPERIMENT)``)."""
    if not isinstance(experiment, Experiment):
        raise TypeError(f"register: expected an Experiment, got {type(experiment).__name__}")
    return _REGISTRY.register(experiment.name, experiment)


def _load() -> None:
    """Import every module of the package (each registers its experiment) once."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    from losslab import experiments as package

    for info in pkgutil.iter_modules(package.__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"{package.__name__}.{info.name}")


def names() -> list[str]:
    """Registered experiment names, in tour order."""
    _load()
    return [e.name for e in sorted((e for _, e in _REGISTRY.items()), key=lambda e: (e.order, e.name))]


def get(name: str) -> Experiment:
    """The experiment registered under ``name`` (``-`` or ``_`` between words)."""
    _load()
    return _REGISTRY.get(name)


def run(name: str, seed: int = 0, quick: bool = False, **overrides: Any) -> Result:
    """Run experiment ``name`` with ``seed`` (``quick=True``: small sizes); ``overrides`` set parameters.

    >>> import losslab as ll
    >>> r = ll.experiments.run("ce-vs-mse", quick=True)
    >>> r.verdict
    'holds'
    """
    return get(name).run(seed=seed, quick=quick, **overrides)


# --------------------------------------------------------------------------- helpers for experiments


def seed_list(seed: int, n: int) -> list[int]:
    """``n`` independent integer seeds derived from ``seed`` (the same ``seed``, the same list)."""
    n = check_int("seed_list", "n", n, minimum=1)
    return [int(s) for s in np.random.SeedSequence(seed).generate_state(n)]


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for a single value) of per-seed results."""
    arr = np.asarray(values, dtype=np.float64)
    return float(arr.mean()), float(arr.std(ddof=1)) if arr.size > 1 else 0.0


def mean_sem(values: Sequence[float]) -> tuple[float, float]:
    """Mean and standard error of the mean (std / sqrt(n); 0 for a single value) of per-seed results."""
    mean, std = mean_std(values)
    return mean, std / math.sqrt(len(values))


def _fmt(x: float) -> str:
    if x == 0 or 1e-3 <= abs(x) < 1e5:
        return f"{x:.4g}"
    return f"{x:.3e}"


def _plain(x: Any) -> Any:
    """NumPy scalars as Python numbers (tables hold plain values)."""
    if isinstance(x, np.generic):
        return x.item()
    return x


def _jsonable(x: Any) -> Any:
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        v = float(x)
        return v if math.isfinite(v) else str(v)
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, Mapping):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if x is None or isinstance(x, str):
        return x
    return str(x)
