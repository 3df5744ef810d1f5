"""docs/losses.md is generated from the registry; the committed file must be current."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import losslab as ll
from losslab.explain import catalog_markdown

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "losses.md"
REGENERATE = "PYTHONPATH=src python -m losslab.explain.catalog > docs/losses.md"


def test_committed_catalog_is_current():
    assert DOCS.exists(), f"docs/losses.md is missing; generate it with: {REGENERATE}"
    committed = DOCS.read_text(encoding="utf-8")
    assert committed == catalog_markdown(), (
        f"docs/losses.md is stale (the loss registry changed); regenerate it with: {REGENERATE}"
    )


def test_catalog_has_a_row_and_a_section_per_loss():
    text = catalog_markdown()
    table = [line for line in text.splitlines() if line.startswith("| [`")]
    assert len(table) == len(ll.losses.names())
    for name in ll.losses.names():
        info = ll.losses.get(name).info
        row = next(line for line in table if line.startswith(f"| [`{name}`](#{name}) |"))
        assert f"| {info.task} |" in row
        assert (info.torch or "-").replace("|", "\\|") in row
        assert f"### `{name}`" in text
        assert info.formula in text and info.gradient in text
    # No unescaped pipe from a formula may split a table row into extra cells.
    header_cells = text.splitlines()[
        [i for i, l in enumerate(text.splitlines()) if l.startswith("| name")][0]
    ]
    for row in table:
        assert row.replace("\\|", "").count("|") == header_cells.count("|")


def test_huber_section_lists_parameters_domains_and_equivalents():
    text = catalog_markdown()
    section = text.split("### `huber`")[1].split("### ")[0]
    assert "| `delta` | `1.0` | threshold between the quadratic and linear parts |" in section
    assert "- **`y_pred`:** finite real numbers" in section
    assert (
        "- **PyTorch:** `torch.nn.HuberLoss(delta=delta)`; **Keras:** `keras.losses.Huber(delta=delta)`"
        in section
    )
    assert "- **Use when:** Regression with some outliers" in section
    assert "- **Conventions:** huber(delta) == delta * smooth_l1(beta=delta)" in section
    assert "- **References:** Huber (1964)" in section


def test_module_entry_point_writes_the_catalog():
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    out = subprocess.run(
        [sys.executable, "-m", "losslab.explain.catalog"], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout == catalog_markdown()
