"""Sphinx configuration of the losslab documentation (``sphinx-build -W docs docs/_build``).

Markdown pages (MyST) under ``docs/`` join the site through the glob toctree of ``index.md``;
the API reference is generated from the docstrings (autodoc, NumPy/Google sections through
napoleon, math through MathJax).
"""

from __future__ import annotations

import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import losslab  # noqa: E402

project = "losslab"
author = "losslab developers"
copyright = "losslab developers"  # noqa: A001
release = version = losslab.__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.napoleon",
]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build", "**/_build"]
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3
# (the catalog's table links to its own sections by these anchors: #huber)

autodoc_default_options = {"members": True, "undoc-members": False, "show-inheritance": False}
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autosummary_generate = False
napoleon_numpy_docstring = True
napoleon_google_docstring = False

html_theme = "alabaster"
html_title = f"losslab {release}"
