"""A language chosen at the kiosk is for one person: the next one finds the server's again."""

import itertools

import pytest

from kiosk import demo
from tests.agent.live_kiosk import create_station
from tests.e2e.conftest import pair
from tests.e2e.test_kiosk_browser import post_tap
from tests.live_server import LiveServer

pytestmark = pytest.mark.browser

SESSION_SECONDS = 8
KIOSK_NUMBERS = itertools.count(1)


@pytest.fixture(scope="module")
def server():
    # A short session: an untouched screen goes back within the test's patience.
    with LiveServer("e2e_language", env={"KIOSK_SESSION_SECONDS": str(SESSION_SECONDS)}) as live:
        live.manage("seed_demo")
        yield live


@pytest.fixture
def kiosk(server, browser):
    """(page, tap) of a fresh station's screen, in the server's language (Japanese)."""
    station = create_station(server, f"Language {next(KIOSK_NUMBERS)}")
    context = browser.new_context(viewport={"width": 800, "height": 480}, locale="ja-JP")
    page = context.new_page()
    pair(page, server.url + station["pair_url"])
    page.wait_for_function("() => document.querySelector('#kiosk-offline').hidden === true")
    yield page, lambda uid: post_tap(server, station["token"], uid)
    context.close()


def switch_to_english(page):
    page.click("form.lang button")
    page.wait_for_selector("html[lang='en']")
    page.wait_for_function("() => document.querySelector('#kiosk-offline').hidden === true")


def test_english_chosen_in_a_session_is_japanese_again_when_that_session_ends(kiosk):
    page, tap = kiosk
    tap(demo.badge_uid(1))
    page.wait_for_selector("#kiosk-main.session")
    switch_to_english(page)
    page.wait_for_selector("#kiosk-main.session")

    page.click("#kiosk-actions .end")

    page.wait_for_selector("html[lang='ja']", timeout=8000)
    page.wait_for_selector("#kiosk-main.idle >> text=2回のタッチで工具を借りられます")


def test_the_next_persons_badge_finds_the_screen_in_japanese(kiosk):
    page, tap = kiosk
    tap(demo.badge_uid(1))
    page.wait_for_selector("#kiosk-main.session")
    switch_to_english(page)

    tap(demo.badge_uid(2))  # the next person in the queue, before the first one pressed Done

    page.wait_for_selector("html[lang='ja']", timeout=8000)
    page.wait_for_selector("#kiosk-main.session >> text=佐藤 花子")


def test_english_chosen_on_an_idle_screen_nobody_uses_goes_back_after_a_session_window(kiosk):
    page, _tap = kiosk
    switch_to_english(page)

    page.wait_for_selector("html[lang='ja']", timeout=(SESSION_SECONDS + 4) * 1000)
