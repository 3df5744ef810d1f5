r"""Advice from data: measure the targets, then apply the rules (and optionally verify them).

:func:`profile` measures what the rules need:

* the task, when not given: two distinct target values → ``"binary"``; integer targets
  :math:`0..K-1` with :math:`3 \le K \le 20` → ``"multiclass"``; anything else → ``"regression"``
  (non-negative integer targets with more values → counts);
* regression: a least-absolute-deviations pilot fit :math:`\min_\beta \sum_i |y_i - x_i^\top\beta - b|`
  (iteratively reweighted least squares), the residual scale
  :math:`\hat\sigma = 1.4826\,\mathrm{MAD}(r)` (consistent for Gaussian noise), the share of
  outliers by the robust z-score :math:`|r_i - \mathrm{med}(r)| / \hat\sigma > 3.5` (Iglewicz &
  Hoaglin 1993; a Gaussian sample has 0.05% of them), the skewness and excess kurtosis of the
  residuals (tail heaviness);
* classification: the class counts and the minority share; duplicated feature rows and the share of
  samples whose features also appear with another label (ambiguous labels).

Thresholds: outliers when more than 1% of the residuals are outliers; heavy tails when the excess
kurtosis of the residuals exceeds 1 and three standard errors of a Gaussian sample's kurtosis
(:math:`3\sqrt{24/n}`); label noise when any sample is ambiguous.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from losslab._core.validation import check_bool, check_choice, check_int
from losslab.advise._types import Advice, Candidate, Reason
from losslab.advise.rules import ADVISED_TASKS, recommend
from losslab.losses._spec import get as get_loss

__all__ = ["from_data", "profile"]

#: Robust z-score beyond which a residual is an outlier (Iglewicz & Hoaglin).
Z_OUTLIER = 3.5
#: Share of outlying residuals above which the rules treat the data as having outliers.
OUTLIER_SHARE = 0.01
#: Excess kurtosis above which the residuals count as heavy-tailed (or three standard errors of a
#: Gaussian sample's kurtosis, sqrt(24/n), when that is larger).
HEAVY_KURTOSIS = 1.0
MAD_TO_SIGMA = 1.4826
MAX_CLASSES = 20


def _check_data(X: npt.ArrayLike, y: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    where = "advise.from_data"
    try:
        Xa = np.asarray(X, dtype=np.float64)
        ya = np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{where}: X and y must be numeric arrays") from None
    if Xa.ndim == 1:
        Xa = Xa[:, None]
    if Xa.ndim != 2:
        raise ValueError(f"{where}: X must have shape (n_samples, n_features), got {Xa.shape}")
    if ya.ndim == 2 and ya.shape[1] == 1:
        ya = ya[:, 0]
    if ya.ndim != 1 or ya.shape[0] != Xa.shape[0]:
        raise ValueError(
            f"{where}: y must hold one target per row of X ({Xa.shape[0]}), got shape {ya.shape}"
        )
    if Xa.shape[0] < 10:
        raise ValueError(f"{where}: need at least 10 samples to measure anything, got {Xa.shape[0]}")
    if not (np.isfinite(Xa).all() and np.isfinite(ya).all()):
        raise ValueError(f"{where}: X and y must hold finite numbers (no NaN or inf)")
    return Xa, ya


def infer_task(y: np.ndarray) -> str:
    """``"binary"``, ``"multiclass"`` or ``"regression"`` from the target values (see the module)."""
    values = np.unique(y)
    if values.size == 2:
        return "binary"
    integer = bool(np.all(np.mod(y, 1) == 0))
    if integer and 3 <= values.size <= MAX_CLASSES and np.array_equal(values, np.arange(values.size)):
        return "multiclass"
    return "regression"


def lad_fit(X: np.ndarray, y: np.ndarray, iterations: int = 100) -> tuple[np.ndarray, np.ndarray]:
    r"""Least-absolute-deviations line by IRLS: ``(coefficients with the intercept last, residuals)``.

    Each iteration solves weighted least squares with :math:`w_i = 1/\max(|r_i|, \epsilon)`,
    :math:`\epsilon = 10^{-6}` times the scale of :math:`y`; it converges to the median regression.
    """
    A = np.column_stack([X, np.ones(len(y))])
    beta = np.linalg.lstsq(A, y, rcond=None)[0]
    floor = 1e-6 * max(float(np.std(y)), 1e-12)
    for _ in range(iterations):
        r = y - A @ beta
        w = 1.0 / np.maximum(np.abs(r), floor)
        sw = np.sqrt(w)
        new = np.linalg.lstsq(A * sw[:, None], y * sw, rcond=None)[0]
        if np.allclose(new, beta, rtol=1e-10, atol=1e-12):
            beta = new
            break
        beta = new
    return beta, y - A @ beta


def _moments(r: np.ndarray) -> tuple[float, float]:
    """Sample skewness and excess kurtosis (biased moment estimators, as scipy.stats' defaults)."""
    c = r - r.mean()
    m2 = float(np.mean(c**2))
    if m2 == 0.0:
        return 0.0, 0.0
    return float(np.mean(c**3) / m2**1.5), float(np.mean(c**4) / m2**2 - 3.0)


def profile(X: npt.ArrayLike, y: npt.ArrayLike, task: str | None = None) -> dict[str, Any]:
    """The statistics :func:`from_data` bases its advice on (see the module docstring)."""
    Xa, ya = _check_data(X, y)
    inferred = task is None
    if task is None:
        task = infer_task(ya)
    check_choice("advise.from_data", "task", task, ADVISED_TASKS)
    out: dict[str, Any] = {"task": task, "task_inferred": inferred, "n_samples": int(Xa.shape[0])}
    out["n_features"] = int(Xa.shape[1])
    if task == "regression":
        _, r = lad_fit(Xa, ya)
        med = float(np.median(r))
        sigma = MAD_TO_SIGMA * float(np.median(np.abs(r - med)))
        if sigma == 0.0:  # more than half the points on the line: fall back to the mean deviation
            sigma = float(np.mean(np.abs(r - med))) or 1.0
        z = np.abs(r - med) / sigma
        skew, kurt = _moments(r)
        out.update(
            pilot="least absolute deviations",
            residual_scale=sigma,
            outlier_share=float(np.mean(z > Z_OUTLIER)),
            n_outliers=int(np.sum(z > Z_OUTLIER)),
            skew=skew,
            excess_kurtosis=kurt,
            counts=bool(np.all(ya >= 0) and np.all(np.mod(ya, 1) == 0) and np.unique(ya).size > 2),
        )
        return out
    labels = ya
    values = np.unique(labels)
    if task == "binary":
        if values.size != 2:
            raise ValueError(f"advise.from_data: task='binary' needs 2 distinct labels, got {values.size}")
        if not np.array_equal(values, [0.0, 1.0]):
            raise ValueError(f"advise.from_data: binary labels must be 0 and 1, got {values.tolist()}")
    elif not (np.all(np.mod(labels, 1) == 0) and np.array_equal(values, np.arange(values.size))):
        raise ValueError("advise.from_data: multiclass labels must be the integers 0..K-1")
    counts = np.array([int(np.sum(labels == v)) for v in values])
    _, inverse, row_counts = np.unique(Xa, axis=0, return_inverse=True, return_counts=True)
    inverse = inverse.reshape(-1)
    duplicated = row_counts[inverse] > 1
    # a row is ambiguous when the same features carry more than one label
    pairs = np.unique(np.column_stack([inverse, labels]), axis=0)
    labels_per_row = np.bincount(pairs[:, 0].astype(int), minlength=row_counts.size)
    ambiguous = labels_per_row[inverse] > 1
    out.update(
        classes=[int(v) for v in values],
        class_counts=[int(c) for c in counts],
        minority_share=float(counts.min() / counts.sum()),
        duplicate_share=float(np.mean(duplicated)),
        ambiguous_share=float(np.mean(ambiguous)),
    )
    return out


def from_data(
    X: npt.ArrayLike,
    y: npt.ArrayLike,
    task: str | None = None,
    verify: bool = False,
    seed: int = 0,
    *,
    asymmetric_cost: float | None = None,
    folds: int = 5,
    epochs: int = 300,
    top: int = 3,
) -> Advice:
    r"""Advice measured from ``(X, y)``: :func:`profile`, then :func:`~losslab.advise.recommend`.

    ``task=None`` infers it from ``y``. The measured statistics set the rules' options (outliers,
    heavy tails, counts; imbalance, class counts, label noise) and the parameters (Huber's
    :math:`\delta = 1.345\hat\sigma` from the pilot residuals, class weights and focal
    :math:`\alpha` from the class counts); ``asymmetric_cost`` cannot be measured and is passed on.
    Each measured option adds a reason citing its statistic.

    ``verify=True`` runs a seeded ``folds``-fold comparison of the ``top`` candidates (plus the
    task's plain baseline) with ``ll.train.fit`` and ranks by the held-out metric when it
    contradicts the rule (see :func:`losslab.advise.verify.verify`); the same ``seed`` gives the
    same numbers.

    >>> import losslab as ll
    >>> X, y = ll.data.outliers()
    >>> advice = ll.advise.from_data(X, y)
    >>> advice.task, advice.ranked[0].loss, round(advice.ranked[0].params["delta"], 2)
    ('regression', 'huber', 2.11)
    """
    verify = check_bool("advise.from_data", "verify", verify)
    stats = profile(X, y, task)
    task = stats["task"]
    notes: list[str] = []
    # each measured statistic, with the candidates it speaks for
    measured: list[tuple[Reason, Callable[[Candidate], bool]]] = []
    if stats["task_inferred"]:
        notes.append(f"task inferred from the targets: {task} (pass task= to override)")
    if task == "regression":
        outliers = stats["outlier_share"] > OUTLIER_SHARE
        limit = max(HEAVY_KURTOSIS, 3.0 * (24.0 / stats["n_samples"]) ** 0.5)
        heavy = stats["excess_kurtosis"] > limit
        if outliers:
            text = (
                f"{stats['n_outliers']} of {stats['n_samples']} residuals ({stats['outlier_share']:.1%}) have a "
                f"robust z-score above {Z_OUTLIER} (a Gaussian sample has 0.05%)"
            )
            measured.append((Reason(text, "measured"), _robust))
        if heavy:
            text = (
                f"excess kurtosis of the residuals {stats['excess_kurtosis']:.3g} > {limit:.3g} (heavy tails)"
            )
            measured.append((Reason(text, "measured"), _robust))
        if abs(stats["skew"]) > 1.0:
            notes.append(
                f"residual skewness {stats['skew']:.3g}: a transform of the target or a quantile loss may fit better"
            )
        advice = recommend(
            "regression",
            outliers=outliers,
            heavy_tails=heavy,
            counts=stats["counts"],
            asymmetric_cost=asymmetric_cost,
            residual_scale=stats["residual_scale"],
        )
    else:
        share = stats["ambiguous_share"]
        if share > 0:
            text = f"{share:.1%} of the samples are ambiguous (same features, other label)"
            measured.append((Reason(text, "measured"), lambda c: "label_smoothing" in c.params))
        if stats["duplicate_share"] > 0:
            notes.append(f"{stats['duplicate_share']:.1%} of the rows repeat another row's features")
        counts = stats["class_counts"]
        if stats["minority_share"] < 0.2:
            text = f"class counts {counts}: minority share {stats['minority_share']:.3g}"
            measured.append((Reason(text, "measured"), _weighted))
        advice = recommend(
            task,
            class_counts=counts,
            label_noise=min(share, 0.99),
            asymmetric_cost=asymmetric_cost,
        )
    for c in advice.ranked:
        c.reasons[:0] = [r for r, speaks_for in measured if speaks_for(c)]
    advice.profile = stats
    advice.notes[:0] = notes
    if verify:
        from losslab.advise.verify import verify as run_verify

        folds = check_int("advise.from_data", "folds", folds, minimum=2)
        run_verify(advice, X, y, seed=seed, folds=folds, epochs=epochs, top=top)
    return advice


def _robust(c: Candidate) -> bool:
    return "bounded_influence" in get_loss(c.loss).info.traits


def _weighted(c: Candidate) -> bool:
    return any(k in c.params for k in ("pos_weight", "class_weight", "alpha"))
