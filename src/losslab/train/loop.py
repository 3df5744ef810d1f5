r"""The training loop: ``fit(model, X, y, loss=..., optimizer=..., epochs=...) -> History``.

One epoch visits every sample once. ``batch_size=None`` is full-batch gradient descent (one step
per epoch), ``batch_size=1`` stochastic gradient descent, ``batch_size=k`` mini-batches of ``k``
(the last one smaller when ``k`` does not divide ``n``, as PyTorch's ``DataLoader`` with
``drop_last=False``). Each step computes :math:`L_B(\theta_t)` and :math:`g_t = \nabla L_B
(\theta_t)` by backprop, then ``updates, state = optimizer.update(g_t, state, params)`` and
:math:`\theta_{t+1} = \theta_t + \text{updates}`.
"""

from __future__ import annotations

import inspect
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from losslab._core.progress import ProgressBar
from losslab._core.validation import NonFiniteError, check_int
from losslab.losses._spec import Loss
from losslab.models._base import Model
from losslab.models.init import lsuv
from losslab.optim.base import GradientTransformation
from losslab.optim.base import step as optimizer_step
from losslab.train import curriculum as _curriculum
from losslab.train import metrics as _metrics
from losslab.train import regularization as _regularization
from losslab.train import weighting as _weighting
from losslab.train._batch import BatchObjective, weight_shape
from losslab.train.callbacks import Callback, TrainingRun
from losslab.train.history import History
from losslab.train.multitask import MultiTask, MultiTaskObjective

__all__ = ["fit", "learning_rate_of"]


