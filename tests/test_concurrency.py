"""Context-local configuration, a thread-safe buffer pool, fork safety and deterministic reductions.

Regression tests for the concurrency audit: ``ll.config`` blocks in one thread never switch
validation off in another and nest in any interleaving; the recycled-buffer pool survives many
threads; a child forked after the parent ran compiled passes runs them too; and every blocked or
compiled loss gives bitwise the same value on identical calls, as seeded training does across
processes.
"""

from __future__ import annotations

import asyncio
import math
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import losslab as ll
from losslab._core import buffers
from losslab.losses._spec import ClassAxisLoss, ElementwiseLoss

SRC = str(Path(__file__).resolve().parents[1] / "src")


def _run_python(code: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )


# --------------------------------------------------------------------------- config


def test_config_block_in_one_thread_leaves_other_threads_validated():
    """Issue item 1: while one thread is inside ``ll.config(validate=False)`` another still raises."""
    inside, checked = threading.Event(), threading.Event()
    seen = {}

    def unchecked():
        with ll.config(validate=False):
            seen["inner"] = ll.get_config().validate
            inside.set()
            checked.wait(10)

    t = threading.Thread(target=unchecked)
    t.start()
    assert inside.wait(10)
    try:
        with pytest.raises(ValueError, match="binary_cross_entropy: y_pred must hold probabilities"):
            ll.losses.binary_cross_entropy([1.5], [1.0])
        assert ll.get_config().validate is True
    finally:
        checked.set()
        t.join()
    assert seen["inner"] is False


def test_interleaved_blocks_in_two_threads_restore_validation():
    """Issue item 1: A enters, B enters, A exits, B exits -- validation is on everywhere after."""
    steps = [threading.Event() for _ in range(4)]
    after = {}

    def a():
        with ll.config(validate=False):
            steps[0].set()
            steps[1].wait(10)
        after["a"] = ll.get_config().validate
        steps[2].set()

    def b():
        steps[0].wait(10)
        with ll.config(validate=False):
            steps[1].set()
            steps[2].wait(10)
        after["b"] = ll.get_config().validate
        steps[3].set()

    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert after == {"a": True, "b": True}
    assert ll.get_config().validate is True
    with pytest.raises(ValueError, match="mse: y_pred contains NaN"):
        ll.losses.mse([math.nan], [1.0])


def test_config_blocks_nest_and_restore():
    base = ll.get_config()
    with ll.config(validate=False):
        with ll.config(block_size=1024):
            assert (ll.get_config().validate, ll.get_config().block_size) == (False, 1024)
        assert (ll.get_config().validate, ll.get_config().block_size) == (False, base.block_size)
    assert ll.get_config() == base


def test_config_is_local_to_asyncio_tasks():
    async def task(validate: bool, results: dict[str, bool], key: str) -> None:
        with ll.config(validate=validate):
            await asyncio.sleep(0.01)  # the other task runs meanwhile
            results[key] = ll.get_config().validate

    async def main() -> dict[str, bool]:
        results: dict[str, bool] = {}
        await asyncio.gather(task(False, results, "off"), task(True, results, "on"))
        return results

    assert asyncio.run(main()) == {"off": False, "on": True}
    assert ll.get_config().validate is True


def test_config_errors_name_the_setting():
    with pytest.raises(TypeError, match=r"config: validate must be True or False, got validate=1"):
        ll.config(validate=1)
    with pytest.raises(ValueError, match="config: block_size must be an int >= 256, got True"):
        ll.config(block_size=True)
    with pytest.raises(TypeError, match=r"config: unknown setting\(s\) \['speed'\]"):
        ll.config(speed=2)
    assert ll.get_config().validate is True


# --------------------------------------------------------------------------- buffer pool


class _YieldingSys:
    """``sys`` for the buffer module, with a ``getrefcount`` that first hands the GIL to another
    thread: a thread switch in the middle of every pool scan, where a race would show."""

    def __getattr__(self, name):
        return getattr(sys, name)

    @staticmethod
    def _raw(x):
        time.sleep(0)
        return sys.getrefcount(x)

    def getrefcount(self, x):
        return self._raw(x) - self.offset


def test_buffer_pool_is_thread_safe(monkeypatch):
    """Issue item 11: concurrent requests, with a thread switch inside every scan of the pool,
    never corrupt the free list (``IndexError``) nor hand one array to two callers at once."""
    shim = _YieldingSys()
    probe = object()
    shim.offset = 0
    shim.offset = shim.getrefcount(probe) - sys.getrefcount(probe)  # the shim's own references
    monkeypatch.setattr(buffers, "sys", shim)
    n = buffers.POOL_MIN_SIZE
    errors: list[BaseException] = []

    def worker(tid: int) -> None:
        try:
            for k in range(150):
                a = buffers.empty(n + k % 7, np.float64)
                a[0] = a[-1] = tid
                b = buffers.empty(n + (k + tid) % 5, np.float32)
                b[0] = -tid
                if a[0] != tid or a[-1] != tid:
                    raise AssertionError("a buffer was handed to two callers")
                del a, b
        except BaseException as err:  # (collected: an exception in a thread is not a failure)
            errors.append(err)

    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=worker, args=(i,)) for i in range(1, 5)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(previous)
        buffers.release_buffers()
    assert errors == []


