r"""Backprop by hand: forward values, loss, deltas, every gradient and the update of a model.

:func:`backprop` walks one sample (or a small batch) through a losslab model the way the
curriculum does it on paper (seed 004, "Worked Example: A Tiny Neural Network"):

.. math::

    z_l = h_{l-1} W_l + b_l,\quad h_l = f(z_l),\quad \hat y = g(z_L),\qquad
    \delta_L = \frac{\partial L}{\partial z_L},\quad
    \frac{\partial L}{\partial W_l} = h_{l-1}^\top \delta_l,\quad
    \frac{\partial L}{\partial b_l} = \mathbf 1^\top \delta_l,\quad
    \delta_{l-1} = f'(z_{l-1}) \odot \delta_l W_l^\top,

then one gradient-descent step :math:`\theta \leftarrow \theta - \eta\,\partial L/\partial\theta`.
Names follow :class:`~losslab.models.MLP`: ``W1[i, j]`` joins input ``i`` to hidden unit ``j``
(the curriculum's :math:`w_{ij}`), ``W2[0, 0]`` is its :math:`w_{13}`, ``h1`` its :math:`a_1, a_2`
and ``z2`` its :math:`z_3`. With a sigmoid (softmax) output and a cross-entropy loss the loss is
taken on the logits, as the model does, so :math:`\delta_L = (\hat y - y)/n`.

The deltas are computed here, step by step; the loss value, the gradients and the updated
parameters are the model's own (``model.value_and_grad``), and the tests check that the deltas
reproduce those gradients.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from losslab._core.validation import check_positive
from losslab.explain._core import MAX_LINES, Explanation, Step, fmt, fmt_param, index_label
from losslab.losses._spec import Loss
from losslab.losses._spec import get as get_loss
from losslab.models._base import Model

__all__ = ["BackpropExplanation", "backprop"]

#: Layers with at most this many inputs get their sums written out term by term.
MAX_TERMS = 6


@dataclass
class BackpropExplanation(Explanation):
    """A worked backprop pass: :class:`Explanation` plus the model's intermediate arrays.

    ``value`` is the loss and ``grad`` the gradient dict (``model.value_and_grad``); ``forward``
    holds per layer ``{"z": z_l, "h": h_l}`` (``h`` of the output layer is :math:`\\hat y`),
    ``deltas`` the :math:`\\delta_l` per layer, ``new_params`` the parameters after one step of
    ``lr`` (``None`` when ``lr`` is ``None``).
    """

    model: str = ""
    lr: float | None = None
    forward: list[dict[str, np.ndarray]] = field(default_factory=list)
    deltas: list[np.ndarray] = field(default_factory=list)
    new_params: dict[str, np.ndarray] | None = None

    @property
    def header(self) -> str:
        inner = ", ".join(f"{k}={fmt_param(v)}" for k, v in self.params.items())
        lr = "" if self.lr is None else f", lr={fmt(self.lr)}"
        return f"backprop through {self.model}: loss {self.loss}({inner}){lr}"


def backprop(
    model: Model,
    params: Mapping[str, Any],
    X: npt.ArrayLike,
    y: npt.ArrayLike,
    loss: str | Loss | None = "binary_cross_entropy",
    lr: float | None = 0.1,
    **loss_params: Any,
) -> BackpropExplanation:
    r"""Backprop through ``model`` on ``(X, y)`` worked by hand, then one gradient-descent step.

    Steps: the network and its parameters; one forward step per layer (:math:`z_l = h_{l-1}W_l +
    b_l` term by term, then :math:`h_l = f(z_l)`); the loss; the output delta
    :math:`\delta_L = \partial L/\partial z_L`; per layer, from the top, the gradients
    :math:`\partial L/\partial W_l = h_{l-1}^\top\delta_l`, :math:`\partial L/\partial b_l =
    \sum_i \delta_{l,i}` and the delta of the layer below :math:`\delta_{l-1} = f'(z_{l-1})\odot
    \delta_l W_l^\top`; the update :math:`\theta - \eta\,\partial L/\partial\theta` (skipped when
    ``lr`` is ``None``); the result. ``loss=None`` uses the model's default loss; ``loss_params``
    go to the loss. ``value``/``grad`` equal ``model.value_and_grad(params, X, y, loss,
    **loss_params)`` and the loss is the mean over samples.

    The curriculum's 2-2-1 network (seed 004) with the correct numbers:

    >>> import numpy as np, losslab as ll
    >>> model = ll.models.MLP([2, 2, 1], activation="sigmoid", output_activation="sigmoid")
    >>> params = {"W1": np.array([[0.2, 0.3], [0.4, 0.1]]), "b1": np.array([0.1, 0.2]),
    ...           "W2": np.array([[0.7], [0.5]]), "b2": np.array([0.3])}
    >>> ex = ll.explain.backprop(model, params, [[1.0, 0.0]], [[1.0]], lr=0.1)
    >>> print(ex.step("Forward, layer 2").text.splitlines()[0])
    z2[0] = 0.7 * 0.574443 + 0.5 * 0.622459 + 0.3 = 1.01334
    >>> round(float(ex.value), 4), round(float(ex.deltas[-1][0, 0]), 4)
    (0.3097, -0.2663)
    >>> round(float(ex.new_params["W2"][0, 0]), 4)
    0.7153
    """
    if not isinstance(model, Model):
        raise TypeError(f"backprop: model must be a losslab model, got {type(model).__name__}")
    if lr is not None:
        lr = check_positive("backprop", "lr", lr, strict=False)
    P = model.check_params(params)
    Xa = model.check_X(X)
    ya = np.asarray(y)
    loss_obj = loss if isinstance(loss, Loss) else get_loss(model.default_loss if loss is None else loss)
    resolved = loss_obj.resolve_params(loss_params)
    value, grads = model.value_and_grad(P, Xa, ya, loss_obj, **loss_params)
    # The forward pass with its cache, as the model computes it.
    z_out, cache = model._forward(P, Xa, keep=True)
    walk = _Walk(model, P, Xa, ya, loss_obj, dict(loss_params), cache, z_out)
    steps = [walk.network_step(resolved, lr)]
    steps += walk.forward_steps()
    steps.append(walk.loss_step(value))
    steps += walk.backward_steps(grads)
    new_params = None
    if lr is not None:
        new_params = {k: P[k] - lr * grads[k] for k in P}
        steps.append(_update_step(P, grads, new_params, lr))
    steps.append(_result_step(value, grads, new_params))
    return BackpropExplanation(
        loss=loss_obj.name,
        params=resolved,
        reduction="mean",
        inputs={"X": Xa, "y": ya},
        steps=steps,
        value=np.asarray(value)[()],
        grad=grads,
        model=repr(model),
        lr=lr,
        forward=walk.forward,
        deltas=walk.deltas,
        new_params=new_params,
    )


class _Walk:
    """The intermediate arrays of one pass and the steps that show them."""

    def __init__(
        self,
        model: Model,
        params: dict[str, np.ndarray],
        X: np.ndarray,
        y: np.ndarray,
        loss: Loss,
        loss_params: dict[str, Any],
        cache: list[Any],
        z_out: np.ndarray,
    ) -> None:
        self.model, self.params, self.X, self.y, self.loss = model, params, X, y, loss
        self.cache, self.z_out = list(cache), z_out
        self.n_layers = len(model.keys)
        out = model.output_activation
        self.logit_path = out.name in ("sigmoid", "softmax") and "from_logits" in loss.params
        if self.logit_path and not loss_params.get("from_logits", True):
            self.logit_path = False
        self.loss_params = dict(loss_params)
        if self.logit_path:
            self.loss_params["from_logits"] = True
        self.y_hat = out.forward(z_out)
        self.squeeze = model.n_out == 1 and y.ndim == 1
        self.forward: list[dict[str, np.ndarray]] = []
        for l in range(self.n_layers):
            h_prev, _, a = cache[l]
            wk, bk = model.keys[l]
            # recomputed: the model's ReLU overwrites its cached z with h in place
            z = h_prev @ params[wk] + params[bk]
            self.cache[l] = (h_prev, z, a)
            h = self.y_hat if l == self.n_layers - 1 else (a + cache[l][0] if model.skips[l] else a)
            self.forward.append({"z": np.array(z), "h": np.array(h)})
        self.deltas: list[np.ndarray] = [np.empty(0)] * self.n_layers

    # -- forward ------------------------------------------------------------------------------

    def network_step(self, loss_params: dict[str, Any], lr: float | None) -> Step:
        m = self.model
        hidden = m.activation.name
        out = m.output_activation.name
        lines = [
            f"model: {m!r}",
            f"layer sizes {list(m.layer_sizes)}; hidden activation f = {hidden}; output activation g = {out}",
            "loss: " + self.loss.name + (f" ({_params_text(loss_params)})" if loss_params else ""),
        ]
        if lr is not None:
            lines.append(f"learning rate eta = {fmt(lr)}")
        for key, arr in self.params.items():
            lines.append(f"{key} = {fmt(arr)}")
        lines.append(f"X = {fmt(self.X)}")
        lines.append(f"y = {fmt(self.y)}")
        values: dict[str, Any] = dict(self.params)
        values.update(X=self.X, y=self.y)
        return Step("Network and inputs", "\n".join(lines), latex=r"z_l = h_{l-1} W_l + b_l", values=values)

    def forward_steps(self) -> list[Step]:
        steps = []
        m = self.model
        for l in range(self.n_layers):
            wk, bk = m.keys[l]
            W, b = self.params[wk], self.params[bk]
            h_prev, z, _ = self.cache[l]
            last = l == self.n_layers - 1
            prev = "x" if l == 0 else f"h{l}"
            lines = []
            for i, j in self._entries(z.shape):
                row = h_prev[i]
                if row.size <= MAX_TERMS:
                    terms = " + ".join(f"{fmt(W[k, j])} * {fmt(row[k])}" for k in range(row.size))
                else:
                    terms = f"sum_k W{l + 1}[k, {j}] * {prev}[k]"
                lines.append(f"z{l + 1}{self._at(i, j)} = {terms} + {fmt(b[j])} = {fmt(z[i, j])}")
            h = self.forward[l]["h"]
            name = "y_hat" if last else f"h{l + 1}"
            for i, j in self._entries(h.shape):
                lines.append(f"{name}{self._at(i, j)} = {self._apply(l, i, j)} = {fmt(h[i, j])}")
            lines += self._more(z.shape)
            latex = rf"z_{{{l + 1}}} = h_{{{l}}} W_{{{l + 1}}} + b_{{{l + 1}}},\quad " + (
                rf"\hat y = g(z_{{{l + 1}}})" if last else rf"h_{{{l + 1}}} = f(z_{{{l + 1}}})"
            )
            steps.append(
                Step(
                    f"Forward, layer {l + 1}" + (" (output)" if last else ""),
                    "\n".join(lines),
                    latex=latex,
                    values={f"z{l + 1}": self.forward[l]["z"], name: h},
                )
            )
        return steps

    def loss_step(self, value: Any) -> Step:
        pred, target = self._loss_inputs()
        per_sample = np.asarray(self.loss(pred, target, reduction="none", **self.loss_params))
        lines = []
        if self.logit_path:
            lines.append(
                f"{self.loss.name} is evaluated on the logits z{self.n_layers} (from_logits=True), "
                "the numerically stable form of the same value"
            )
        for idx in list(np.ndindex(*per_sample.shape))[:MAX_LINES]:
            lines.append(f"l{index_label(idx)} = {fmt(per_sample[idx])}")
        lines.append(f"L = mean of the {per_sample.size} entries = {fmt(value)}")
        info = self.loss.info
        return Step(
            "Loss",
            "\n".join(lines),
            latex=info.formula,
            values={"per_entry": per_sample, "loss": np.asarray(value)[()]},
        )

    # -- backward -----------------------------------------------------------------------------

    def backward_steps(self, grads: dict[str, np.ndarray]) -> list[Step]:
        m = self.model
        last = self.n_layers - 1
        pred, target = self._loss_inputs()
        d = np.asarray(self.loss.grad(pred, target, **self.loss_params))
        dpred = d[:, None] if self.squeeze else d
        out = m.output_activation
        n = self.X.shape[0]
        Lz = f"z{last + 1}"
        if self.logit_path:
            delta = dpred
            how = f"delta{last + 1} = dL/d{Lz}: the loss's gradient on the logits"
            if self._plain_ce_delta(delta) is not None:
                how += f" = (y_hat - y) / n, n = {n}"
            lines = [how]
            plain = self._plain_ce_delta(delta)
            for i, j in self._entries(delta.shape):
                at = self._at(i, j)
                shown = "" if plain is None else f"({fmt(self.y_hat[i, j])} - {fmt(plain[i, j])}) / {n} = "
                lines.append(f"delta{last + 1}{at} = {shown}{fmt(delta[i, j])}")
        else:
            delta = out.backward(self.z_out, self.y_hat, dpred)
            lines = [f"delta{last + 1} = dL/dy_hat * g'({Lz}) (g = {out.name})"]
            for i, j in self._entries(delta.shape):
                at = self._at(i, j)
                lines.append(f"delta{last + 1}{at} = {fmt(dpred[i, j])} * g'({Lz}{at}) = {fmt(delta[i, j])}")
        lines += self._more(delta.shape)
        steps = [
            Step(
                "Output delta",
                "\n".join(lines),
                latex=rf"\delta_{{{last + 1}}} = \partial L / \partial z_{{{last + 1}}}",
                values={f"delta{last + 1}": delta},
            )
        ]
        self.deltas[last] = delta
        dh: np.ndarray | None = None
        for l in range(last, -1, -1):
            wk, bk = m.keys[l]
            h_prev, z, a = self.cache[l]
            if l < last:
                assert dh is not None
                deriv = m.activation.derivative
                assert deriv is not None  # hidden activations are element-wise
                slope = deriv(z, a)
                delta = slope * dh
                self.deltas[l] = delta
                lines = [f"delta{l + 1} = f'(z{l + 1}) * dL/dh{l + 1}   (f = {m.activation.name})"]
                for i, j in self._entries(delta.shape):
                    at = self._at(i, j)
                    lines.append(
                        f"delta{l + 1}{at} = {fmt(slope[i, j])} * {fmt(dh[i, j])} = {fmt(delta[i, j])}"
                    )
                lines += self._more(delta.shape)
                steps.append(
                    Step(
                        f"Delta, layer {l + 1}",
                        "\n".join(lines),
                        latex=rf"\delta_{{{l + 1}}} = f'(z_{{{l + 1}}}) \odot \partial L/\partial h_{{{l + 1}}}",
                        values={f"delta{l + 1}": delta, f"f'(z{l + 1})": slope},
                    )
                )
            steps.append(self._grad_step(l, h_prev, delta, grads))
            if l > 0:
                dh_prev = delta @ self.params[wk].T
                if m.skips[l]:
                    assert dh is not None
                    dh_prev = dh_prev + dh
                steps.append(self._dh_step(l, delta, dh_prev, dh))
                dh = dh_prev
        return steps

    def _grad_step(self, l: int, h_prev: np.ndarray, delta: np.ndarray, grads: dict[str, np.ndarray]) -> Step:
        wk, bk = self.model.keys[l]
        gW, gb = grads[wk], grads[bk]
        prev = "x" if l == 0 else f"h{l}"
        n = h_prev.shape[0]
        lines = []
        for k, j in list(np.ndindex(*gW.shape))[:MAX_LINES]:
            if n <= 3:
                terms = " + ".join(f"{fmt(delta[i, j])} * {fmt(h_prev[i, k])}" for i in range(n))
            else:
                terms = f"sum_i delta{l + 1}[i, {j}] * {prev}[i, {k}]"
            lines.append(f"dL/d{wk}[{k}, {j}] = {terms} = {fmt(gW[k, j])}")
        if gW.size > MAX_LINES:
            lines.append(f"... ({gW.size - MAX_LINES} more; see the step's values)")
        for j in range(min(gb.size, MAX_LINES)):
            terms = (
                " + ".join(fmt(delta[i, j]) for i in range(n)) if n <= 3 else f"sum_i delta{l + 1}[i, {j}]"
            )
            lines.append(f"dL/d{bk}[{j}] = {terms} = {fmt(gb[j])}")
        return Step(
            f"Gradients, layer {l + 1}",
            "\n".join(lines),
            latex=rf"\partial L/\partial W_{{{l + 1}}} = h_{{{l}}}^\top \delta_{{{l + 1}}},\quad "
            rf"\partial L/\partial b_{{{l + 1}}} = \mathbf 1^\top \delta_{{{l + 1}}}",
            values={f"grad_{wk}": gW, f"grad_{bk}": gb},
        )

    def _dh_step(self, l: int, delta: np.ndarray, dh_prev: np.ndarray, dh_above: np.ndarray | None) -> Step:
        wk, _ = self.model.keys[l]
        W = self.params[wk]
        lines = []
        for i, k in self._entries(dh_prev.shape):
            terms = " + ".join(f"{fmt(delta[i, j])} * {fmt(W[k, j])}" for j in range(W.shape[1]))
            if W.shape[1] > MAX_TERMS:
                terms = f"sum_j delta{l + 1}[j] * {wk}[{k}, j]"
            skip = (
                f" + dL/dh{l + 1}{self._at(i, k)} (skip)"
                if self.model.skips[l] and dh_above is not None
                else ""
            )
            lines.append(f"dL/dh{l}{self._at(i, k)} = {terms}{skip} = {fmt(dh_prev[i, k])}")
        lines += self._more(dh_prev.shape)
        return Step(
            f"Back through {wk}",
            "\n".join(lines),
            latex=rf"\partial L/\partial h_{{{l}}} = \delta_{{{l + 1}}} W_{{{l + 1}}}^\top",
            values={f"dL/dh{l}": dh_prev},
        )

    # -- helpers ------------------------------------------------------------------------------

    def _plain_ce_delta(self, delta: np.ndarray) -> np.ndarray | None:
        """The targets ``y`` as ``(n, n_out)`` when ``delta == (y_hat - y) / n`` holds, else ``None``."""
        n, k = self.y_hat.shape
        y = self.y
        if y.shape == (n,) and k > 1:  # class indices
            if not np.issubdtype(y.dtype, np.integer) and not np.all(np.mod(y, 1) == 0):
                return None
            onehot = np.zeros((n, k))
            onehot[np.arange(n), y.astype(int)] = 1.0
            y = onehot
        if y.size != n * k:
            return None
        target = y.reshape(n, k)
        if not np.allclose((self.y_hat - target) / n, delta, rtol=1e-12, atol=1e-15):
            return None
        return target

    def _loss_inputs(self) -> tuple[np.ndarray, np.ndarray]:
        a = self.z_out if self.logit_path else self.y_hat
        return (a[:, 0] if self.squeeze else a), self.y

    def _at(self, i: int, j: int) -> str:
        return f"[{j}]" if self.X.shape[0] == 1 else f"[{i}, {j}]"

    def _entries(self, shape: tuple[int, ...]) -> list[tuple[int, ...]]:
        return list(np.ndindex(*shape))[:MAX_LINES]

    def _more(self, shape: tuple[int, ...]) -> list[str]:
        n = int(np.prod(shape))
        return [f"... ({n - MAX_LINES} more; see the step's values)"] if n > MAX_LINES else []

    def _apply(self, l: int, i: int, j: int) -> str:
        """``sigmoid(z1[0])`` (plus the skip input ``h0[0]`` where the layer has one)."""
        at = self._at(i, j)
        if l == self.n_layers - 1:
            out = self.model.output_activation.name
            if out == "softmax":
                return f"softmax(z{l + 1}{'' if self.X.shape[0] == 1 else f'[{i}]'})[{j}]"
            return f"{out}(z{l + 1}{at})"
        text = f"{self.model.activation.name}(z{l + 1}{at})"
        if self.model.skips[l]:
            text += f" + {'x' if l == 0 else f'h{l}'}{at}"
        return text


def _params_text(params: dict[str, Any]) -> str:
    return ", ".join(f"{k} = {fmt_param(v)}" for k, v in params.items())


def _update_step(
    params: dict[str, np.ndarray], grads: dict[str, np.ndarray], new: dict[str, np.ndarray], lr: float
) -> Step:
    lines = []
    for key, p in params.items():
        for idx in list(np.ndindex(*p.shape))[:MAX_LINES]:
            at = index_label(idx)
            lines.append(
                f"{key}{at} = {fmt(p[idx])} - {fmt(lr)} * ({fmt(grads[key][idx])}) = {fmt(new[key][idx])}"
            )
        if p.size > MAX_LINES:
            lines.append(f"... ({p.size - MAX_LINES} more of {key}; see the step's values)")
    return Step(
        "Update (gradient descent)",
        "\n".join(lines),
        latex=r"\theta \leftarrow \theta - \eta\, \partial L/\partial \theta",
        values={"new_params": new},
    )


def _result_step(value: Any, grads: dict[str, np.ndarray], new: dict[str, np.ndarray] | None) -> Step:
    lines = [f"loss = {fmt(value)}"]
    lines += [f"dL/d{k} = {fmt(g)}" for k, g in grads.items()]
    if new is not None:
        lines += [f"new {k} = {fmt(p)}" for k, p in new.items()]
    values: dict[str, Any] = {"loss": value, "grads": grads}
    if new is not None:
        values["new_params"] = new
    return Step("Result", "\n".join(lines), values=values)
