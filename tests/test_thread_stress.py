"""Eight threads of mixed loss, gradient and optimizer calls on 10^6-element arrays, some of them
inside ``ll.config(validate=False)``: every result equals, bit for bit, a single-threaded reference,
and the validated threads keep refusing bad input while the others run unchecked."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

import losslab as ll

N = 1_000_000
ROUNDS = 1


def _inputs() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "pred": rng.standard_normal(N),
        "target": rng.standard_normal(N),
        "logits": 3.0 * rng.standard_normal(N),
        "labels": (rng.random(N) > 0.5).astype(np.float64),
        "grad": rng.standard_normal(N),
    }


def _adam_step(x: dict[str, np.ndarray]) -> tuple[np.ndarray, ...]:
    opt = ll.optim.adam(lr=1e-2)
    params = {"w": x["pred"]}
    state = opt.init(params)
    for _ in range(2):
        params, state = ll.optim.step(opt, {"w": x["grad"]}, state, params)
    return params["w"], state.mu["w"], state.nu["w"]


def _momentum_update(x: dict[str, np.ndarray]) -> tuple[np.ndarray, ...]:
    opt = ll.optim.momentum(lr=1e-2, beta=0.9)
    state = opt.init(x["pred"])
    updates, state = opt.update(x["grad"], state, x["pred"])
    updates, state = opt.update(x["grad"], state, x["pred"])
    return (updates,)


TASKS: dict[str, Any] = {
    "mse": lambda x: ll.losses.mse.value_and_grad(x["pred"], x["target"]),
    "huber-sum": lambda x: ll.losses.huber.value_and_grad(x["pred"], x["target"], reduction="sum", delta=0.5),
    "bce-logits": lambda x: ll.losses.binary_cross_entropy.value_and_grad(
        x["logits"], x["labels"], from_logits=True
    ),
    "log_cosh": lambda x: (ll.losses.log_cosh(x["pred"], x["target"]),),
    "adam": _adam_step,
    "momentum": _momentum_update,
}


def _flat(result: Any) -> list[np.ndarray]:
    if isinstance(result, (tuple, list)):
        return [a for r in result for a in _flat(r)]
    return [np.asarray(result)]


def test_eight_threads_match_the_single_threaded_reference_bitwise():
    x = _inputs()
    reference = {name: _flat(task(x)) for name, task in TASKS.items()}
    failures: list[str] = []
    refused: list[bool] = []
    barrier = threading.Barrier(8)

    def worker(i: int) -> None:
        try:
            barrier.wait()
            names = list(TASKS)
            unchecked = i % 2 == 1
            for r in range(ROUNDS):
                for name in names[i % len(names) :] + names[: i % len(names)]:
                    if unchecked:
                        with ll.config(validate=False):
                            got = _flat(TASKS[name](x))
                    else:
                        got = _flat(TASKS[name](x))
                    for a, b in zip(got, reference[name], strict=True):
                        if a.tobytes() != b.tobytes():
                            failures.append(f"thread {i}, round {r}: {name} differs from the reference")
                if not unchecked:  # validation stays on here while odd threads run unchecked
                    try:
                        ll.losses.mse(np.array([np.nan]), np.array([1.0]))
                        refused.append(False)
                    except ValueError:
                        refused.append(True)
        except Exception as err:  # pragma: no cover - reported below
            failures.append(f"thread {i}: {type(err).__name__}: {err}")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert refused == [True] * (4 * ROUNDS)
    # (and nothing leaked out of the unchecked blocks)
    assert ll.get_config().validate is True
