"""Regenerate ``docs/tour.png``, the README's picture of the report.

    PYTHONPATH=src python docs/tour_screenshot.py [--full]

Runs the tour (``--quick`` unless ``--full``) into a temporary directory and photographs it with
Debian's headless Chromium (``/usr/bin/chromium``, ``/usr/bin/chromedriver``): the top of the page
(contents), the first rows of the summary of verdicts, and the first experiment's section with
its figures.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import losslab as ll

OUT = Path(__file__).resolve().parent / "tour.png"
WIDTH, HEIGHT = 1200, 1100  # the browser window; each of the two views is one window high
SCALE = 0.75  # the stitched picture is scaled down to keep the file small
ROWS = 6  # rows of the summary of verdicts shown


def main(argv: list[str]) -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    with tempfile.TemporaryDirectory() as tmp:
        page = ll.report.write_tour(Path(tmp) / "report", quick="--full" not in argv)
        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        for flag in (
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--no-first-run", f"--user-data-dir={tmp}/profile", f"--window-size={WIDTH},{HEIGHT}",
            "--hide-scrollbars",
        ):  # fmt: skip
            options.add_argument(flag)
        driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        try:
            driver.get(page.resolve().as_uri())
            # the top of the page down to the summary table, cut above the table
            table_top = driver.execute_script(
                "return document.querySelector('table').getBoundingClientRect().top;"
            )
            top = (driver.get_screenshot_as_png(), 0, min(int(table_top), HEIGHT))
            # the table's header and first rows, cut below a whole row
            cut = driver.execute_script(
                "const t = document.querySelector('table'); t.scrollIntoView();"
                "const rows = [...t.querySelectorAll('tr')].slice(0, ROWS + 1);"
                "return [t.getBoundingClientRect().top, rows[rows.length - 1].getBoundingClientRect().bottom];".replace(
                    "ROWS", str(ROWS)
                )
            )
            table = (driver.get_screenshot_as_png(), int(cut[0]), int(cut[1]) + 1)
            driver.execute_script("document.querySelector('section.experiment').scrollIntoView();")
            section = (driver.get_screenshot_as_png(), 0, HEIGHT)
        finally:
            driver.quit()
    _stitch([top, table, section])
    print(f"wrote {OUT}")


def _stitch(shots: list[tuple[bytes, int, int]]) -> None:
    """The views ``(png, top, bottom)``, each cut to its rows ``[top, bottom)``, one above the
    other, scaled by :data:`SCALE`, written to :data:`OUT`."""
    import io

    from PIL import Image

    views = []
    for png, top, bottom in shots:
        view = Image.open(io.BytesIO(png)).convert("RGB")
        views.append(view.crop((0, top, view.width, min(bottom, view.height))))
    width = max(v.width for v in views)
    picture = Image.new("RGB", (width, sum(v.height for v in views)), "white")
    y = 0
    for v in views:
        picture.paste(v, (0, y))
        y += v.height
    size = (round(picture.width * SCALE), round(picture.height * SCALE))
    picture.resize(size, Image.LANCZOS).save(OUT, optimize=True)


if __name__ == "__main__":
    main(sys.argv[1:])
