r"""saddle-points: how often is a random critical point a minimum, as the dimension N grows?

The curriculum's argument: each of the N Hessian eigenvalues at a critical point is positive with
probability one half, independently, so a minimum (all N positive) has probability :math:`2^{-N}`.
Two random Hessians are sampled, ``n_samples`` of each size :math:`N = 1..`\ ``max_dim``:

* ``"goe"`` (the Gaussian orthogonal ensemble, the usual model of a random symmetric matrix):
  :math:`H = (A + A^\top)/\sqrt{2N} + \text{shift}\,I` with :math:`A_{ij} \sim \mathcal N(0, 1)`;
  its eigenvalues fill the semicircle on :math:`[\text{shift} - 2, \text{shift} + 2]`, and they
  repel each other, so their signs are *not* independent;
* ``"independent"``: eigenvalues drawn independently from :math:`\mathcal N(\text{shift}, 1)` --
  the curriculum's coin flips, for which the fraction of minima is exactly
  :math:`\Phi(\text{shift})^N`, i.e. :math:`2^{-N}` at shift 0.

A critical point is a minimum when every eigenvalue is positive (the rule of
:func:`losslab.landscape.classify_critical_point`, which classifies the first samples of each size
as a cross-check: ``classifier_agreement``). The rate is the number of halvings per dimension,
:math:`-\log_2(\text{fraction})/N`, read at the largest :math:`N` with at least 20 minima sampled
(1 for :math:`2^{-N}`; a GOE's minima are rarer still, :math:`\log P \approx -\tfrac{\ln 3}{4}N^2`
for large N, Dean & Majumdar 2006). The claim holds when minima become rare (a fraction under 5 %
at ``max_dim``, decreasing in N); it holds at the stated rate only when the rate is within a factor
1.5 of one halving per dimension. Counterfactual: ``shift=3``, every Hessian's spectrum moved past
the semicircle's edge -- critical points low in the landscape, where (Bray & Dean 2007) almost all
are minima.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import numpy as np

import losslab as ll
from losslab._core.validation import check_choice
from losslab.experiments._framework import (
    Claim,
    Criterion,
    Experiment,
    Outcome,
    Qualifier,
    Result,
    Table,
    VerdictRule,
    register,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

ENSEMBLES = ("goe", "independent")


def sample_hessians(ensemble: str, N: int, n: int, shift: float, rng: np.random.Generator) -> np.ndarray:
    """``n`` random symmetric ``N x N`` Hessians of the ``ensemble`` (module docstring), shape ``(n, N, N)``."""
    if ensemble == "goe":
        A = rng.normal(size=(n, N, N))
        return (A + np.swapaxes(A, 1, 2)) / np.sqrt(2.0 * N) + shift * np.eye(N)
    lam = rng.normal(loc=shift, size=(n, N))
    return lam[:, :, None] * np.eye(N)


def compute(params: dict[str, Any], seed: int) -> Outcome:
    check_choice("saddle-points", "ensemble", params["ensemble"], ENSEMBLES)
    rng = np.random.default_rng(seed)
    dims = np.arange(1, params["max_dim"] + 1)
    n = params["n_samples"]
    fractions: dict[str, list[float]] = {e: [] for e in ENSEMBLES}
    counts: dict[str, list[int]] = {e: [] for e in ENSEMBLES}
    index_share: dict[str, list[float]] = {e: [] for e in ENSEMBLES}
    agree, checked = 0, 0
    example = np.zeros(1)
    for N in dims:
        for e in ENSEMBLES:
            H = sample_hessians(e, int(N), n, params["shift"], rng)
            eig = np.linalg.eigvalsh(H)
            is_min = eig[:, 0] > 0.0
            counts[e].append(int(is_min.sum()))
            fractions[e].append(float(is_min.mean()))
            index_share[e].append(float(np.mean(np.sum(eig < 0.0, axis=1)) / N))
            if e == params["ensemble"]:
                for Hs, m in zip(H[: params["n_checked"]], is_min[: params["n_checked"]]):
                    quad = SimpleNamespace(grad=lambda x: np.zeros_like(x), hessian=lambda x, Hs=Hs: Hs)
                    kind = ll.landscape.classify_critical_point(quad, np.zeros(int(N))).kind
                    agree += int((kind == "minimum") == bool(m))
                    checked += 1
                example = eig[0]  # the last one kept is at the largest N
    metrics: dict[str, float] = {}
    for e in ENSEMBLES:
        for N, f in zip(dims, fractions[e]):
            metrics[f"minimum_fraction_{e}_N{N}"] = f
        reliable = [i for i, c in enumerate(counts[e]) if c >= 20]
        i = reliable[-1] if reliable else 0
        metrics[f"halvings_per_dim_{e}"] = float(-np.log2(max(fractions[e][i], 1.0 / n)) / dims[i])
        metrics[f"rate_dim_{e}"] = float(dims[i])
    chosen = params["ensemble"]
    frac = fractions[chosen]
    metrics["minimum_fraction_max_dim"] = frac[-1]
    metrics["fraction_decreasing"] = float(all(b <= a for a, b in zip(frac, frac[1:])))
    metrics["halvings_per_dim"] = metrics[f"halvings_per_dim_{chosen}"]
    metrics["rate_error"] = float(abs(np.log2(max(metrics["halvings_per_dim"], 1e-12))))
    metrics["classifier_agreement"] = agree / max(checked, 1)
    table = Table(
        f"Fraction of {n} random critical points that are minima (shift {params['shift']})",
        ["N", "2^-N", "GOE", "independent signs", "GOE: mean index / N", "independent: mean index / N"],
        [[int(N), 2.0 ** -float(N), fractions["goe"][k], fractions["independent"][k], index_share["goe"][k],
          index_share["independent"][k]] for k, N in enumerate(dims)],
        note="a minimum has every Hessian eigenvalue positive; the index counts the negative ones",
    )  # fmt: skip
    rates = Table(
        "Halvings per dimension, -log2(fraction) / N (1 for 2^-N), at the largest N with >= 20 minima",
        ["ensemble", "N", "halvings per dimension"],
        [[e, int(metrics[f"rate_dim_{e}"]), metrics[f"halvings_per_dim_{e}"]] for e in ENSEMBLES],
    )
    data = {"dims": dims, "fractions": fractions, "example": example}
    return Outcome(metrics, [table, rates], data)


def figures(result: Result) -> dict[str, Figure]:
    import losslab.viz as viz

    dims = result.data["dims"].astype(np.float64)
    curves = {"2^-N": 2.0**-dims}
    for e, label in (("goe", "GOE"), ("independent", "independent signs")):
        f = np.asarray(result.data["fractions"][e], dtype=np.float64)
        curves[label] = np.where(f > 0, f, np.nan)  # a log axis cannot show 0 (none sampled)
    return {
        "fraction of minima": viz.slice_1d(
            dims,
            curves,
            log=True,
            xlabel="dimension N",
            ylabel="fraction of critical points that are minima",
            title="Random critical points: how many are minima",
        ),  # fmt: skip
        "one Hessian at the largest N": viz.eigenvalues(result.data["example"]),
    }


EXPERIMENT = Experiment(
    name="saddle-points",
    title="In high dimensions, critical points are saddles: minima have probability about 2^-N",
    claim=Claim(
        quote=(
            "In N dimensions, a critical point must curve upward in ALL N directions to be a local "
            "minimum. The probability of this is ~(½)^N, which is negligible for large N."
        ),
        source="002_21da411b06e8b2bb.txt",
        section="Section 10, GATE Q5",
    ),
    setup=(
        "{n_samples} random Hessians of each size N = 1..{max_dim} from the {ensemble} ensemble "
        "(spectrum shifted by {shift}); a minimum has every eigenvalue positive; the first "
        "{n_checked} of each size also classified by classify_critical_point."
    ),
    defaults={"max_dim": 7, "n_samples": 100_000, "ensemble": "goe", "shift": 0.0, "n_checked": 50},
    quick={"max_dim": 5, "n_samples": 20_000, "n_checked": 10},
    compute=compute,
    rule=VerdictRule(
        criteria=(
            Criterion("minimum_fraction_max_dim", "<", 0.05, meaning="share of minima at the largest N"),
            Criterion(
                "fraction_decreasing", ">", 0.5, meaning="1 when the share of minima falls with every N"
            ),
        ),
        qualifiers=(
            Qualifier(
                Criterion(
                    "rate_error",
                    "<",
                    float(np.log2(1.5)),
                    meaning="|log2(halvings per dimension)|: 0 at exactly 2^-N",
                ),
                "the eigenvalue signs are independent coin flips (a random symmetric Hessian's minima are "
                "rarer still, about exp(-c N^2))",
            ),
        ),
    ),
    counterfactual={"shift": 3.0},
    figures=figures,
    order=440,
)
register(EXPERIMENT)
