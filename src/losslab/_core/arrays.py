"""Array namespace and dtype policy shared by every layer.

NumPy arrays and anything ``np.asarray`` takes are computed with NumPy. Array-API arrays
(PyTorch tensors, JAX arrays, ...) are computed in their own namespace and returned as such, so
autograd frameworks can differentiate through losslab's forward formulas.

Dtype policy: floating inputs keep their dtype (float32 stays float32); integers and booleans
become the floating dtype of the other inputs, or float64 when none is floating.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "as_float",
    "as_floats",
    "align_inputs",
    "as_int",
    "array_namespace",
    "is_numpy_namespace",
    "is_tracer",
    "result_float_dtype",
    "to_numpy",
]


def _is_foreign_array(x: Any) -> bool:
    """True for array-API arrays that are not NumPy arrays (torch, jax, cupy, ...)."""
    if isinstance(x, (np.ndarray, np.generic, list, tuple, int, float, complex, bool)) or x is None:
        return False
    return hasattr(x, "__array_namespace__") or type(x).__module__.split(".")[0] in {
        "torch",
        "jax",
        "jaxlib",
        "cupy",
    }


def is_tracer(x: Any) -> bool:
    """Whether ``x`` is a JAX tracer (an abstract value inside ``jax.jit``/``jax.grad``), whose
    values cannot be read: value checks are skipped for it, shape checks kept."""
    if not type(x).__module__.startswith("jax"):
        return False
    import jax

    return isinstance(x, jax.core.Tracer)


def array_namespace(*arrays: Any) -> ModuleType:
    """The namespace to compute in: NumPy unless an argument is a foreign array-API array."""
    foreign = [a for a in arrays if _is_foreign_array(a)]
    if not foreign:
        return np
    import array_api_compat

    return array_api_compat.array_namespace(*foreign)


def _framework(x: Any) -> str:
    """A short name of the array's library, for messages ("a torch tensor", "a NumPy array")."""
    if not _is_foreign_array(x):
        return "a NumPy array" if isinstance(x, (np.ndarray, np.generic)) else f"a {type(x).__name__}"
    top = type(x).__module__.split(".")[0]
    return {"torch": "a torch tensor", "jax": "a JAX array", "jaxlib": "a JAX array"}.get(
        top, f"a {top} array"
    )


def align_inputs(
    where: str, named: dict[str, Any], differentiable: tuple[str, ...] | set[str]
) -> tuple[ModuleType, dict[str, Any]]:
    """The namespace of a call's arrays, with the non-differentiable NumPy inputs moved into it.

    When one input is a framework tensor (PyTorch, JAX, ...), the targets, labels and weights
    given as NumPy arrays, lists or numbers are converted to that framework, on the tensor's
    device (floating targets in the tensor's floating dtype, integer labels kept integer), so
    ``loss(logits_tensor, numpy_labels)`` works. A differentiable input that is not in the
    framework, or inputs from two frameworks, raise ``TypeError`` naming both arguments.
    ``None`` entries are left as they are.
    """
    foreign = {k: v for k, v in named.items() if v is not None and _is_foreign_array(v)}
    if not foreign:
        return np, named
    import array_api_compat

    ref_name = next((k for k in foreign if k in differentiable), next(iter(foreign)))
    ref = foreign[ref_name]
    xp = array_api_compat.array_namespace(ref)
    for k, v in foreign.items():
        try:
            array_api_compat.array_namespace(ref, v)
        except TypeError:
            raise TypeError(
                f"{where}: {ref_name} is {_framework(ref)} but {k} is {_framework(v)}; "
                "pass the arrays of one call in one framework"
            ) from None
    out = dict(named)
    device = array_api_compat.device(ref) if not is_tracer(ref) else None
    ref_float = _is_floating(xp, ref.dtype)
    for k, v in named.items():
        if v is None or k in foreign:
            continue
        if k in differentiable:
            raise TypeError(
                f"{where}: {ref_name} is {_framework(ref)} but {k} is {_framework(v)}; "
                f"the differentiable inputs ({', '.join(differentiable)}) must all be in one framework "
                f"(convert {k}, e.g. torch.as_tensor({k}))"
            )
        arr = np.asarray(v)
        if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
            continue  # left for the loss's own type check (its message names the argument)
        if np.issubdtype(arr.dtype, np.floating) and ref_float:
            converted = xp.asarray(arr)
            converted = xp.astype(converted, ref.dtype) if converted.dtype != ref.dtype else converted
        else:
            converted = xp.asarray(arr)
        if device is not None and array_api_compat.device(converted) != device:
            converted = array_api_compat.to_device(converted, device)
        out[k] = converted
    return xp, out


