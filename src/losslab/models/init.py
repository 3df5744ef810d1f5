r"""Weight initializers: ``(rng, fan_in, fan_out, dtype) -> array`` of shape ``(fan_in, fan_out)``.

Conventions follow PyTorch's ``torch.nn.init`` (weights stored as ``(fan_in, fan_out)`` because the
forward pass is ``X @ W + b``; PyTorch stores ``(fan_out, fan_in)``, the fans are the same):

``xavier`` (Glorot & Bengio, 2010, uniform)
    :math:`W_{ij} \sim U(-a, a)`, :math:`a = \sqrt{6 / (\mathrm{fan\_in} + \mathrm{fan\_out})}`
    (``torch.nn.init.xavier_uniform_``).
``xavier_normal``
    :math:`W_{ij} \sim N(0, 2 / (\mathrm{fan\_in} + \mathrm{fan\_out}))`.
``he`` (He et al., 2015, normal, fan-in mode)
    :math:`W_{ij} \sim N(0, 2 / \mathrm{fan\_in})` (``torch.nn.init.kaiming_normal_`` with
    ``nonlinearity="relu"``).
``he_uniform``
    :math:`W_{ij} \sim U(-a, a)`, :math:`a = \sqrt{6 / \mathrm{fan\_in}}`.
``normal``
    :math:`W_{ij} \sim N(0, 0.01^2)` (the classic small random start).
``pytorch``
    :math:`U(-1/\sqrt{\mathrm{fan\_in}}, 1/\sqrt{\mathrm{fan\_in}})`: ``torch.nn.Linear``'s default
    for both weights and biases.
``orthogonal`` (Saxe et al., 2014)
    the orthonormal factor :math:`Q` of the QR decomposition of a Gaussian matrix, signs fixed by
    :math:`\operatorname{diag}(R) > 0` (``torch.nn.init.orthogonal_``, gain 1): orthonormal
    columns when :math:`\mathrm{fan\_in} \ge \mathrm{fan\_out}`, orthonormal rows otherwise.
``lsuv`` (Mishkin & Matas, 2016, layer-sequential unit variance)
    orthogonal weights, then -- given data, through :func:`lsuv` or
    :func:`~losslab.train.fit` with the training inputs -- each layer in turn rescaled
    :math:`W_l \leftarrow W_l / \sqrt{\mathrm{Var}(z_l)}` until its pre-activations
    :math:`z_l = h_{l-1} W_l + b_l` on the data have variance within ``tol`` of 1.
``zeros``
    all zeros (fine for convex models such as linear and logistic regression; it never breaks the
    symmetry between hidden units, so it is refused for hidden layers of an MLP).

Biases start at zero except with ``pytorch``.

References: X. Glorot, Y. Bengio (2010), *Understanding the difficulty of training deep
feedforward neural networks*; K. He et al. (2015), *Delving deep into rectifiers*, arXiv:1502.01852;
A. Saxe, J. McClelland, S. Ganguli (2014), *Exact solutions to the nonlinear dynamics of learning in
deep linear neural networks*, arXiv:1312.6120; D. Mishkin, J. Matas (2016), *All you need is a good
init*, ICLR, arXiv:1511.06422.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from losslab._core.validation import check_choice

__all__ = ["INITIALIZERS", "as_rng", "get", "initialize", "lsuv", "names"]


def _xavier(rng: np.random.Generator, fan_in: int, fan_out: int) -> np.ndarray:
    bound = math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-bound, bound, size=(fan_in, fan_out))


def _xavier_normal(rng: np.random.Generator, fan_in: int, fan_out: int) -> np.ndarray:
    return rng.normal(0.0, math.sqrt(2.0 / (fan_in + fan_out)), size=(fan_in, fan_out))


def _he(rng: np.random.Generator, fan_in: int, fan_out: int) -> np.ndarray:
    return rng.normal(0.0, math.sqrt(2.0 / fan_in), size=(fan_in, fan_out))


def _he_uniform(rng: np.random.Generator, fan_in: int, fan_out: int) -> np.ndarray:
    bound = math.sqrt(6.0 / fan_in)
    return rng.uniform(-bound, bound, size=(fan_in, fan_out))


def _normal(rng: np.random.Generator, fan_in: int, fan_out: int) -> np.ndarray:
    return rng.normal(0.0, 0.01, size=(fan_in, fan_out))


def _pytorch(rng: np.random.Generator, fan_in: int, fan_out: int) -> np.ndarray:
    bound = 1.0 / math.sqrt(fan_in)
    return rng.uniform(-bound, bound, size=(fan_in, fan_out))


def _zeros(rng: np.random.Generator, fan_in: int, fan_out: int) -> np.ndarray:
    return np.zeros((fan_in, fan_out))


def _orthogonal(rng: np.random.Generator, fan_in: int, fan_out: int) -> np.ndarray:
    A = rng.normal(size=(fan_in, fan_out))
    tall = fan_in >= fan_out
    q, r = np.linalg.qr(A if tall else A.T)
    q = q * np.sign(np.diag(r))  # a unique factor: Haar-distributed
    return q if tall else q.T


INITIALIZERS: dict[str, Callable[[np.random.Generator, int, int], np.ndarray]] = {
    "xavier": _xavier,
    "xavier_normal": _xavier_normal,
    "he": _he,
    "he_uniform": _he_uniform,
    "normal": _normal,
    "pytorch": _pytorch,
    "zeros": _zeros,
    "orthogonal": _orthogonal,
    "lsuv": _orthogonal,  # the pre-initialization; the data-driven rescaling is lsuv()
}


def names() -> list[str]:
    """The initializer names."""
    return sorted(INITIALIZERS)


def get(name: str) -> Callable[[np.random.Generator, int, int], np.ndarray]:
    """The initializer registered under ``name``."""
    check_choice("init", "init", name, sorted(INITIALIZERS))
    return INITIALIZERS[name]


def as_rng(rng: Any, where: str = "init") -> np.random.Generator:
    """A ``np.random.Generator`` from a Generator, an integer seed or ``None`` (fresh entropy)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, (int, np.integer)) and not isinstance(rng, bool)):
        return np.random.default_rng(rng)
    raise TypeError(f"{where}: rng must be a numpy Generator or an integer seed, got {rng!r}")