def fit(
    model: Model,
    X: npt.ArrayLike,
    y: npt.ArrayLike,
    *,
    loss: str | Loss | None = None,
    optimizer: GradientTransformation | str,
    epochs: int = 1,
    batch_size: int | None = None,
    shuffle: bool = True,
    seed: int | np.random.Generator | None = None,
    validation_data: tuple[npt.ArrayLike, npt.ArrayLike] | None = None,
    callbacks: Sequence[Callback] = (),
    record_params: bool = False,
    progress: bool = True,
    metrics: Sequence[str | Callable[..., float]] | None = None,
    loss_params: Mapping[str, Any] | None = None,
    init_params: Mapping[str, Any] | None = None,
    regularizer: str | Mapping[str, Any] | None = None,
    sample_weight: npt.ArrayLike | None = None,
    class_weight: str | Mapping[int, float] | npt.ArrayLike | None = None,
    curriculum: Any = None,
) -> History:
    r"""Train ``model`` on ``(X, y)``; return a :class:`History` with the final ``params``.

    ``loss`` is a registered name or loss object (``None``: the model's default) and
    ``loss_params`` its hyperparameters (``{"delta": 1.0}``); ``optimizer`` a
    :class:`~losslab.optim.GradientTransformation` (or a registered optimizer name). When the
    optimizer's ``update`` accepts a ``value=`` keyword (plateau reduction), the step's loss is
    passed; an optimizer that declares ``"hessian"`` in its ``extra_args`` (``ll.optim.newton()``)
    gets the dense Hessian of the step's objective (central differences of the analytic gradient,
    :math:`2d` backprops: small models only). ``seed`` drives the initialization (unless
    ``init_params`` is given; they are never mutated) and the per-epoch shuffling (skipped for full batches, where order does not matter):
    the same seed gives the same run. ``metrics`` are names from :mod:`losslab.train.metrics` or
    callables ``(y_pred, y_true) -> float`` evaluated on the model's output at each epoch's end,
    on the training set and on ``validation_data``. ``record_params=True`` keeps the parameters
    after every step in ``history.trajectory``.

    The objective is :math:`\frac1{|B|}\sum_{i\in B} w_i\,\ell_i + R(\theta)`.
    ``regularizer`` adds :math:`R(\theta)` -- registered L1 / L2 / elastic-net penalties on the
    weight matrices by default, e.g. ``{"l2_regularizer": {"strength": 1e-3}}`` or ``{"l1": 1e-4}``
    (see :mod:`losslab.train.regularization`); it is logged apart from the data loss, as
    ``history.steps["penalty"]`` and ``history.epochs["penalty"]``, while ``"loss"`` stays the data
    loss. ``sample_weight`` (one weight per sample) and ``class_weight`` (``"balanced"``, a mapping
    label -> weight, or an array) weight each sample's loss, the weights travelling with their
    samples through the shuffling (see :mod:`losslab.train.weighting`: the batch mean divides by
    the batch size, as Keras). A model with dropout runs in training mode with masks drawn from
    ``seed`` at every step (independently of the initialization and shuffling streams); the
    validation loss and the metrics are computed in evaluation mode. ``curriculum`` chooses and
    weights each epoch's samples from easy to hard -- by a difficulty score or self-paced (see
    :mod:`losslab.train.curriculum`) -- and records the weights in ``history.curriculum``.

    Divergence -- a non-finite loss, gradient, learning rate, model output or (after an epoch's
    last step) parameters -- stops training with a
    ``RuntimeWarning`` and ``history.diverged = True``; ``history.stop_reason`` says where, and
    ``history.params`` are the parameters at which it happened. A Rich progress bar shows the
    epochs when ``progress=True`` and standard output is a terminal.

    >>> import losslab as ll
    >>> X, y = ll.data.linear(n=100, w=2.0, b=1.0, noise=0.0, seed=0)
    >>> history = ll.train.fit(ll.models.Linear(1), X, y, loss="mse",
    ...                        optimizer=ll.optim.chain(ll.optim.scale(-0.3)), epochs=200, seed=0)
    >>> [round(float(v), 6) for v in (history.params["W"][0, 0], history.params["b"][0])]
    [2.0, 1.0]
    """
    if not isinstance(model, Model):
        raise TypeError(f"fit: model must be a losslab model (ll.models.*), got {type(model).__name__}")
    optimizer = _resolve_optimizer(optimizer)
    tasks = loss if isinstance(loss, MultiTask) else None
    loss_obj = model._resolve_loss(None if tasks is not None else loss)
    lp = dict(loss_params or {})
    if tasks is not None and lp:
        raise TypeError(
            "fit: a multi-task loss takes its parameters per task (ll.train.multitask), not loss_params"
        )
    loss_obj.resolve_params(lp)  # unknown or invalid loss parameters fail before training
    epochs = check_int("fit", "epochs", epochs, minimum=0)
    Xa = model.check_X(X)
    n = Xa.shape[0]
    ya = np.asarray(y) if tasks is None else tasks.pack(y, n)[0]
    if ya.ndim == 0 or ya.shape[0] != n:
        raise ValueError(f"fit: y must have one entry per row of X ({n}), got shape {ya.shape}")
    bs = n if batch_size is None else min(check_int("fit", "batch_size", batch_size, minimum=1), n)
    val = None
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise TypeError("fit: validation_data must be a pair (X_val, y_val)")
        Xv = model.check_X(validation_data[0])
        yv = (
            np.asarray(validation_data[1])
            if tasks is None
            else tasks.pack(validation_data[1], Xv.shape[0])[0]
        )
        if yv.ndim == 0 or yv.shape[0] != Xv.shape[0]:
            raise ValueError(
                f"fit: y_val must have one entry per row of X_val ({Xv.shape[0]}), got {yv.shape}"
            )
        val = (Xv, yv)
    metric_fns = [(_metric_name(m), _metrics.get(m)) for m in (metrics or ())]
    penalties = _regularization.resolve(regularizer, model)
    if tasks is not None and class_weight is not None:
        raise TypeError("fit: class_weight needs a single task's labels; give a multi-task fit sample_weight")
    weights = _weighting.sample_weights(ya, sample_weight=sample_weight, class_weight=class_weight)
    plan = _curriculum.resolve(curriculum)
    if plan is not None:
        plan.check(n)
        if tasks is not None and plan.needs_losses:
            raise TypeError(
                "fit: a self-paced curriculum needs per-sample losses, which a multi-task loss does not give"
            )
    init_rng, shuffle_rng = _rngs(seed)
    objective = _objective(model, tasks, loss_obj, lp, y, ya, penalties, _dropout_rng(seed))
    params = _initial_params(model, Xa, init_rng, init_params, objective)
    state = optimizer.init(params)
    pass_value = _accepts_value(optimizer.update)
    _check_extra_args(optimizer)
    needs_hessian = "hessian" in optimizer.extra_args

    history = History(params=params, trajectory=[params] if record_params else None)
    sampler = _EpochSampler(Xa, ya, weights, bs, shuffle, shuffle_rng, plan, objective, history)
    run = TrainingRun(model, params, history, val is not None)
    cbs = list(callbacks)
    for cb in cbs:
        if not isinstance(cb, Callback):
            raise TypeError(f"fit: callbacks must be Callback instances, got {type(cb).__name__}")
        cb.on_train_begin(run)
    step_cbs = [cb for cb in cbs if type(cb).on_step_end is not Callback.on_step_end]
    steps_log = history.steps
    log_loss, log_gnorm, log_lr = steps_log["loss"], steps_log["grad_norm"], steps_log["lr"]
    log_penalty = steps_log.setdefault("penalty", []) if penalties else None
    trajectory = history.trajectory
    lr_path = _LearningRatePath()
    bar = ProgressBar(progress, epochs, "training")

    step = 0
    with bar, np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for epoch in range(epochs):
            run.epoch = epoch
            Xe, ye, we, curriculum_logs = sampler.epoch(epoch, params)
            n_e = Xe.shape[0]
            total = total_penalty = 0.0
            for start in range(0, n_e, bs):
                Xb, yb = Xe[start : start + bs], ye[start : start + bs]
                wb = None if we is None else we[start : start + bs]
                try:
                    value, penalty, grads = objective(params, Xb, yb, wb)
                except ValueError:
                    if _output_finite(model, params, Xb):
                        raise
                    value, penalty, grads = math.nan, 0.0, None
                v = float(value) + penalty  # the objective the optimizer minimizes
                gnorm = _global_norm(grads) if grads is not None else math.nan
                if not (math.isfinite(v) and math.isfinite(gnorm)):
                    _diverged(history, run, epoch, step, v, gnorm)
                    break
                # update + apply_updates, fused into one pass where the optimizer has a fused step
                extra: dict[str, Any] = {"value": v} if pass_value else {}
                if needs_hessian:
                    extra["hessian"] = objective.hessian(params, Xb, yb, wb)
                try:
                    params, state = optimizer_step(optimizer, grads, state, params, **extra)
                except NonFiniteError as err:  # e.g. a schedule returning NaN: a divergence stop
                    _diverged(history, run, epoch, step, v, gnorm, str(err))
                    break
                lr = lr_path.read(state)
                v -= penalty  # logged: the data loss, the penalty apart
                log_loss.append(v)
                if log_penalty is not None:
                    log_penalty.append(penalty)
                    total_penalty += penalty * Xb.shape[0]
                log_gnorm.append(gnorm)
                log_lr.append(lr)
                if trajectory is not None:
                    trajectory.append(params)
                total += v * Xb.shape[0]
                run.params, run.step = params, step
                step += 1
                if step_cbs:
                    logs = {"loss": v, "grad_norm": gnorm, "lr": lr}
                    for cb in step_cbs:
                        cb.on_step_end(run, step - 1, logs)
                    params = run.params
                    if run.stop_reason is not None:
                        break
            if history.diverged:
                break
            if not _tree_finite(params):  # the epoch's last step is not followed by a loss check
                _diverged(history, run, epoch, step - 1, v, gnorm, "the parameters became non-finite")
                break
            epoch_logs = _end_of_epoch(
                history, model, params, total / n_e, Xa, ya, val, objective, metric_fns
            )
            if log_penalty is not None:
                curriculum_logs["penalty"] = total_penalty / n_e
            for key, value in curriculum_logs.items():
                epoch_logs[key] = value
                history.epochs.setdefault(key, []).append(value)
            run.params = params
            for cb in cbs:
                cb.on_epoch_end(run, epoch, epoch_logs)
            params = run.params
            bar.advance("  ".join(f"{k}={v:.4g}" for k, v in epoch_logs.items()))
            if run.stop_reason is not None:
                break
    for cb in cbs:
        cb.on_train_end(run)
    if not history.diverged:
        params = run.params
    history.params = params
    if history.stop_reason is None:
        history.stop_reason = run.stop_reason
    return history


