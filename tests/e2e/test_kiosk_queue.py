"""A queue at one kiosk at shift change, on a real server and Debian's chromium: whoever taps,
each loan ends up with the person who took the tool, and with nobody else."""

import pytest

from kiosk import demo
from tests.agent.live_kiosk import create_station, server_records
from tests.e2e.conftest import pair
from tests.e2e.test_kiosk_browser import post_tap
from tests.live_server import LiveServer

pytestmark = pytest.mark.browser

YAMADA, SATO, SUZUKI = 1, 2, 3  # demo people (badges)
WRENCH, CALIPER, DIAL_GAUGE, LEVEL, DRILL, HEX_KEYS = 1, 2, 7, 8, 5, 9  # demo tools
# An administrator sends a tool to maintenance while it waits on the kiosk's tray.
TO_MAINTENANCE = """
from inventory.items.models import Item
Item.objects.filter(code="{code}").update(status=Item.Status.MAINTENANCE)
"""


def code(tool: int) -> str:
    return demo.ITEMS[tool - 1][0]


def person(number: int) -> str:
    return demo.EMPLOYEES[number - 1][0]


@pytest.fixture(scope="module")
def server():
    with LiveServer("e2e_queue") as live:
        live.manage("seed_demo")
        yield live


def test_a_queue_at_one_kiosk_leaves_each_tool_with_whoever_took_it(server, browser, screenshot):
    station = create_station(server, "Queue")
    page = browser.new_page(viewport={"width": 800, "height": 480}, locale="ja-JP")
    pair(page, server.url + station["pair_url"])
    page.wait_for_function("() => document.querySelector('#kiosk-offline').hidden === true")

    def tap(*uids):
        return [post_tap(server, station["token"], uid)["outcome"] for uid in uids]

    # Sato took a caliper and a dial gauge earlier in the shift.
    assert tap(demo.badge_uid(SATO), demo.tool_uid(CALIPER), demo.tool_uid(DIAL_GAUGE)) == [
        "session_started",
        "borrowed",
        "borrowed",
    ]
    page.click("#kiosk-actions .end")
    page.wait_for_selector("#kiosk-main.idle")

    # Yamada badges in and takes a wrench...
    assert tap(demo.badge_uid(YAMADA), demo.tool_uid(WRENCH)) == ["session_started", "borrowed"]
    page.wait_for_selector(".holdings >> text=トルクレンチ")
    # ...while Sato, back at the crib, returns the caliper: it is hers that comes back, and
    # Yamada's list does not change.
    assert tap(demo.tool_uid(CALIPER)) == ["returned"]
    card = page.wait_for_selector("#kiosk-result.result--returned")
    assert "佐藤 花子" in card.inner_text()
    assert page.locator(".holdings li:not(.more):not([hidden])").count() == 1
    # Sato returns the dial gauge too; Yamada needs it and takes it over, by the button that asks.
    assert tap(demo.tool_uid(DIAL_GAUGE)) == ["returned"]
    question = page.wait_for_selector("#kiosk-actions .question")
    assert "山田 太郎" in question.inner_text()
    screenshot(page, "queue-1-take-over-question")
    page.click("#kiosk-actions .take-over")
    page.wait_for_selector("#kiosk-result.result--taken_over")
    page.wait_for_selector(".holdings >> text=ダイヤルゲージ")
    page.click("#kiosk-actions .end")
    page.wait_for_selector("#kiosk-main.idle")

    # Suzuki lays three tools on the reader, then his badge; one of them went to maintenance in
    # the meantime.
    assert tap(*(demo.tool_uid(n) for n in (LEVEL, DRILL, HEX_KEYS))) == ["awaiting_badge"] * 3
    page.wait_for_selector("#kiosk-main.tray .tray li:nth-child(3)")
    server.manage("shell", "--no-imports", "-c", TO_MAINTENANCE.format(code=code(DRILL)))
    assert tap(demo.badge_uid(SUZUKI)) == ["borrowed"]
    card = page.wait_for_selector("#kiosk-result.result--borrowed .lines")
    assert page.locator("#kiosk-result .lines li.refused").count() == 1
    assert page.locator("#kiosk-result .lines li.lent").count() == 2
    screenshot(page, "queue-2-tray-with-a-refusal")

    # He taps the level again by mistake, which returns it, and undoes that return.
    page.wait_for_timeout(2100)  # not a repeat read of the same tag
    assert tap(demo.tool_uid(LEVEL)) == ["returned"]
    page.wait_for_selector("#kiosk-actions .undo")
    page.click("#kiosk-actions .undo")
    card = page.wait_for_selector("#kiosk-result.result--undone_return")
    assert "鈴木 一郎" in card.inner_text()

    loans = server_records(server)["loans"]
    # The caliper went from Sato back to the crib, never to Yamada.
    assert [loan["employee"] for loan in loans if loan["item"] == code(CALIPER)] == [person(SATO)]
    open_loans = {(loan["employee"], loan["item"]) for loan in loans if loan["open"]}
    assert open_loans == {
        (person(YAMADA), code(WRENCH)),
        (person(YAMADA), code(DIAL_GAUGE)),
        (person(SUZUKI), code(LEVEL)),
        (person(SUZUKI), code(HEX_KEYS)),
    }
    page.close()