# --------------------------------------------------------------------------- fork


def test_forked_child_runs_compiled_loss_and_adam_step():
    """Issue item 4: after the parent ran compiled (multi-threaded) passes, a forked child runs
    them too and gets the parent's results."""
    result = _run_python(
        """
        import os
        import numpy as np
        import losslab as ll
        rng = np.random.default_rng(0)
        x = rng.standard_normal(1 << 20)
        y = (x > 0).astype(float)
        w = rng.standard_normal(1 << 18)
        opt = ll.optim.adam(lr=0.1)
        state = opt.init(w)

        def work():
            value, grad = ll.losses.binary_cross_entropy.value_and_grad(x, y, from_logits=True)
            new, _ = ll.optim.step(opt, w, state, w)
            return float(value), grad.copy(), new

        ref = work()
        pid = os.fork()
        if pid == 0:
            got = work()
            ok = got[0] == ref[0] and np.array_equal(got[1], ref[1]) and np.array_equal(got[2], ref[2])
            os._exit(0 if ok else 3)
        _, status = os.waitpid(pid, 0)
        print("child", os.waitstatus_to_exitcode(status))
        """
    )
    assert result.returncode == 0, result.stderr
    assert "child 0" in result.stdout, result.stdout + result.stderr


# --------------------------------------------------------------------------- determinism


def _blocked_cases() -> list[tuple[str, dict]]:
    cases = []
    for name in ll.losses.names():
        loss = ll.losses.get(name)
        if isinstance(loss, ElementwiseLoss):
            cases.append((name, {}))
        elif isinstance(loss, ClassAxisLoss):
            cases.append((name, {"from_logits": True} if "from_logits" in loss.params else {}))
    cases.append(("binary_cross_entropy", {"from_logits": True}))
    return cases


def _big_inputs(loss, rng):
    if isinstance(loss, ElementwiseLoss):
        shape = (1 << 20,)
        return loss.y_pred_domain.sample(rng, shape), loss.y_true_domain.sample(rng, shape)
    rows, classes = 1 << 15, 8
    logits = rng.standard_normal((rows, classes))
    if loss.targets == "labels":
        return logits, rng.integers(0, classes, rows)
    p = np.exp(logits)
    p /= p.sum(-1, keepdims=True)
    if loss.name in ("kl_divergence", "js_divergence"):  # probabilities in, probabilities as targets
        q = np.exp(rng.standard_normal((rows, classes)))
        return q / q.sum(-1, keepdims=True), p
    return logits, p


@pytest.mark.parametrize(
    ("name", "params"), _blocked_cases(), ids=lambda v: v if isinstance(v, str) else ",".join(v) or "-"
)
def test_twenty_identical_calls_give_bitwise_identical_values(name, params):
    """Issue item 13: the threaded, blocked and compiled reductions sum in a fixed order."""
    loss = ll.losses.get(name)
    rng = np.random.default_rng(1)
    if name == "binary_cross_entropy" and params.get("from_logits"):
        y_pred = rng.standard_normal(1 << 21)  # 16 chunks of the threaded compiled pass
        y_true = (rng.random(1 << 21) < 0.5).astype(float)
    else:
        y_pred, y_true = _big_inputs(loss, rng)
    first, grad = loss.value_and_grad(y_pred, y_true, **params)
    grad = grad.copy()
    for _ in range(19):
        value, again = loss.value_and_grad(y_pred, y_true, **params)
        assert float(value).hex() == float(first).hex()
    np.testing.assert_array_equal(again, grad, strict=True)


def test_seeded_fit_gives_bitwise_identical_histories_across_processes():
    code = """
        import numpy as np
        import losslab as ll
        rng = np.random.default_rng(0)
        X = rng.standard_normal((1 << 17, 2))  # big enough for the compiled pass
        y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(float)
        h = ll.train.fit(ll.models.Logistic(2), X, y, loss="binary_cross_entropy",
                         optimizer=ll.optim.adam(lr=0.1), epochs=3, batch_size=None, seed=3,
                         progress=False)
        print(" ".join(float(v).hex() for v in h.steps["loss"] + h.epochs["loss"]))
        print(" ".join(float(v).hex() for v in np.concatenate([h.params["W"].ravel(), h.params["b"]])))
    """
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(code)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    for p, (_, err) in zip(procs, outs):
        assert p.returncode == 0, err
    assert outs[0][0] == outs[1][0]
    assert len(outs[0][0].split()) == 3 + 3 + 3