# --------------------------------------------------------------------------- helpers


def _objective(
    model: Model,
    tasks: MultiTask | None,
    loss: Loss,
    loss_params: dict[str, Any],
    y: Any,
    ya: np.ndarray,
    penalties: list[_regularization.Penalty],
    dropout_rng: np.random.Generator,
) -> BatchObjective:
    """The batch objective: one loss, or the tasks of a multi-task loss (``ya`` their packed targets)."""
    if tasks is None:
        return BatchObjective(model, loss, loss_params, penalties, dropout_rng, weight_shape(model, loss, ya))
    tasks.check_model(model)
    layout = tasks.pack(y, ya.shape[0])[1]
    return MultiTaskObjective(model, tasks, layout, penalties=penalties, dropout_rng=dropout_rng)


def _initial_params(
    model: Model,
    X: np.ndarray,
    rng: np.random.Generator,
    init_params: Mapping[str, Any] | None,
    objective: BatchObjective,
) -> dict[str, np.ndarray]:
    """``init_params`` checked, else drawn from ``rng`` (LSUV on ``X``), plus the objective's own."""
    if init_params is not None:
        params = model.check_params(init_params)
    elif model.init_name == "lsuv":  # layer-sequential unit variance needs the training inputs
        params = lsuv(model, X, rng)
    else:
        params = model.init(rng)
    return objective.init_params(params, init_params)


