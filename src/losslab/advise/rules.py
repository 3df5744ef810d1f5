r"""Rule-based recommendation: the curriculum's decision tree, selection guide and cheat-sheet.

The baseline rules are the curriculum's own: the loss-function decision tree (seed 002 §8.1:
regression → outliers? Huber/MAE : MSE, asymmetric costs → a custom loss; binary → BCE,
imbalanced → focal; multiclass → CCE), the selection guide (seed 001 §8.5: "robust to outliers:
MAE or Huber", "quantile regression: quantile loss", "imbalanced data: weighted BCE or focal
loss", "large number of classes: sparse categorical CE") and the cheat-sheet (seed 000: the
optimizer for each loss, "start with Adam (1e-3)", "LR ~ 1e-2 to 1e-3 for Adam", "cosine LR
schedule" for image classification).

Each candidate is a *variant* (a registered loss with parameters, e.g. BCE with ``pos_weight``)
carrying the loss's declared traits (``ll.losses.get(name).info.traits``) plus what its parameters
add (a weighted BCE handles imbalance). A rule is active in a situation and adds its weight to
every variant whose traits match; the ranking is by total weight, and every weight comes with the
reason and the rule it cites. Parameters come from the situation:

* Huber :math:`\delta = 1.345\,\hat\sigma` with :math:`\hat\sigma` the residual scale (from a
  robust pilot fit in :func:`~losslab.advise.from_data`): Huber's choice, 95% efficiency under
  Gaussian noise while bounding the influence of outliers (Huber 1964; Holland & Welsch 1977).
* quantile :math:`\tau = c_u / (c_u + c_o)` for an under-prediction cost :math:`c_u` and an
  over-prediction cost :math:`c_o` (``asymmetric_cost`` :math:`= c_u/c_o`): the minimizer of the
  expected cost :math:`c_u (y-\hat y)^+ + c_o(\hat y - y)^+` is the :math:`\tau`-quantile of
  :math:`y` (the newsvendor critical ratio; Koenker 2005, §1.3).
* BCE ``pos_weight`` :math:`= n_-/n_+` (PyTorch's ``BCEWithLogitsLoss`` guidance), class weights
  :math:`w_k = n/(K n_k)` (scikit-learn's "balanced"), focal :math:`\gamma = 2` and
  :math:`\alpha = 1 - \pi_+` (the positive class's inverse frequency; Lin et al. 2017 tuned
  :math:`\alpha = 0.25` on COCO, where the focusing term already down-weights easy negatives).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from losslab._core.validation import check_bool, check_choice, check_in_range, check_int, check_positive
from losslab.advise._types import Advice, Candidate, OptimizerChoice, Reason, ScheduleChoice
from losslab.losses._spec import TASKS
from losslab.losses._spec import get as get_loss
from losslab.losses._spec import names as loss_names

__all__ = ["ADVISED_TASKS", "recommend"]

#: The tasks the rules cover; the other registered tasks have no decision rule in the curriculum.
ADVISED_TASKS = ("regression", "binary", "multiclass")

TREE = "002 §8.1 decision tree"
GUIDE = "001 §8.5 selection guide"
SHEET = "000 cheat-sheet"
MYTHS = "002 §9 misconceptions"
MEASURED = "measured"

#: Minority share below which a classification task counts as imbalanced.
IMBALANCED = 0.2
#: Huber's tuning constant: 95% efficiency under Gaussian noise.
HUBER_K = 1.345


@dataclass(frozen=True)
class Situation:
    """What the rules see (all options validated)."""

    task: str
    outliers: bool = False
    heavy_tails: bool = False
    imbalance: float | None = None
    asymmetric_cost: float | None = None
    counts: bool = False
    label_noise: float = 0.0
    n_classes: int | None = None
    class_counts: tuple[int, ...] | None = None
    residual_scale: float | None = None
    one_hot: bool = False

    @property
    def imbalanced(self) -> bool:
        return self.imbalance is not None and self.imbalance < self._threshold()

    def _threshold(self) -> float:
        if self.task == "multiclass" and self.n_classes:
            return 0.5 / self.n_classes  # a class with under half of its uniform share
        return IMBALANCED

    @property
    def asymmetric(self) -> bool:
        return self.asymmetric_cost is not None and self.asymmetric_cost != 1.0


@dataclass(frozen=True)
class Variant:
    """A candidate: a registered loss, how to set its parameters, the traits its parameters add."""

    key: str
    loss: str
    params: Callable[[Situation], dict[str, Any]]
    extra_traits: frozenset[str] = frozenset()
    available: Callable[[Situation], bool] = lambda s: True

    def traits(self) -> frozenset[str]:
        return frozenset(get_loss(self.loss).info.traits) | self.extra_traits


@dataclass(frozen=True)
class Rule:
    """Adds ``weight`` to the variants matching ``traits`` (all of them) or named in ``keys``."""

    active: Callable[[Situation], bool]
    weight: float
    reason: Callable[[Situation], str]
    source: str
    traits: frozenset[str] = frozenset()
    keys: frozenset[str] = frozenset()
    without: frozenset[str] = frozenset()

    def matches(self, v: Variant) -> bool:
        traits = v.traits()
        if self.without & traits:
            return False
        if self.keys:
            return v.key in self.keys
        return bool(self.traits) and self.traits <= traits


# --------------------------------------------------------------------------- parameters


def _huber_delta(s: Situation) -> float:
    return HUBER_K * s.residual_scale if s.residual_scale else 1.0


def _tau(s: Situation) -> float:
    c = s.asymmetric_cost or 1.0
    return c / (c + 1.0)


def _positive_share(s: Situation) -> float | None:
    if s.class_counts is not None and len(s.class_counts) == 2:
        return s.class_counts[1] / sum(s.class_counts)
    return s.imbalance


def _pos_weight(s: Situation) -> float:
    pi = _positive_share(s)
    w = (1.0 - pi) / pi if pi else 1.0
    if s.asymmetric:
        w *= float(s.asymmetric_cost or 1.0)
    return round(w, 4)


def _class_weight(s: Situation) -> list[float] | None:
    if s.class_counts is None:
        return None
    counts = np.asarray(s.class_counts, dtype=float)
    return [round(float(w), 4) for w in counts.sum() / (counts.size * counts)]


def _smoothing(s: Situation) -> float:
    return round(min(0.2, max(0.05, 2.0 * s.label_noise)), 3)


def _focal_alpha(s: Situation) -> float:
    pi = _positive_share(s)
    return 0.25 if pi is None else round(1.0 - pi, 4)


VARIANTS: dict[str, list[Variant]] = {
    "regression": [
        Variant("mse", "mse", lambda s: {}),
        Variant("huber", "huber", lambda s: {"delta": round(_huber_delta(s), 4)}),
        Variant("mae", "mae", lambda s: {}),
        Variant("log_cosh", "log_cosh", lambda s: {}),
        Variant(
            "quantile", "quantile", lambda s: {"tau": round(_tau(s), 4)}, available=lambda s: s.asymmetric
        ),
        Variant(
            "asymmetric_huber",
            "asymmetric_huber",
            lambda s: {
                "delta": round(_huber_delta(s), 4),
                "under_weight": float(s.asymmetric_cost or 1.0),
                "over_weight": 1.0,
            },
            available=lambda s: s.asymmetric,
        ),
        Variant(
            "asymmetric_mse",
            "asymmetric_mse",
            lambda s: {"under_weight": float(s.asymmetric_cost or 1.0), "over_weight": 1.0},
            available=lambda s: s.asymmetric,
        ),
        Variant("poisson_nll", "poisson_nll", lambda s: {}, available=lambda s: s.counts),
    ],
    "binary": [
        Variant("bce", "binary_cross_entropy", lambda s: {}),
        Variant(
            "weighted_bce",
            "binary_cross_entropy",
            lambda s: {"pos_weight": _pos_weight(s)},
            extra_traits=frozenset({"handles_imbalance"}),
            available=lambda s: s.imbalanced or s.asymmetric,
        ),
        Variant(
            "focal",
            "binary_focal",
            lambda s: {"gamma": 2.0, "alpha": _focal_alpha(s)},
            available=lambda s: s.imbalanced,
        ),
        Variant(
            "smoothed_bce",
            "binary_cross_entropy",
            lambda s: {"label_smoothing": _smoothing(s)},
            extra_traits=frozenset({"label_noise"}),
            available=lambda s: s.label_noise > 0,
        ),
        Variant("hinge", "hinge", lambda s: {}),
    ],
    "multiclass": [
        Variant("cce", "sparse_categorical_cross_entropy", lambda s: {}, available=lambda s: not s.one_hot),
        Variant("cce_one_hot", "categorical_cross_entropy", lambda s: {}, available=lambda s: s.one_hot),
        Variant(
            "weighted_cce",
            "sparse_categorical_cross_entropy",
            lambda s: {"class_weight": _class_weight(s)},
            extra_traits=frozenset({"handles_imbalance"}),
            available=lambda s: s.imbalanced and s.class_counts is not None,
        ),
        Variant(
            "focal",
            "categorical_focal",
            lambda s: {"gamma": 2.0, "alpha": _class_weight(s)},
            available=lambda s: s.imbalanced,
        ),
        Variant(
            "smoothed_cce",
            "sparse_categorical_cross_entropy",
            lambda s: {"label_smoothing": _smoothing(s)},
            extra_traits=frozenset({"label_noise"}),
            available=lambda s: s.label_noise > 0 and not s.one_hot,
        ),
        Variant("multiclass_hinge", "multiclass_hinge", lambda s: {}),
    ],
}

_LABELS = {
    "weighted_bce": "weighted BCE",
    "smoothed_bce": "BCE with label smoothing",
    "weighted_cce": "class-weighted CE",
    "smoothed_cce": "CE with label smoothing",
    "focal": "focal loss",
}


def _f(text: str) -> Callable[[Situation], str]:
    return lambda s: text


def _k(*keys: str) -> frozenset[str]:
    return frozenset(keys)


def _plain(s: Situation) -> bool:
    return not (s.outliers or s.heavy_tails)


RULES: dict[str, list[Rule]] = {
    "regression": [
        Rule(
            _plain,
            2.0,
            _f("no outliers: MSE, the Gaussian-noise loss ('No outliers → MSE')"),
            TREE,
            keys=_k("mse"),
        ),
        Rule(_plain, 0.5, _f("'Standard: MSE'; smooth and convex"), GUIDE, keys=_k("mse")),
        Rule(
            lambda s: s.outliers,
            3.0,
            _f("outliers present: a robust loss ('Outliers present → Huber / MAE')"),
            TREE,
            traits=_k("robust"),
            without=_k("asymmetric"),
        ),
        Rule(
            lambda s: s.outliers,
            1.0,
            _f("Huber: 'smooth near 0, robust in the tails'"),
            SHEET,
            keys=_k("huber"),
        ),
        Rule(
            lambda s: s.outliers,
            0.5,
            _f("'Robust to outliers: MAE or Huber'"),
            GUIDE,
            keys=_k("mae", "huber"),
        ),
        Rule(
            lambda s: s.outliers or s.heavy_tails,
            -1.0,
            _f(
                "MSE is optimal only for Gaussian noise: outliers pull its fit ('MYTH: MSE is always the best')"
            ),
            MYTHS,
            keys=_k("mse"),
        ),
        Rule(
            lambda s: s.heavy_tails and not s.outliers,
            2.0,
            _f("heavy-tailed residuals: a loss with bounded influence"),
            MEASURED,
            traits=_k("bounded_influence"),
            without=_k("asymmetric"),
        ),
        Rule(
            lambda s: s.asymmetric,
            4.0,
            lambda s: (
                f"under-prediction costs {s.asymmetric_cost:g}x over-prediction: an asymmetric loss "
                "('Asymmetric → custom loss')"
            ),
            TREE,
            traits=_k("asymmetric"),
        ),
        Rule(
            lambda s: s.asymmetric,
            1.0,
            lambda s: (
                f"'Quantile regression: quantile loss'; tau = c_under / (c_under + c_over) = {_tau(s):.4g} "
                "minimizes the expected asymmetric cost"
            ),
            GUIDE,
            keys=_k("quantile"),
        ),
        Rule(
            lambda s: s.asymmetric and s.outliers,
            0.5,
            _f("outliers too: the asymmetric loss with bounded influence"),
            TREE,
            keys=_k("asymmetric_huber"),
        ),
        Rule(
            lambda s: s.counts,
            5.0,
            _f("non-negative integer targets: the Poisson likelihood of counts (log link)"),
            MEASURED,
            traits=_k("counts"),
        ),
    ],
    "binary": [
        Rule(lambda s: True, 2.0, _f("binary classification: BCE ('Binary → BCE')"), TREE, keys=_k("bce")),
        Rule(
            lambda s: not s.imbalanced,
            0.5,
            _f("'Balanced data: Binary cross-entropy'"),
            GUIDE,
            keys=_k("bce"),
        ),
        Rule(
            lambda s: True,
            0.5,
            _f("hinge: 'margin-based classification', trained with SGD"),
            SHEET,
            keys=_k("hinge"),
        ),
        Rule(
            lambda s: s.imbalanced,
            3.0,
            lambda s: f"minority share {s.imbalance:.3g}: 'Imbalanced data: Weighted BCE or Focal loss'",
            GUIDE,
            traits=_k("handles_imbalance"),
        ),
        Rule(lambda s: s.imbalanced, 0.5, _f("'Imbalanced? → Focal Loss'"), TREE, keys=_k("focal")),
        Rule(
            lambda s: s.imbalanced,
            -1.0,
            _f("plain BCE on imbalanced data favours the majority class at the 0.5 threshold"),
            GUIDE,
            keys=_k("bce"),
        ),
        Rule(
            lambda s: s.asymmetric,
            3.0,
            lambda s: (
                f"a false negative costs {s.asymmetric_cost:g}x a false positive: weighting positives by "
                "the cost ratio moves the decision to the cost-optimal threshold 1 / (1 + c) (Elkan 2001)"
            ),
            "cost-sensitive learning",
            keys=_k("weighted_bce"),
        ),
        Rule(
            lambda s: s.label_noise > 0,
            2.5,
            lambda s: (
                f"{s.label_noise:.3g} of the samples share features with a different label: label "
                "smoothing caps the penalty on them (Szegedy et al. 2016)"
            ),
            MEASURED,
            traits=_k("label_noise"),
        ),
        Rule(
            lambda s: s.label_noise > 0.05,
            -1.0,
            _f("focal loss up-weights hard examples, and mislabeled ones are the hardest"),
            MEASURED,
            keys=_k("focal"),
        ),
    ],
    "multiclass": [
        Rule(
            lambda s: True,
            2.0,
            _f("multiclass classification: cross-entropy with softmax ('Multiclass → CCE')"),
            TREE,
            keys=_k("cce", "cce_one_hot"),
        ),
        Rule(
            lambda s: not s.one_hot,
            0.5,
            _f("integer labels: sparse categorical CE ('Large number of classes: Sparse categorical CE')"),
            GUIDE,
            keys=_k("cce"),
        ),
        Rule(
            lambda s: True,
            0.5,
            _f("multiclass hinge: a margin-based alternative"),
            SHEET,
            keys=_k("multiclass_hinge"),
        ),
        Rule(
            lambda s: s.imbalanced,
            3.0,
            lambda s: f"smallest class share {s.imbalance:.3g}: 'Imbalanced: Weighted CE or Focal loss'",
            GUIDE,
            traits=_k("handles_imbalance"),
        ),
        Rule(
            lambda s: s.label_noise > 0,
            2.5,
            lambda s: (
                f"{s.label_noise:.3g} of the samples share features with a different label: label smoothing"
            ),
            MEASURED,
            traits=_k("label_noise"),
        ),
    ],
}

#: The cheat-sheet's optimizer per loss (seed 000) and its learning-rate advice.
_ADAM = OptimizerChoice(
    "adam", (1e-3, 1e-2), reason="'start with Adam (1e-3)'; 'LR ~ 1e-2 to 1e-3 for Adam' (000)"
)
_SGD = OptimizerChoice(
    "sgd", (1e-2, 1e-1), {"momentum": 0.9}, reason="'Hinge: SGD'; SGD + momentum for the final polish (000)"
)


def _optimizer(loss: str) -> OptimizerChoice:
    return _SGD if "hinge" in loss else _ADAM


def _schedule(task: str, loss: str) -> ScheduleChoice:
    if not get_loss(loss).info.differentiable:
        return ScheduleChoice(
            "cosine_decay",
            reason="the subgradient does not shrink near the optimum ('MAE gradient = ±1: constant → noisy "
            "convergence', 002 §8.2): decay the learning rate",
        )
    if task == "multiclass":
        return ScheduleChoice("cosine_decay", reason="'SGD with Momentum or Adam; cosine LR schedule' (000)")
    return ScheduleChoice(
        "reduce_on_plateau",
        {"factor": 0.1, "patience": 10},
        reason="lower the rate when the loss stalls ('Loss oscillating: reduce learning rate', 001 §8.6)",
    )


# --------------------------------------------------------------------------- recommend


def recommend(
    task: str = "regression",
    *,
    outliers: bool = False,
    heavy_tails: bool = False,
    imbalance: float | None = None,
    asymmetric_cost: float | None = None,
    counts: bool = False,
    label_noise: float = 0.0,
    n_classes: int | None = None,
    class_counts: Any = None,
    residual_scale: float | None = None,
    one_hot: bool = False,
) -> Advice:
    r"""A ranked loss recommendation from a task description, each reason citing its rule.

    ``task`` is ``"regression"``, ``"binary"`` or ``"multiclass"``. Regression options:
    ``outliers`` (gross errors in the targets), ``heavy_tails``, ``asymmetric_cost`` (how many
    times more an under-prediction costs than an over-prediction), ``counts`` (non-negative
    integer targets), ``residual_scale`` (sets Huber's :math:`\delta = 1.345\hat\sigma`).
    Classification options: ``imbalance`` (the minority class's share, in (0, 0.5]),
    ``class_counts`` (samples per class; sets the weights), ``label_noise`` (the share of
    ambiguous labels), ``n_classes``, ``one_hot`` (multiclass targets as one-hot rows);
    ``asymmetric_cost`` for binary tasks is the cost of a false negative over a false positive.
    Options that do not fit the task raise ``ValueError``.

    Each candidate has a registered loss name, parameters, an optimizer (name and learning-rate
    range), a schedule and its reasons; ``ranked`` is best first. See the module docstring for the
    rules and the parameter formulas.

    >>> import losslab as ll
    >>> advice = ll.advise.recommend(task="regression", outliers=True)
    >>> [c.loss for c in advice.ranked[:2]]
    ['huber', 'mae']
    >>> best = ll.advise.recommend(task="regression", asymmetric_cost=3.0).ranked[0]
    >>> best.loss, best.params
    ('quantile', {'tau': 0.75})
    >>> ll.advise.recommend(task="binary", imbalance=0.05).ranked[0].loss
    'binary_focal'
    """
    s = _situation(
        task,
        outliers=outliers,
        heavy_tails=heavy_tails,
        imbalance=imbalance,
        asymmetric_cost=asymmetric_cost,
        counts=counts,
        label_noise=label_noise,
        n_classes=n_classes,
        class_counts=class_counts,
        residual_scale=residual_scale,
        one_hot=one_hot,
    )
    registered = set(loss_names(s.task))
    variants = [v for v in VARIANTS[s.task] if v.loss in registered and v.available(s)]
    scored: list[tuple[float, int, Variant, list[Reason]]] = []
    for order, v in enumerate(variants):
        reasons = [
            Reason(rule.reason(s), rule.source, rule.weight)
            for rule in RULES[s.task]
            if rule.active(s) and rule.matches(v)
        ]
        if not reasons:
            continue
        scored.append((sum(r.weight for r in reasons), order, v, reasons))
    if s.counts and not any("counts" in v.traits() for _, _, v, _ in scored):
        raise ValueError(f"advise: no registered {s.task} loss models counts (trait 'counts')")
    if not scored:
        raise ValueError(f"advise: no registered loss fits a {s.task} task with these options")
    scored.sort(key=lambda item: (-item[0], item[1]))
    ranked = []
    for score, _, v, reasons in scored:
        params = v.params(s)
        reasons = list(reasons)
        if "delta" in params:
            reasons.append(_delta_reason(s, params["delta"]))
        ranked.append(
            Candidate(
                loss=v.loss,
                params={k: p for k, p in params.items() if p is not None},
                optimizer=_optimizer(v.loss),
                schedule=_schedule(s.task, v.loss),
                reasons=reasons,
                score=score,
                label=_LABELS.get(v.key, v.loss),
                traits=sorted(v.traits()),
            )
        )
    situation = {k: getattr(s, k) for k in Situation.__dataclass_fields__ if k != "task"}
    return Advice(task=s.task, situation=situation, ranked=ranked)


def _delta_reason(s: Situation, delta: float) -> Reason:
    if s.residual_scale:
        return Reason(
            f"delta = 1.345 * residual scale {s.residual_scale:.4g} = {delta:.4g}: 95% Gaussian efficiency, "
            "bounded influence beyond",
            MEASURED,
        )
    return Reason(
        "delta = 1 assumes residuals of unit scale: standardize the target, or let from_data measure it",
        "Huber (1964)",
    )


def _situation(task: str, **o: Any) -> Situation:
    where = "advise"
    if not isinstance(task, str):
        raise TypeError(f"{where}: task must be a string, got {task!r}")
    if task in TASKS and task not in ADVISED_TASKS:
        raise ValueError(
            f"{where}: no rule recommends a loss for task {task!r}; advice covers {', '.join(ADVISED_TASKS)}"
        )
    check_choice(where, "task", task, ADVISED_TASKS)
    outliers = check_bool(where, "outliers", o["outliers"])
    heavy = check_bool(where, "heavy_tails", o["heavy_tails"])
    counts = check_bool(where, "counts", o["counts"])
    one_hot = check_bool(where, "one_hot", o["one_hot"])
    imbalance = o["imbalance"]
    if imbalance is not None:
        imbalance = check_in_range(where, "imbalance", imbalance, 0.0, 0.5, closed="right")
    cost = o["asymmetric_cost"]
    if cost is not None:
        cost = check_positive(where, "asymmetric_cost", cost)
    noise = check_in_range(where, "label_noise", o["label_noise"], 0.0, 1.0, closed="left")
    n_classes = o["n_classes"]
    if n_classes is not None:
        n_classes = check_int(where, "n_classes", n_classes, minimum=2)
    counts_per_class = o["class_counts"]
    if counts_per_class is not None:
        arr = np.asarray(counts_per_class)
        if arr.ndim != 1 or arr.size < 2 or not np.all(arr > 0) or not np.all(np.mod(arr, 1) == 0):
            raise ValueError(
                f"{where}: class_counts must be positive integers, one per class, got {counts_per_class!r}"
            )
        counts_per_class = tuple(int(c) for c in arr)
        share = min(counts_per_class) / sum(counts_per_class)
        if imbalance is None:
            imbalance = share
        elif not math.isclose(imbalance, share, rel_tol=0.05):
            raise ValueError(
                f"{where}: imbalance={imbalance:g} contradicts class_counts (smallest share {share:.4g})"
            )
        if n_classes is None:
            n_classes = len(counts_per_class)
        elif n_classes != len(counts_per_class):
            raise ValueError(
                f"{where}: n_classes={n_classes} contradicts {len(counts_per_class)} class_counts"
            )
    scale = o["residual_scale"]
    if scale is not None:
        scale = check_positive(where, "residual_scale", scale)
    if task == "regression":
        for name, value in (
            ("imbalance", imbalance),
            ("class_counts", counts_per_class),
            ("n_classes", n_classes),
        ):
            if value is not None:
                raise ValueError(f"{where}: {name} describes classes; it contradicts task='regression'")
        if noise:
            raise ValueError(f"{where}: label_noise describes class labels; it contradicts task='regression'")
        if one_hot:
            raise ValueError(f"{where}: one_hot describes class labels; it contradicts task='regression'")
    else:
        for name, value in (("outliers", outliers), ("heavy_tails", heavy), ("counts", counts)):
            if value:
                raise ValueError(
                    f"{where}: {name} describes regression targets; it contradicts task={task!r}"
                    + (" (for noisy labels use label_noise)" if name == "outliers" else "")
                )
        if scale is not None:
            raise ValueError(
                f"{where}: residual_scale describes regression residuals; it contradicts task={task!r}"
            )
        if task == "binary" and n_classes not in (None, 2):
            raise ValueError(f"{where}: task='binary' has 2 classes, got n_classes={n_classes}")
        if task == "multiclass" and cost is not None:
            raise ValueError(
                f"{where}: asymmetric_cost is defined for regression and binary tasks; it contradicts task='multiclass'"
            )
        if task == "binary" and one_hot:
            raise ValueError(f"{where}: one_hot applies to multiclass targets; it contradicts task='binary'")
    if task == "regression" and counts and cost is not None:
        raise ValueError(f"{where}: counts and asymmetric_cost together have no registered loss")
    return Situation(
        task=task,
        outliers=outliers,
        heavy_tails=heavy,
        imbalance=imbalance,
        asymmetric_cost=cost,
        counts=counts,
        label_noise=noise,
        n_classes=n_classes,
        class_counts=counts_per_class,
        residual_scale=scale,
        one_hot=one_hot,
    )
