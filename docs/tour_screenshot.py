"""Regenerate ``docs/tour.png``, the README's picture of the report.

    PYTHONPATH=src python docs/tour_screenshot.py [--full]

Runs the tour (``--quick`` unless ``--full``) into a temporary directory and photographs it with
Debian's headless Chromium (``/usr/bin/chromium``, ``/usr/bin/chromedriver``): the top of the page
(contents and the summary of verdicts) above the first experiment's section with its figures.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import losslab as ll

OUT = Path(__file__).resolve().parent / "tour.png"
WIDTH, HEIGHT = 1200, 1100  # the browser window; each of the two views is one window high
SCALE = 0.75  # the stitched picture is scaled down to keep the file small


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
            top = driver.get_screenshot_as_png()
            driver.execute_script("document.querySelector('section.experiment').scrollIntoView();")
            section = driver.get_screenshot_as_png()
        finally:
            driver.quit()
    _stitch([top, section])
    print(f"wrote {OUT}")


def _stitch(shots: list[bytes]) -> None:
    """The views one above the other, scaled by :data:`SCALE`, written to :data:`OUT`."""
    import io

    from PIL import Image

    views = [Image.open(io.BytesIO(png)).convert("RGB") for png in shots]
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
