"""The kiosk is heard: a tap's result plays a tone, in a browser started the way the kiosk's unit
starts it, and in one started without its autoplay flag once someone has touched the screen."""

import pytest

from kiosk import demo
from tests.agent.live_kiosk import create_station
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, pair
from tests.e2e.test_kiosk_browser import post_tap
from tests.live_server import LiveServer

pytestmark = pytest.mark.browser

TONES = "Number(document.querySelector('#kiosk').dataset.tones || 0)"


@pytest.fixture(scope="module")
def server():
    with LiveServer("e2e_sound") as live:
        live.manage("seed_demo")
        yield live


def open_kiosk(server, browser, name):
    station = create_station(server, name)
    page = browser.new_page(viewport={"width": 800, "height": 480})
    pair(page, server.url + station["pair_url"])
    page.wait_for_function("() => document.querySelector('#kiosk-offline').hidden === true")
    return page, station["token"]


def test_a_kiosk_browser_started_as_its_unit_says_plays_a_tone_for_a_tap_untouched(server, browser):
    page, token = open_kiosk(server, browser, "Sound")

    page.wait_for_selector("#kiosk[data-audio='running']", timeout=10000)
    assert page.locator(".sound-off").is_hidden()
    post_tap(server, token, "DEADBEEF01")  # an unknown tag: a result card with its tune
    page.wait_for_selector("#kiosk-result.result--unknown_tag")
    page.wait_for_function(f"() => {TONES} === 2")  # the unknown-tag tune is two tones
    page.close()


def test_without_the_autoplay_flag_the_pairing_tap_or_the_first_touch_lets_it_play(server, browser):
    plain = browser.browser_type.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    try:
        page, token = open_kiosk(server, plain, "Sound without the flag")
        # The tap on "Pair this screen" counts for the kiosk page it leads to...
        page.wait_for_selector("#kiosk[data-audio='running']", timeout=10000)

        page.reload()  # ...but not after a restart (a power cut): nobody has touched this page.
        page.wait_for_selector("#kiosk[data-audio='suspended']", timeout=10000)
        assert page.locator(".sound-off").is_visible()
        page.mouse.click(400, 300)  # the first touch, anywhere
        page.wait_for_selector("#kiosk[data-audio='running']", timeout=10000)
        assert page.locator(".sound-off").is_hidden()
        page.wait_for_function("() => document.querySelector('#kiosk-offline').hidden === true")
        post_tap(server, token, demo.badge_uid(1))  # a badge: no card, but its tune
        page.wait_for_selector("#kiosk-main.session")
        page.wait_for_function(f"() => {TONES} === 2")
    finally:
        plain.close()