def is_numpy_namespace(xp: ModuleType) -> bool:
    """Whether ``xp`` computes with NumPy (plain or wrapped by array-api-compat)."""
    # (exact names: ``jax.numpy`` also ends with "numpy" and must not be converted to NumPy)
    return xp is np or getattr(xp, "__name__", "") in ("numpy", "array_api_compat.numpy")


def _is_floating(xp: ModuleType, dtype: Any) -> bool:
    if is_numpy_namespace(xp):
        return bool(np.issubdtype(np.dtype(dtype), np.floating))
    return bool(xp.isdtype(dtype, "real floating"))


def result_float_dtype(xp: ModuleType, *arrays: Any) -> Any:
    """The floating dtype the computation runs in (see the module's dtype policy)."""
    floats = [a.dtype for a in arrays if a is not None and _is_floating(xp, a.dtype)]
    if not floats:
        return xp.float64
    return floats[0] if len(floats) == 1 else xp.result_type(*floats)


def as_float(xp: ModuleType, x: Any, name: str, where: str, dtype: Any = None) -> Any:
    """``x`` as a floating array of ``xp`` (NumPy: ``np.asarray``), clear errors otherwise."""
    if is_numpy_namespace(xp):
        try:
            arr = np.asarray(x)
        except (TypeError, ValueError) as err:
            raise TypeError(f"{where}: {name} must be array-like of numbers, got {type(x).__name__}") from err
        if arr.dtype == object or not (
            np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.bool_)
        ):
            raise TypeError(f"{where}: {name} must contain real numbers, got dtype {arr.dtype}")
        if np.issubdtype(arr.dtype, np.complexfloating):
            raise TypeError(f"{where}: {name} must be real, got dtype {arr.dtype}")
        target = (
            dtype
            if dtype is not None
            else (arr.dtype if np.issubdtype(arr.dtype, np.floating) else np.float64)
        )
        return arr if arr.dtype == target else arr.astype(target)
    if not hasattr(x, "dtype"):
        x = xp.asarray(x)
    target = dtype if dtype is not None else (x.dtype if _is_floating(xp, x.dtype) else xp.float64)
    return x if x.dtype == target else xp.astype(x, target)


def as_int(xp: ModuleType, x: Any, name: str, where: str) -> Any:
    """Integer class labels; floats holding whole numbers are accepted, others refused."""
    arr = np.asarray(x) if is_numpy_namespace(xp) else (x if hasattr(x, "dtype") else xp.asarray(x))
    dtype = arr.dtype
    if is_numpy_namespace(xp):
        if np.issubdtype(dtype, np.integer):
            return arr
        if (
            np.issubdtype(dtype, np.floating)
            and arr.size
            and np.all(np.isfinite(arr))
            and np.all(arr == np.round(arr))
        ):
            size = np.abs(arr)
            if float(size.max()) >= 2.0**63:  # the cast would wrap around
                raise ValueError(
                    f"{where}: {name} must hold class indices, got {float(arr.flat[size.argmax()])!r}"
                )
            return arr.astype(np.int64)
        if arr.size == 0 and np.issubdtype(dtype, np.floating):
            return arr.astype(np.int64)
        raise TypeError(f"{where}: {name} must hold integer class indices, got dtype {dtype}")
    if xp.isdtype(dtype, "integral"):
        return arr
    raise TypeError(f"{where}: {name} must hold integer class indices, got dtype {dtype}")


def to_numpy(x: Any) -> npt.NDArray[Any]:
    """A NumPy view or copy of any array (detached from autograd graphs)."""
    if isinstance(x, np.ndarray):
        return x
    if hasattr(x, "detach"):
        return np.asarray(x.detach().cpu().numpy())
    return np.asarray(x)


def as_floats(xp: ModuleType, where: str, **named: Any) -> tuple[Any, ...]:
    """Several inputs as floating arrays of one common dtype, each checked for NaN/inf.

    The dtype follows the module's policy (float32 stays float32; integers become float64).
    Finiteness is checked only while validation is on (``ll.config(validate=False)``).
    """
    from losslab._core.config import get_config

    raw = [
        np.asarray(v) if is_numpy_namespace(xp) else (v if hasattr(v, "dtype") else xp.asarray(v))
        for v in named.values()
    ]
    for name, arr in zip(named, raw):
        if is_numpy_namespace(xp) and (
            arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool)
        ):
            raise TypeError(f"{where}: {name} must contain real numbers, got dtype {arr.dtype}")
    dtype = result_float_dtype(xp, *raw)
    out = tuple(as_float(xp, arr, name, where, dtype=dtype) for name, arr in zip(named, raw))
    if get_config().validate:
        for name, arr in zip(named, out):
            if not bool(xp.all(xp.isfinite(arr))):
                kind = "NaN" if bool(xp.any(xp.isnan(arr))) else "infinite values"
                raise ValueError(f"{where}: {name} contains {kind}")
    return out
