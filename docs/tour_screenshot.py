"""Regenerate ``docs/tour.png``, the README's picture of the report.

    PYTHONPATH=src python docs/tour_screenshot.py [--full]

Runs the tour (``--quick`` unless ``--full``) into a temporary directory and photographs the top of
the page with Debian's headless Chromium (``/usr/bin/chromium``, ``/usr/bin/chromedriver``).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import losslab as ll

OUT = Path(__file__).resolve().parent / "tour.png"


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
            "--no-first-run", f"--user-data-dir={tmp}/profile", "--window-size=1200,1500",
            "--hide-scrollbars",
        ):  # fmt: skip
            options.add_argument(flag)
        driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        try:
            driver.get(page.resolve().as_uri())
            driver.save_screenshot(str(OUT))
        finally:
            driver.quit()
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main(sys.argv[1:])
