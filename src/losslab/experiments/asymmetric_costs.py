r"""asymmetric-costs: under-prediction weighted more shifts delivery-time and demand predictions up.

With the asymmetric squared loss :math:`\ell = w(r)\,r^2`, :math:`w = \alpha` for
under-prediction (:math:`r = \hat y - y < 0`) and 1 otherwise, the best constant prediction for a
noise :math:`\varepsilon` is its :math:`\tau`-expectile, :math:`\tau = \alpha / (1 + \alpha)`:
the root :math:`m` of :math:`\alpha\,E[(\varepsilon - m)_+] = E[(m - \varepsilon)_+]`. For
Gaussian noise :math:`N(0, \sigma^2)` that is :math:`m = \sigma\,m_1(\alpha)` with
:math:`\alpha(\varphi(m_1) - m_1(1 - \Phi(m_1))) = m_1\Phi(m_1) + \varphi(m_1)`; for
:math:`\alpha = 3`, :math:`m_1 \approx 0.436`. Two data sets: delivery times (15 + 3 min/km plus
Gaussian noise) and demand counts (Poisson around 50 + 10x, so the noise grows with the level).
Linear models are fitted with ``asymmetric_mse`` for several weights and with
``asymmetric_huber`` (the curriculum's Swiggy variant); the shift is the mean of prediction minus
the least-squares fit on the same sample, in units of the noise's standard deviation.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import numpy as np

from losslab.experiments._common import fit_line
from losslab.experiments._framework import (
    Claim,
    Criterion,
    Experiment,
    Outcome,
    Result,
    Table,
    VerdictRule,
    register,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure


@functools.lru_cache(maxsize=64)
def gaussian_expectile_shift(alpha: float) -> float:
    """:math:`m_1(\\alpha)`: the shift of the asymmetric-MSE optimum for standard normal noise."""
    from scipy.optimize import brentq
    from scipy.stats import norm

    def condition(m: float) -> float:
        return alpha * (norm.pdf(m) - m * norm.sf(m)) - (m * norm.cdf(m) + norm.pdf(m))

    return float(brentq(condition, -10.0, 10.0, xtol=1e-14))


def _delivery(n: int, sigma: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    km = rng.uniform(1.0, 10.0, n)
    mean = 15.0 + 3.0 * km
    return km[:, None], mean + rng.normal(0.0, sigma, n), mean


def _demand(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = rng.uniform(0.0, 10.0, n)
    mean = 50.0 + 10.0 * x
    return x[:, None], rng.poisson(mean).astype(np.float64), mean


def _shift(
    X: np.ndarray, y: np.ndarray, mean: np.ndarray, loss: str, lp: dict[str, float], epochs: int
) -> float:
    """Mean prediction minus true mean, fitting on standardized data.

    Both losses are equivariant under ``y -> (y - c) / s`` (the weights depend only on the sign of
    the residual, and ``huber_delta(s r) = s^2 huber_{delta/s}(r)``), so the fit on standardized
    data, mapped back, is the fit on the original data -- reached in far fewer steps.
    """
    xc, xs = float(X.mean()), float(X.std())
    yc, ys = float(y.mean()), float(y.std())
    lp = {**lp, "delta": lp["delta"] / ys} if "delta" in lp else lp
    w, b, _ = fit_line((X - xc) / xs, (y - yc) / ys, loss, lp, epochs=epochs, lr=0.5)
    pred = yc + ys * (w * (X[:, 0] - xc) / xs + b)
    return float(np.mean(pred - mean))


def compute(params: dict[str, Any], seed: int) -> Outcome:
    rng = np.random.default_rng(seed)
    sigma, alpha, epochs = params["sigma"], params["under_weight"], params["epochs"]
    X, y, mean = _delivery(params["n"], sigma, rng)
    rows = []
    metrics: dict[str, float] = {}
    # shifts are measured against the symmetric (plain least-squares) fit on the same sample, so
    # the sample's own noise cancels and only the effect of the weights remains
    base = _shift(X, y, mean, "asymmetric_mse", {"under_weight": 1.0, "over_weight": 1.0}, epochs)
    for a in sorted({1.0, 2.0, alpha, 5.0}):
        shift = _shift(X, y, mean, "asymmetric_mse", {"under_weight": a, "over_weight": 1.0}, epochs) - base
        theory = sigma * gaussian_expectile_shift(a)
        rows.append(["delivery (min)", "asymmetric_mse", a, shift, theory, shift / sigma])
        metrics[f"shift_delivery_w{a:g}"] = shift
    huber = {"delta": params["delta"], "under_weight": params["huber_under_weight"], "over_weight": 1.0}
    h_shift = _shift(X, y, mean, "asymmetric_huber", huber, epochs) - base
    rows.append(["delivery (min)", f"asymmetric_huber (delta {params['delta']:g})", huber["under_weight"], h_shift,
                 "-", h_shift / sigma])  # fmt: skip
    Xd, yd, md = _demand(params["n"], rng)
    d_base = _shift(Xd, yd, md, "asymmetric_mse", {"under_weight": 1.0, "over_weight": 1.0}, epochs)
    d_shift = (
        _shift(Xd, yd, md, "asymmetric_mse", {"under_weight": alpha, "over_weight": 1.0}, epochs) - d_base
    )
    sd = float(np.mean(np.sqrt(md)))
    rows.append(
        [
            "demand (rides)",
            "asymmetric_mse",
            alpha,
            d_shift,
            sd * gaussian_expectile_shift(alpha),
            d_shift / sd,
        ]
    )
    shift = metrics[f"shift_delivery_w{alpha:g}"]
    metrics.update(
        {
            "shift_sd_delivery": shift / sigma,
            "shift_sd_demand": d_shift / sd,
            "shift_sd_huber": h_shift / sigma,
            "theory_shift_sd": gaussian_expectile_shift(alpha),
            "theory_gap_sd": abs(shift - sigma * gaussian_expectile_shift(alpha)) / sigma,
        }
    )
    shifts = [metrics[f"shift_delivery_w{a:g}"] for a in sorted({1.0, 2.0, alpha, 5.0})]
    metrics["shift_grows_with_weight"] = float(all(b >= a - 1e-9 for a, b in zip(shifts, shifts[1:])))
    table = Table(
        "Mean shift of the predictions above the symmetric (least-squares) fit",
        ["data", "loss", "under-prediction weight", "shift", "Gaussian theory", "shift / noise sd"],
        rows,
        note=f"delivery noise sd {sigma:g} min; demand noise sd about {sd:.3g} rides (Poisson)",
    )
    data = {"shifts": {a: metrics[f"shift_delivery_w{a:g}"] / sigma for a in sorted({1.0, 2.0, alpha, 5.0})}}
    return Outcome(metrics, [table], data)


def figures(result: Result) -> dict[str, Figure]:
    import losslab.viz as viz

    weights = np.linspace(1.0, 8.0, 29)
    theory = [gaussian_expectile_shift(float(a)) for a in weights]
    return {"shift against the weight": viz.training_curves({"Gaussian theory (shift / sd)": theory})}


EXPERIMENT = Experiment(
    name="asymmetric-costs",
    title="Asymmetric costs: weighting under-prediction shifts the predictions up",
    claim=Claim(
        quote="The model learns to slightly overestimate demand, which is the safer business choice.",
        source="002_21da411b06e8b2bb.txt",
        section="Section 10, Example 3 (Uber surge pricing)",
    ),
    setup=(
        "{n} deliveries (15 + 3 min/km, noise sd {sigma} min) and {n} demand counts (Poisson, mean "
        "50 + 10x); linear models fitted with asymmetric_mse (under-prediction weight 1, 2, "
        "{under_weight}, 5) and asymmetric_huber (delta {delta}, weight {huber_under_weight}); "
        "full-batch gradient descent on standardized data, cosine-decayed rate, {epochs} epochs."
    ),
    defaults={
        "n": 2000,
        "sigma": 5.0,
        "under_weight": 3.0,
        "delta": 10.0,
        "huber_under_weight": 2.0,
        "epochs": 150,
    },
    quick={"n": 600, "epochs": 60},
    compute=compute,
    rule=VerdictRule(
        criteria=(
            Criterion("shift_sd_delivery", ">", 0.1, meaning="delivery shift / noise sd: overestimates"),
            Criterion("shift_sd_delivery", "<", 1.0, meaning="... but only slightly (under one sd)"),
            Criterion("shift_sd_demand", ">", 0.1, meaning="demand shift / noise sd"),
        ),
    ),
    counterfactual={"under_weight": 1.0},
    figures=figures,
    order=130,
)
register(EXPERIMENT)
