"""The tour: every experiment run, its verdict and numbers on one self-contained HTML page.

>>> import tempfile, pathlib, losslab as ll
>>> with tempfile.TemporaryDirectory() as tmp:
...     page = ll.report.write_tour(pathlib.Path(tmp) / "report", ["loss-zoo"], quick=True)
...     text = page.read_text(encoding="utf-8")
>>> page.name, 'id="exp-loss-zoo"' in text, "https://" in text
('index.html', True, False)

The page (``render``) has a contents list, a summary table of the verdicts, one section per
experiment (the quoted claim with its source, the set-up, the verdict badge with the numbers that
decided it, the figures as PNG data URIs, the tables), the curriculum errata and the loss catalog
as appendices, and a footer with the versions, the seed and the run time. Formulas are written
in Unicode and HTML (``latex_to_html``): nothing is fetched from a network.
"""

from losslab.report._markdown import markdown_to_html
from losslab.report._math import latex_to_html
from losslab.report._page import render
from losslab.report.tour import Entry, Tour, run_tour, write_tour

__all__ = ["Entry", "Tour", "latex_to_html", "markdown_to_html", "render", "run_tour", "write_tour"]
