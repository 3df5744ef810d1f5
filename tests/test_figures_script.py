"""docs/figures/make_figures.py writes the README's figures (and the committed ones are there)."""

from __future__ import annotations

import importlib.util
import pathlib

from PIL import Image

SCRIPT = pathlib.Path(__file__).resolve().parents[1] / "docs" / "figures" / "make_figures.py"
NAMES = ["loss_curves.png", "optimizer_paths.png", "focal_effect.png"]


def test_the_script_writes_every_readme_figure(tmp_path):
    spec = importlib.util.spec_from_file_location("make_figures", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    written = module.make_figures(tmp_path, dpi=30)
    assert [p.name for p in written] == NAMES
    for name in NAMES:
        with Image.open(tmp_path / name) as im:
            assert im.format == "PNG" and min(im.size) > 100
        with Image.open(SCRIPT.parent / name) as committed:  # the README shows these
            assert committed.format == "PNG" and min(committed.size) > 400
