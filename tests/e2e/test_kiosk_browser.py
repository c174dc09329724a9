"""A real kiosk: daphne on its own database, Debian's chromium paired to a station, taps
posted through the agent's API, results read off the screen."""

import json
import urllib.request
import uuid
from datetime import UTC, datetime

import pytest

from tests.e2e.conftest import pair
from tests.live_server import LiveServer

pytestmark = pytest.mark.browser

# The tones the page has played (the headless browser has no speakers to listen to).
TONES = "Number(document.querySelector('#kiosk').dataset.tones || 0)"


@pytest.fixture(scope="module")
def server():
    with LiveServer("e2e") as live:
        live.manage("seed_demo")
        yield live


def post_tap(server, token, uid):
    now = datetime.now(UTC).isoformat()
    body = {"sent_at": now, "events": [{"id": str(uuid.uuid4()), "uid": uid, "read_at": now}]}
    request = urllib.request.Request(
        f"{server.url}/api/v1/kiosk/scans",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Station {token}"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.load(response)["results"][0]


def test_a_paired_kiosk_shows_the_person_then_the_borrow_then_the_return(
    server, browser, screenshot
):
    station = json.loads(server.manage("create_station", "E2E", "--json"))
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="ja-JP")
    page = context.new_page()
    pair(page, server.url + station["pair_url"])
    page.wait_for_selector("#kiosk-main.idle")
    # The WebSocket is open when htmx says so; taps posted before that would be missed.
    page.wait_for_function("() => document.querySelector('#kiosk-offline').hidden === true")
    page.wait_for_timeout(300)
    screenshot(page, "kiosk-1-idle")

    # How fast a push reaches the screen is measured by tests/perf/pcsc_to_screen.py.
    assert post_tap(server, station["token"], "04DE0000000001")["outcome"] == "session_started"
    page.wait_for_selector("#kiosk-main.session >> text=山田 太郎")
    screenshot(page, "kiosk-2-session")

    tones = page.evaluate(TONES)
    assert post_tap(server, station["token"], "1DDE0000000001")["outcome"] == "borrowed"
    page.wait_for_selector("#kiosk-result.result--borrowed >> text=トルクレンチ")
    page.wait_for_selector(".holdings >> text=トルクレンチ")
    screenshot(page, "kiosk-3-borrowed")
    page.wait_for_timeout(300)
    assert page.evaluate(TONES) - tones == 2  # the borrowed sound once: two tones

    page.wait_for_timeout(2100)  # the same tag within 2 s is a repeat read, not a return
    assert post_tap(server, station["token"], "1DDE0000000001")["outcome"] == "returned"
    page.wait_for_selector("#kiosk-result.result--returned")
    screenshot(page, "kiosk-4-returned")
    context.close()


def test_a_state_answer_older_than_a_push_does_not_put_the_screen_back(server, browser):
    # The page asks for the state when its socket opens; here that answer is read at once but
    # held back until a tap made after it has been pushed: the race of a slow network.
    station = json.loads(server.manage("create_station", "E2E stale", "--json"))
    page = browser.new_page(locale="ja-JP")
    held = []

    def hold_the_first_answer(route):
        if held:
            route.continue_()
        else:
            held.append((route, route.fetch()))

    page.route("**/kiosk/state/**", hold_the_first_answer)
    pair(page, server.url + station["pair_url"])
    page.wait_for_function("() => document.querySelector('#kiosk-offline').hidden === true")
    while not held:
        page.wait_for_timeout(50)
    assert post_tap(server, station["token"], "04DE0000000003")["outcome"] == "session_started"
    page.wait_for_selector("#kiosk-main.session")

    with page.expect_request("**/kiosk/state/**", timeout=2000):  # asked again, not shown
        route, stale = held[0]
        route.fulfill(response=stale)
    page.wait_for_timeout(500)
    assert page.locator("#kiosk-main.session").count() == 1
    page.close()


def test_a_kiosk_whose_socket_the_server_closed_connects_again_in_its_language(browser):
    # daphne closes a socket after --websocket_timeout (a day by default) with code 1000,
    # which the htmx extension does not retry on its own.
    with LiveServer("e2e_reconnect", daphne_args=("--websocket_timeout", "2")) as live:
        live.manage("seed_demo")
        station = json.loads(live.manage("create_station", "Reconnect", "--json"))
        # A browser set to English, never switched: the pushes follow the page's language.
        page = browser.new_page(locale="en-US")
        pair(page, live.url + station["pair_url"])
        page.wait_for_function("() => document.querySelector('#kiosk-offline').hidden === true")
        page.wait_for_function("() => document.querySelector('#kiosk-offline').hidden === false")
        page.wait_for_function(
            "() => document.querySelector('#kiosk-offline').hidden === true", timeout=5000
        )
        page.wait_for_timeout(200)
        post_tap(live, station["token"], "04DE0000000001")
        page.wait_for_selector("#kiosk-main.session >> text=山田 太郎")
        assert "Tap each tool you take" in page.inner_text("#kiosk-main")
        page.close()


def test_demo_mode_lets_a_newcomer_click_through_borrow_and_undo(browser, screenshot):
    # As `make run`: demo mode is refused with DEBUG=0.
    with LiveServer("e2e_demo", env={"KIOSK_DEMO": "1", "DEBUG": "1"}) as demo:
        pair_line = demo.manage("seed_demo", "--site", demo.url).strip().splitlines()[-1]
        link = pair_line.split("open ")[1].split()[0]
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="ja-JP")
        pair(page, link)
        page.wait_for_function("() => document.querySelector('#kiosk-offline').hidden === true")
        page.wait_for_timeout(300)

        page.click("aside.demo button[data-uid='04DE0000000002']")
        page.wait_for_selector("#kiosk-main.session >> text=佐藤 花子")
        page.click("aside.demo button[data-uid='1DDE0000000002']")
        page.wait_for_selector("#kiosk-result.result--borrowed")
        screenshot(page, "kiosk-demo-borrowed")

        page.click("#kiosk-actions .undo")
        # The card says what happened last: the borrow was undone, not "borrowed".
        card = page.wait_for_selector("#kiosk-result.result--undone_borrow")
        assert "デジタルノギス" in card.inner_text()
        page.wait_for_selector(".holdings li.none")
        assert page.locator("#kiosk-actions .undo").count() == 0
        page.close()
