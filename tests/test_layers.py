"""The layer order of DESIGN.md: a lower layer never imports a higher one."""

import ast
import pathlib

import pytest

LAYERS = [
    "_core", "losses", "optim", "models", "data", "train", "landscape", "explain", "viz",
    "experiments", "advise", "report", "cli",
]  # fmt: skip
SRC = pathlib.Path(__file__).resolve().parents[1] / "src" / "losslab"


def _imports(path: pathlib.Path) -> set[str]:
    """The losslab sub-packages a module imports (at any depth of the file)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "losslab" and len(parts) > 1 and parts[1] in LAYERS:
                found.add(parts[1])
    return found


MODULES = sorted(p for p in SRC.rglob("*.py") if p.relative_to(SRC).parts[0] in LAYERS)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_no_module_imports_a_higher_layer(path):
    layer = path.relative_to(SRC).parts[0]
    higher = {name for name in _imports(path) if LAYERS.index(name) > LAYERS.index(layer)}
    assert not higher, f"{path.relative_to(SRC)} (layer {layer}) imports higher layers {sorted(higher)}"


HEAVY = ("matplotlib", "scipy.stats", "torch", "jax", "selenium")


def test_import_losslab_loads_nothing_heavy():
    """``import losslab`` (and the subpackages' attribute access) stays light: PEP 562 lazy loading."""
    import os
    import subprocess
    import sys

    code = (
        "import sys, losslab as ll; before = set(sys.modules); ll.losses.huber; ll.optim.adam; "
        "ll.tree_ravel; ll.config; print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('matplotlib', 'torch', 'jax', 'selenium') or m.startswith('scipy.stats'))); "
        "print(sorted(m for m in before if m.startswith('losslab.')))"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC.parent), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    heavy, eager = out.stdout.splitlines()
    assert heavy == "[]", f"heavy modules loaded: {heavy}"
    assert eager == "[]", f"import losslab loaded submodules eagerly: {eager}"


def test_lazy_attributes_are_the_subpackages():
    import importlib

    import losslab as ll

    for name in ll._SUBPACKAGES:
        assert getattr(ll, name) is importlib.import_module(f"losslab.{name}")
        assert name in ll.__all__ and name in dir(ll)
    assert ll.tree_ravel is importlib.import_module("losslab._core.tree").tree_ravel
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        _ = ll.nope
