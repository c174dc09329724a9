"""The check before use on a real kiosk screen: the demo's insulation tester asks its two checks,
answered with the screen's big buttons. All OK lends it; an NG sends it to maintenance."""

import json

import pytest

from kiosk import demo
from tests.e2e.conftest import pair
from tests.e2e.test_kiosk_browser import post_tap
from tests.live_server import LiveServer

pytestmark = pytest.mark.browser

CHECKED = demo.tool_uid(13)  # 絶縁抵抗計 500V: two checks before use


@pytest.fixture(scope="module")
def server():
    with LiveServer("e2e_checklist") as live:
        live.manage("seed_demo")
        yield live


@pytest.fixture
def kiosk(server, browser, request):
    station = json.loads(server.manage("create_station", request.node.name[-40:], "--json"))
    page = browser.new_page(viewport={"width": 800, "height": 480}, locale="ja-JP")
    pair(page, server.url + station["pair_url"])
    page.wait_for_function("() => document.querySelector('#kiosk-offline').hidden")
    page.wait_for_timeout(300)  # the socket has joined its group
    yield page, station["token"]
    page.close()


def ask(server, page, token, person: int) -> None:
    assert post_tap(server, token, demo.badge_uid(person))["outcome"] == "session_started"
    assert post_tap(server, token, CHECKED)["outcome"] == "checklist"
    page.wait_for_selector("#kiosk-checklist li.is-current >> text=テストリード")


def test_a_check_answered_all_ok_lends_the_tool_and_offers_undo(server, kiosk, screenshot):
    page, token = kiosk
    ask(server, page, token, person=4)
    assert page.locator("#kiosk-checklist li").count() == 2

    page.click("#kiosk-checklist [data-answer=ok]")
    page.wait_for_selector("#kiosk-checklist li.is-current >> text=ゼロ点")
    # A slip of the glove: NG on the second check, taken back, then OK.
    page.click("#kiosk-checklist [data-answer=ng]")
    page.wait_for_selector("#kiosk-checklist.is-done.has-ng")
    page.click("#kiosk-checklist [data-back]")
    page.wait_for_selector("#kiosk-checklist li.is-current >> text=ゼロ点")
    screenshot(page, "checklist-second-check")
    page.click("#kiosk-checklist [data-answer=ok]")  # the last OK sends the answers

    card = page.wait_for_selector("#kiosk-result.result--borrowed")
    assert "絶縁抵抗計 500V" in card.inner_text()
    page.wait_for_selector(".holdings >> text=絶縁抵抗計 500V")
    assert page.locator("#kiosk-checklist").count() == 0
    page.click("#kiosk-actions .undo")  # as after any borrow
    page.wait_for_selector("#kiosk-result.result--undone_borrow")


def test_a_check_answered_ng_sends_the_tool_to_maintenance(server, kiosk, screenshot):
    page, token = kiosk
    ask(server, page, token, person=5)

    page.click("#kiosk-checklist [data-answer=ok]")
    page.click("#kiosk-checklist [data-answer=ng]")
    # An NG is not sent until the person says so: the tool will be out of use.
    page.wait_for_selector("#kiosk-checklist.is-done.has-ng .send-ng")
    assert page.locator("#kiosk-result:not([hidden])").count() == 0
    page.click("#kiosk-checklist .send-ng")

    card = page.wait_for_selector("#kiosk-result.result--inspection_failed")
    assert "ゼロ点" in card.inner_text()  # the check that failed
    screenshot(page, "checklist-ng")
    assert page.locator("#kiosk-checklist").count() == 0
    page.wait_for_selector(".holdings li.none")
    # Tapped again (after the 2 s in which a read is a repeat), it is refused: in maintenance.
    page.wait_for_timeout(2100)
    result = post_tap(server, token, CHECKED)
    assert result["outcome"] == "refused"
    assert "点検・修理中" in result["message"]
