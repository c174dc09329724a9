"""A real kiosk: daphne on its own database, Debian's chromium paired to a station, taps
posted through the agent's API, results read off the screen."""

import json
import time
import urllib.request
import uuid
from datetime import UTC, datetime

import pytest

from tests.live_server import LiveServer

pytestmark = pytest.mark.browser


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
    page.goto(server.url + station["pair_url"])
    page.wait_for_selector("#kiosk-main.idle")
    # The WebSocket is open when htmx says so; taps posted before that would be missed.
    page.wait_for_function("document.querySelector('#kiosk-offline').hidden === true")
    page.wait_for_timeout(300)
    screenshot(page, "kiosk-1-idle")

    started = time.monotonic()
    assert post_tap(server, station["token"], "04DE0000000001")["outcome"] == "session_started"
    page.wait_for_selector("#kiosk-main.session >> text=山田 太郎", timeout=1000)
    assert time.monotonic() - started < 1
    screenshot(page, "kiosk-2-session")

    started = time.monotonic()
    assert post_tap(server, station["token"], "1DDE0000000001")["outcome"] == "borrowed"
    page.wait_for_selector("#kiosk-result.result--borrowed >> text=トルクレンチ", timeout=1000)
    assert time.monotonic() - started < 1
    page.wait_for_selector(".holdings >> text=トルクレンチ", timeout=1000)
    screenshot(page, "kiosk-3-borrowed")

    page.wait_for_timeout(2100)  # the same tag within 2 s is a repeat read, not a return
    assert post_tap(server, station["token"], "1DDE0000000001")["outcome"] == "returned"
    page.wait_for_selector("#kiosk-result.result--returned", timeout=1000)
    screenshot(page, "kiosk-4-returned")
    context.close()


def test_demo_mode_lets_a_newcomer_click_through_borrow_and_undo(browser, screenshot):
    with LiveServer("e2e_demo", env={"KIOSK_DEMO": "1"}) as demo:
        pair_line = demo.manage("seed_demo", "--site", demo.url).strip().splitlines()[-1]
        link = pair_line.split("open ")[1].split()[0]
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="ja-JP")
        page.goto(link)
        page.wait_for_function("document.querySelector('#kiosk-offline').hidden === true")
        page.wait_for_timeout(300)

        page.click("aside.demo button[data-uid='04DE0000000002']")
        page.wait_for_selector("#kiosk-main.session >> text=佐藤 花子", timeout=2000)
        page.click("aside.demo button[data-uid='1DDE0000000002']")
        page.wait_for_selector("#kiosk-result.result--borrowed", timeout=2000)
        screenshot(page, "kiosk-demo-borrowed")

        page.click("#kiosk-undo button")
        page.wait_for_selector(".holdings li.none", timeout=2000)
        assert page.locator("#kiosk-undo button").count() == 0
        page.close()
