"""The Sphinx site builds with warnings as errors, and holds the pages it promises."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def test_docs_site_builds_without_warnings(tmp_path):
    out = tmp_path / "html"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-j", "1", "-q", "-b", "html",
         "-d", str(tmp_path / "doctrees"), str(DOCS), str(out)],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-4000:]
    # every Markdown page under docs/ joins the site (the glob toctree)
    for page in DOCS.rglob("*.md"):
        rel = page.relative_to(DOCS).with_suffix(".html")
        assert (out / rel).is_file(), rel
    getting_started = (out / "getting-started.html").read_text(encoding="utf-8")
    assert "Set-up: two commands" in getting_started and "Worked computations" in getting_started  # README
    catalog = (out / "losses.html").read_text(encoding="utf-8")
    assert "The losslab loss catalog" in catalog and "bce_with_logits" in catalog
    optim = (out / "api" / "optim.html").read_text(encoding="utf-8")
    assert 'id="losslab.optim.adam"' in optim and "torch.optim.Adam(params," in optim and "Card (" in optim
    losses = (out / "api" / "losses.html").read_text(encoding="utf-8")
    assert 'id="losslab.losses.get"' in losses and 'id="losslab.losses.Loss.bind"' in losses
    assert "math notranslate" in optim  # the docstrings' math renders