class _EpochSampler:
    """Each epoch's samples, in order, with their weights: the shuffle, then the curriculum's choice."""

    def __init__(
        self,
        X: np.ndarray,
        y: np.ndarray,
        weights: np.ndarray | None,
        batch_size: int,
        shuffle: bool,
        rng: np.random.Generator,
        curriculum: _curriculum.Curriculum | None,
        objective: BatchObjective,
        history: History,
    ) -> None:
        self.X, self.y, self.weights = X, y, weights
        self.batch_size, self.shuffle, self.rng = batch_size, shuffle, rng
        self.curriculum, self.objective = curriculum, objective
        if curriculum is not None:
            history.curriculum = []
        self.history = history

    def epoch(
        self, epoch: int, params: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, dict[str, float]]:
        n = self.X.shape[0]
        plan = self.curriculum
        if plan is None:
            if self.shuffle and self.batch_size < n:
                order = self.rng.permutation(n)
                return self.X[order], self.y[order], None if self.weights is None else self.weights[order], {}
            return self.X, self.y, self.weights, {}
        losses = (lambda: self.objective.sample_losses(params, self.X, self.y)) if plan.needs_losses else None
        v = plan.epoch_weights(epoch, losses)
        assert self.history.curriculum is not None
        self.history.curriculum.append(v)
        index = np.flatnonzero(v > 0)
        if plan.ordered:
            index = plan.order(index)
        elif self.shuffle and self.batch_size < index.size:
            index = index[self.rng.permutation(index.size)]
        w: np.ndarray | None = v[index]
        if self.weights is not None:
            w = v[index] * self.weights[index]
        elif np.all(v[index] == 1.0):
            w = None
        logs = {"curriculum_fraction": index.size / n, **plan.logs(epoch)}
        return self.X[index], self.y[index], w, logs


def _resolve_optimizer(optimizer: Any) -> GradientTransformation:
    if isinstance(optimizer, str):
        from losslab import optim

        getter = getattr(optim, "get", None)
        if getter is None:
            raise ValueError(f"fit: optimizer names need the optimizer registry; got {optimizer!r}")
        optimizer = getter(optimizer)
    if not isinstance(optimizer, GradientTransformation):
        raise TypeError(
            f"fit: optimizer must be a GradientTransformation (e.g. ll.optim.adam(lr=1e-3)), "
            f"got {type(optimizer).__name__}"
        )
    return optimizer


def _rngs(seed: Any) -> tuple[np.random.Generator, np.random.Generator]:
    """Independent generators for initialization and shuffling, both derived from ``seed``."""
    if isinstance(seed, np.random.Generator):
        return seed, seed
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
        raise TypeError(f"fit: seed must be an integer or a numpy Generator, got seed={seed!r}")
    a, b = np.random.SeedSequence(seed).spawn(2)
    return np.random.default_rng(a), np.random.default_rng(b)


_PROVIDED_EXTRA_ARGS = frozenset({"hessian", "value"})


def _check_extra_args(optimizer: GradientTransformation) -> None:
    missing = sorted(optimizer.extra_args - _PROVIDED_EXTRA_ARGS)
    if missing:
        raise ValueError(
            f"fit: the optimizer needs {', '.join(missing)} at every update, which fit cannot provide "
            f"(it provides {', '.join(sorted(_PROVIDED_EXTRA_ARGS))})"
        )


