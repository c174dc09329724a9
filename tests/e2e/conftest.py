import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
# Flags that keep Debian's chromium from reaching for the internet (there is none here).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--autoplay-policy=no-user-gesture-required",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM):
        pytest.skip("needs Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; Django's ORM must not care.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def pair(page, link: str) -> None:
    """What the person setting up a kiosk does: open the pairing link, tap the button."""
    page.goto(link)
    page.click("#pair button")
    page.wait_for_url("**/kiosk/")


@pytest.fixture
def screenshot():
    ARTIFACTS.mkdir(exist_ok=True)

    def shoot(page, name):
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"))

    return shoot
