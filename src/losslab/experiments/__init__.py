r"""The catalog of the curriculum's experiments, each with a verdict computed from its numbers.

>>> import losslab as ll
>>> "robust-regression" in ll.experiments.names()
True
>>> r = ll.experiments.run("ce-vs-mse", seed=0, quick=True)
>>> r.verdict, round(r.metrics["grad_ratio"], 1)
('holds', 202.7)
>>> r.claim.citation
'002 Section 11, Q2'
>>> print(r.verdict_reason.split("; ")[0])
grad_ratio (|BCE gradient| / |MSE gradient| at the wrong output) = 202.7 > 10: yes

``run(name, seed=0, quick=False, **overrides) -> Result``: ``r.metrics`` (numbers), ``r.tables``,
``r.figures`` (matplotlib Figures drawn by :mod:`losslab.viz` when first read), ``r.data``,
``r.params``, ``r.claim`` (the curriculum's words with seed file and section), ``r.verdict``
(``"holds"``, ``"does not hold"`` or ``"holds only when ..."``) and ``r.verdict_reason`` (every
comparison that decided it, with its numbers). See :mod:`losslab.experiments._framework` for the
rule's semantics.

Adding an experiment
--------------------
1. **File**: a new module ``src/losslab/experiments/<name_with_underscores>.py``. Every module of
   this package whose name does not start with ``_`` is imported when the catalog is first read,
   so no other file changes.
2. **Declaration**: in that module, a ``compute(params, seed) -> Outcome`` function (metrics as a
   dict of floats, :class:`Table`\ s, data for figures; seeds from :func:`seed_list` and
   :func:`mean_std` / :func:`mean_sem` where noise matters), an optional ``figures(result) -> {name: Figure}`` that
   only calls :mod:`losslab.viz`, and one :class:`Experiment`::

       EXPERIMENT = Experiment(
           name="my-claim",                      # words joined by "-"
           title="...",
           claim=Claim(quote="<the curriculum's words, verbatim>",
                       source="002_21da411b06e8b2bb.txt", section="Section 13, C4"),
           setup="... {epochs} epochs ...",      # format fields name parameters
           defaults={"epochs": 300, "n_seeds": 5},
           quick={"epochs": 60, "n_seeds": 2},  # the tour's --quick: about a second
           compute=compute,
           rule=VerdictRule(criteria=(Criterion("gain", ">", 0.05, spread="gain_std",
                                                meaning="..."),)),
           counterfactual={"outlier_share": 0.0},  # overrides under which the claim must fail
           figures=figures,
           order=250,
       )

3. **Registration line**: the module's last line, ``register(EXPERIMENT)``.

The registry-parametrized tests (``tests/test_experiments.py``) then run it in quick mode, check
that its verdict follows from its metrics, and run its counterfactual, asserting the verdict
changes. ``order`` places it in the tour: 100s losses, 200s classification, 300s optimizers and
learning rates, 400s landscapes and curvature, 500s networks and training, 600s worked
computations and gradient tools, 700s advanced losses.
"""

from losslab.experiments._framework import (
    Claim,
    Criterion,
    Experiment,
    Outcome,
    Qualifier,
    Result,
    Table,
    VerdictRule,
    get,
    mean_sem,
    mean_std,
    names,
    register,
    run,
    seed_list,
)

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
