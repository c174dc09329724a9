import os
import shutil
from pathlib import Path

import pytest

from tests.live_server import ROOT

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
]
# Where screenshots go: SCREENSHOT_DIR, or a folder of this pytest run's temporary directory.
SCREENSHOT_DIR = "SCREENSHOT_DIR"
# Lines for the end of the run's report (the screenshot folder, measurements).
REPORT: list[str] = []


def kiosk_browser_flags() -> list[str]:
    """The flags the kiosk's own browser unit starts Chromium with that change how a page
    behaves (the autoplay policy), so the tests see what a kiosk sees."""
    unit = (ROOT / "deploy" / "systemd" / "toolcrib-kiosk-browser.service").read_text()
    (exec_start,) = [line for line in unit.splitlines() if line.startswith("ExecStart=")]
    return [flag for flag in exec_start.split() if flag.startswith("--autoplay-policy=")]


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM):
        pytest.skip("needs Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; Django's ORM must not care.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *kiosk_browser_flags()]
        )
        yield browser
        browser.close()


# The pages' Content-Security-Policy refuses eval: give page.wait_for_function a function
# ("() => ..."), never a bare expression, which Playwright evals inside the page while it polls.


def pair(page, link: str) -> None:
    """What the person setting up a kiosk does: open the pairing link, tap the button."""
    page.goto(link)
    page.click("#pair button")
    page.wait_for_url("**/kiosk/")


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory) -> Path:
    chosen = os.environ.get(SCREENSHOT_DIR)
    folder = Path(chosen) if chosen else tmp_path_factory.mktemp("screenshots", numbered=False)
    folder.mkdir(parents=True, exist_ok=True)
    REPORT.append(f"screenshots: {folder}")
    return folder


@pytest.fixture
def screenshot(screenshot_dir):
    def shoot(page, name):
        page.screenshot(path=str(screenshot_dir / f"{name}.png"))

    return shoot


def pytest_terminal_summary(terminalreporter):
    for line in REPORT:
        terminalreporter.write_line(line)
