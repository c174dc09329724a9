"""The kiosk screen while the server is down: the page reads the agent's status endpoint, says
each tap was saved on the kiosk, and once the server is back says they were recorded late,
whether the agent delivers them before the page is back or after.

A real daphne, a real `python -m agent` (READER=stdin) and Debian's chromium paired to the
station. The session window is 5 s, so taps queued longer than that are late when they arrive.
"""

import itertools

import pytest

from kiosk import demo
from tests.agent.conftest import AgentProcess, free_port
from tests.agent.live_kiosk import agent_env, create_station, server_records
from tests.e2e.conftest import pair
from tests.live_server import LiveServer

pytestmark = pytest.mark.browser

SESSION_SECONDS = 5
KIOSK_NUMBERS = itertools.count(1)


@pytest.fixture(scope="module")
def status_port():
    return free_port()


@pytest.fixture(scope="module")
def server(status_port):
    live = LiveServer(
        "e2e_kiosk_offline",
        env={
            # The page polls this agent; each test's agent listens there.
            "KIOSK_AGENT_STATUS_URL": f"http://127.0.0.1:{status_port}/status",
            "KIOSK_SESSION_SECONDS": str(SESSION_SECONDS),
            # These tests read the screen's English words: a site whose language is English
            # (a kiosk switched by hand goes back to the server's language when idle).
            "LANGUAGE_CODE": "en",
        },
    ).setup()
    live.manage("seed_demo")
    try:
        yield live
    finally:
        live.remove()


@pytest.fixture
def kiosk(server, status_port, browser, tmp_path):
    """(page, start_agent) for a fresh station with its screen open and connected."""
    server.start()
    station = create_station(server, f"Kiosk {next(KIOSK_NUMBERS)}")
    env = agent_env(server, station, tmp_path, STATUS_PORT=str(status_port))
    agents: list[AgentProcess] = []

    def start_agent() -> AgentProcess:
        agents.append(AgentProcess(env, stdin=True))
        return agents[-1]

    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
    page = context.new_page()
    try:
        pair(page, server.url + station["pair_url"])
        page.wait_for_function("() => document.querySelector('#kiosk-offline').hidden === true")
        yield page, start_agent
    finally:
        context.close()
        for agent in agents:
            agent.stop()
        server.stop()


def tap_while_offline(server, page, agent, person: int) -> None:
    """Stop the server, tap demo badge and tool `person`, and see the page confirm each was
    saved. Each test has its own person and tool: the server's database is the module's."""
    agent.wait_for_status(lambda s: s["server_reachable"])
    server.stop()
    banner = page.locator("#kiosk-offline")
    banner.wait_for(state="visible", timeout=15000)
    saved = banner.get_attribute("data-saved-text")
    for waiting, uid in enumerate([demo.badge_uid(person), demo.tool_uid(person)], start=1):
        # At once, before the page's first poll of the agent: a tap is never missed.
        agent.tap(uid)
        page.wait_for_function(
            "(text) => document.querySelector('[data-offline-detail]').textContent === text",
            arg=saved.replace("%(count)s", str(waiting)),
            timeout=15000,
        )
    # Longer than the session window: when they arrive, these taps are late.
    page.wait_for_timeout(SESSION_SECONDS * 1000 + 500)


def assert_recorded_late(server, page, person: int) -> None:
    notice = page.locator("#kiosk-notice")
    notice.wait_for(state="visible", timeout=15000)
    assert "2 taps made while offline were recorded" in notice.inner_text()
    records = server_records(server)
    scans = [
        s for s in records["scans"] if s["uid"] in (demo.badge_uid(person), demo.tool_uid(person))
    ]
    assert [(s["outcome"], s["live"]) for s in scans] == [
        ("session_started", False),
        ("borrowed", False),
    ]
    code = demo.EMPLOYEES[person - 1][0], demo.ITEMS[person - 1][0]
    assert [(loan["employee"], loan["item"]) for loan in records["loans"] if loan["open"]][
        -1
    ] == code
    # The reconnected screen is current: idle (the session ran out) with the new loan counted.
    out = sum(loan["open"] for loan in records["loans"])
    page.wait_for_selector(f"#kiosk-main.idle >> text={out} tool", timeout=15000)


def test_taps_delivered_after_the_page_is_back_are_announced_as_recorded_late(
    server, kiosk, screenshot
):
    page, start_agent = kiosk
    agent = start_agent()
    tap_while_offline(server, page, agent, person=1)
    screenshot(page, "kiosk-offline-1-saved")
    agent.stop()  # the taps stay in its outbox until the page is back

    server.start()
    page.locator("#kiosk-offline").wait_for(state="hidden", timeout=10000)
    start_agent().wait_for_status(lambda s: s["outbox_depth"] == 0, timeout=20)

    assert_recorded_late(server, page, person=1)
    screenshot(page, "kiosk-offline-2-recorded")


def test_taps_delivered_before_the_page_is_back_are_announced_when_it_is(server, kiosk):
    page, start_agent = kiosk
    agent = start_agent()
    tap_while_offline(server, page, agent, person=2)
    page.context.set_offline(True)  # the page cannot reconnect until the taps are in

    server.start()
    agent.wait_for_status(lambda s: s["outbox_depth"] == 0, timeout=40)
    page.context.set_offline(False)
    page.locator("#kiosk-offline").wait_for(state="hidden", timeout=10000)

    assert_recorded_late(server, page, person=2)
