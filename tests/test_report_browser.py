"""A real browser renders the tour: Debian's headless Chromium driven by Selenium.

No console errors, every image decoded, every contents link landing on an element, and a
screenshot that is not blank. A missing browser or driver is a failure, never a skip: the page
is the project's main output, and CI installs both (``.ci/run``).
"""

import io
import shutil
from pathlib import Path

import pytest

import losslab as ll

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FEW = ["loss-zoo", "robust-regression", "ce-vs-mse"]


def _binary(path, name):
    found = path if Path(path).is_file() else shutil.which(name)
    if not found:
        pytest.fail(f"{name} not found at {path} or on PATH: install Debian's chromium and chromium-driver")
    return found


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.fail("selenium is not installed: pip install -e '.[test]'")
    options = webdriver.ChromeOptions()
    options.binary_location = _binary(CHROMIUM, "chromium")
    profile = tmp_path_factory.mktemp("chromium-profile")
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--window-size=1280,1600",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(_binary(CHROMEDRIVER, "chromedriver")), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def loaded(browser, tmp_path_factory):
    page = ll.report.write_tour(tmp_path_factory.mktemp("tour") / "report", FEW, quick=True)
    browser.get(page.resolve().as_uri())
    browser.execute_script("return document.readyState")
    return browser, page


def test_no_console_errors(loaded):
    browser, _ = loaded
    severe = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert severe == []


def test_every_image_loaded(loaded):
    browser, _ = loaded
    images = browser.execute_script(
        "return Array.from(document.images).map(i => [i.alt, i.complete, i.naturalWidth, i.naturalHeight]);"
    )
    for alt, complete, width, height in images:
        assert complete and width > 0 and height > 0, f"image {alt!r} did not load"


def test_every_contents_link_resolves(loaded):
    browser, _ = loaded
    targets = browser.execute_script(
        "return Array.from(document.querySelectorAll('nav#contents a, #summary a'))"
        ".map(a => [a.getAttribute('href'), !!document.getElementById(a.getAttribute('href').slice(1))]);"
    )
    assert len(targets) >= len(FEW) + 3  # experiments, summary, the two appendices
    missing = [href for href, found in targets if not found]
    assert missing == []
    assert all(href.startswith("#") for href, _ in targets)


def test_sections_and_badges_render(loaded):
    browser, _ = loaded
    sections = browser.execute_script(
        "return Array.from(document.querySelectorAll('section.experiment')).map(s => s.id);"
    )
    assert sections == [f"exp-{name}" for name in FEW]
    badge = browser.execute_script(
        "const b = document.querySelector('section.experiment .badge');"
        "const r = b.getBoundingClientRect(); return [r.width, r.height, getComputedStyle(b).backgroundColor];"
    )
    assert badge[0] > 20 and badge[1] > 10 and badge[2] not in ("rgba(0, 0, 0, 0)", "transparent")


def test_screenshot_is_not_blank(loaded, tmp_path):
    from PIL import Image, ImageStat

    browser, _ = loaded
    browser.execute_script("window.scrollTo(0, 0);")
    png = browser.get_screenshot_as_png()
    image = Image.open(io.BytesIO(png)).convert("L")
    assert image.width >= 800 and image.height >= 600
    assert ImageStat.Stat(image).var[0] > 100  # text, tables and the header, not one flat colour
    low, high = image.getextrema()
    assert high - low > 128
