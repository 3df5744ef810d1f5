"""Shared foundations: array namespace and dtype policy, argument checks, settings, trees."""

from losslab._core.arrays import array_namespace, as_float, as_int, is_numpy_namespace, to_numpy
from losslab._core.config import Config, config, get_config
from losslab._core.tree import tree_flatten, tree_leaves, tree_map, tree_unflatten, tree_zeros_like
from losslab._core.validation import (
    check_choice,
    check_in_range,
    check_int,
    check_number,
    check_positive,
)

__all__ = [
    "Config",
    "array_namespace",
    "as_float",
    "as_int",
    "check_choice",
    "check_in_range",
    "check_int",
    "check_number",
    "check_positive",
    "config",
    "get_config",
    "is_numpy_namespace",
    "to_numpy",
    "tree_flatten",
    "tree_leaves",
    "tree_map",
    "tree_unflatten",
    "tree_zeros_like",
]