def _dropout_rng(seed: Any) -> np.random.Generator:
    """The dropout-mask stream: a third child of ``seed`` (the first two drive init and shuffling)."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(np.random.SeedSequence(seed).spawn(3)[2])


def _accepts_value(update: Callable[..., Any]) -> bool:
    try:
        sig = inspect.signature(update)
    except (TypeError, ValueError):
        return False
    return "value" in sig.parameters or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in sig.parameters.values()
    )


def _global_norm(grads: Mapping[str, np.ndarray]) -> float:
    total = 0.0
    for g in grads.values():
        flat = g.ravel()
        total += float(np.dot(flat, flat))
    return math.sqrt(total)


def _output_finite(model: Model, params: Any, X: np.ndarray) -> bool:
    """Whether the model output is finite (a ValueError with a non-finite output is divergence)."""
    if not all(np.isfinite(p).all() for p in params.values()):
        return False
    z, _ = model._forward(params, X, keep=False)
    return bool(np.isfinite(z).all())


def _tree_finite(params: Mapping[str, Any]) -> bool:
    return all(bool(np.isfinite(p).all()) for p in params.values())


def _diverged(
    history: History,
    run: TrainingRun,
    epoch: int,
    step: int,
    value: float,
    gnorm: float,
    what: str | None = None,
) -> None:
    if what is None:
        what = f"the loss became {value}" if not math.isfinite(value) else f"the gradient norm became {gnorm}"
    message = (
        f"training diverged at epoch {epoch + 1}, step {step + 1}: {what}; "
        "lower the learning rate or clip the gradients"
    )
    history.diverged = True
    history.stop_reason = message
    warnings.warn(message, RuntimeWarning, stacklevel=3)


def _metric_name(metric: Any) -> str:
    return metric if isinstance(metric, str) else getattr(metric, "__name__", "metric")


def _end_of_epoch(
    history: History,
    model: Model,
    params: Any,
    train_loss: float,
    X: np.ndarray,
    y: np.ndarray,
    val: tuple[np.ndarray, np.ndarray] | None,
    objective: BatchObjective,
    metric_fns: list[tuple[str, Callable[..., float]]],
) -> dict[str, float]:
    logs: dict[str, float] = {"loss": train_loss}
    logs.update(objective.epoch_logs(params, X, y))
    if val is not None:
        logs["val_loss"] = objective.value(params, val[0], val[1])
    if metric_fns:
        pred = _predict(model, params, X)
        for name, fn in metric_fns:
            _record_metric(history, logs, name, fn(pred, y))
        if val is not None:
            vpred = _predict(model, params, val[0])
            for name, fn in metric_fns:
                _record_metric(history, logs, f"val_{name}", fn(vpred, val[1]))
    for key, value in logs.items():
        history.epochs.setdefault(key, []).append(value)
    return logs


def _record_metric(history: History, logs: dict[str, float], name: str, value: Any) -> None:
    """A number goes to the epoch logs; an array (per-class values, a confusion matrix) to ``history.arrays``."""
    if np.ndim(value) == 0:
        logs[name] = float(value)
    else:
        history.arrays.setdefault(name, []).append(np.asarray(value))


def _predict(model: Model, params: Any, X: np.ndarray) -> np.ndarray:
    z, _ = model._forward(params, X, keep=False)
    return model.output_activation.forward(z)


def learning_rate_of(state: Any) -> float | None:
    """The learning rate an optimizer state exposes (a field ``lr``/``learning_rate``, possibly in a
    ``hyperparams`` mapping, in any nested state), or ``None``.

    The presets' states expose the rate of their latest update. In a chain the last transformation
    that exposes one wins (e.g. a plateau reduction placed after an optimizer).
    """
    path = _find_lr(state, ())
    return None if path is None else _read(state, path)


class _LearningRatePath:
    """Finds where the state keeps its learning rate once, then reads it cheaply each step."""

    def __init__(self) -> None:
        self.path: tuple[Any, ...] | None = None
        self.searched = False

    def read(self, state: Any) -> float | None:
        if not self.searched:
            self.path = _find_lr(state, ())
            self.searched = True
        return None if self.path is None else _read(state, self.path)


_LR_NAMES = ("lr", "learning_rate")


def _find_lr(node: Any, path: tuple[Any, ...]) -> tuple[Any, ...] | None:
    if isinstance(node, tuple) and hasattr(node, "_fields"):
        for name in reversed(node._fields):
            child = getattr(node, name)
            if name in _LR_NAMES and np.ndim(child) == 0 and _is_number(child):
                return (*path, name)
            if name == "hyperparams" and isinstance(child, Mapping):
                for key in _LR_NAMES:
                    if key in child and _is_number(child[key]):
                        return (*path, name, key)
            found = _find_lr(child, (*path, name))
            if found is not None:
                return found
        return None
    if isinstance(node, (tuple, list)):
        for i, child in reversed(list(enumerate(node))):
            found = _find_lr(child, (*path, i))
            if found is not None:
                return found
    return None


def _is_number(x: Any) -> bool:
    try:
        float(x)
    except (TypeError, ValueError):
        return False
    return np.ndim(x) == 0


def _read(state: Any, path: tuple[Any, ...]) -> float | None:
    node = state
    try:
        for key in path:
            node = node[key] if isinstance(key, int) or isinstance(node, Mapping) else getattr(node, key)
        return float(node)
    except (AttributeError, IndexError, KeyError, TypeError, ValueError):
        return None