def initialize(
    name: str, rng: np.random.Generator, fan_in: int, fan_out: int, dtype: Any = np.float64
) -> tuple[np.ndarray, np.ndarray]:
    """``(W, b)`` for a dense layer ``X @ W + b`` with the named initializer."""
    W = get(name)(rng, fan_in, fan_out).astype(dtype)
    if name == "pytorch":
        bound = 1.0 / math.sqrt(fan_in)
        b = rng.uniform(-bound, bound, size=fan_out).astype(dtype)
    else:
        b = np.zeros(fan_out, dtype=dtype)
    return W, b


def lsuv(
    model: Any,
    X: Any,
    rng: np.random.Generator | int | None = None,
    *,
    tol: float = 0.1,
    max_iter: int = 10,
) -> dict[str, np.ndarray]:
    r"""Layer-sequential unit-variance initialization of ``model`` on the inputs ``X`` (Mishkin & Matas 2016).

    Orthogonal weights and zero biases, then for :math:`l = 1, \dots, L` in turn: while
    :math:`|\mathrm{Var}(z_l) - 1| \ge` ``tol`` (the variance over the batch and the units of
    the pre-activations :math:`z_l = h_{l-1} W_l`, with :math:`h_{l-1}` from the already
    rescaled layers below) and fewer than ``max_iter`` passes, :math:`W_l \leftarrow W_l /
    \sqrt{\mathrm{Var}(z_l)}`. Returns the parameters. Like Xavier and He it aims at unit-scale
    signals through depth, but measures them on data instead of assuming an activation's gain.

    >>> import numpy as np, losslab as ll
    >>> model = ll.models.MLP([4, 32, 32, 1], activation="tanh")
    >>> X = np.random.default_rng(0).normal(size=(256, 4)) * 5.0
    >>> params = ll.models.init.lsuv(model, X, 0)
    >>> z1 = X @ params["W1"]
    >>> round(float(z1.var()), 1)
    1.0
    """
    from losslab._core.validation import check_int, check_positive

    tol = check_positive("lsuv", "tol", tol)
    max_iter = check_int("lsuv", "max_iter", max_iter, minimum=1)
    gen = as_rng(rng, "lsuv")
    Xa = model.check_X(X)
    params = {}
    for l, (wk, bk) in enumerate(model.keys):
        W = _orthogonal(gen, model.layer_sizes[l], model.layer_sizes[l + 1]).astype(model.dtype)
        params[wk], params[bk] = W, np.zeros(model.layer_sizes[l + 1], dtype=model.dtype)
    for l, (wk, _) in enumerate(model.keys):
        for _ in range(max_iter):
            _, cache = model._forward(params, Xa, keep=True)
            h_prev = cache[l][0]
            var = float(np.var(h_prev @ params[wk]))
            if var <= 0.0 or abs(var - 1.0) < tol:
                break
            params[wk] = params[wk] / np.sqrt(var)
    return params
