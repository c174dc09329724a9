"""The real PC/SC path: python -m agent with READER=pcsc, pcscd, vpcd and a virtual card.

pcscd polls the vpcd slots about every 400 ms, so every wait here polls with a deadline.
"""

import time

import pytest

from kiosk import demo
from tests.agent.conftest import AgentProcess, wait_until
from tests.agent.live_kiosk import agent_env, create_station, server_records
from tests.agent.pcsc_harness import Card, Pcscd, missing_parts, wait_until_empty
from tests.live_server import LiveServer

pytestmark = pytest.mark.pcsc

SLOT = "Virtual PCD 00 00"


@pytest.fixture(scope="session")
def pcscd():
    if reason := missing_parts():
        pytest.skip(f"real PC/SC path not testable: {reason}")
    daemon = Pcscd()
    started_here = not daemon.running()
    if started_here:
        daemon.start()
    yield daemon
    if started_here:
        daemon.stop()
    elif not daemon.running():
        daemon.start()  # leave the machine as it was found


@pytest.fixture
def cards(pcscd):
    inserted: list[Card] = []

    def insert(uid: str, reader: str = SLOT) -> Card:
        inserted.append(Card(uid, reader))
        return inserted[-1]

    yield insert
    for card in inserted:
        card.remove()
    if pcscd.running():
        for reader in {card.reader for card in inserted}:
            wait_until_empty(reader)


@pytest.fixture
def pcsc_agent(start_agent, pcscd):
    def start(**overrides: str):
        settings = {"READER": "pcsc", "READER_NAME": SLOT, "DEBOUNCE_SECONDS": "2"}
        return start_agent(**{**settings, **overrides})

    return start


def test_a_card_on_the_reader_arrives_at_the_server_as_a_scan(pcsc_agent, cards, fake_server):
    agent = pcsc_agent()
    agent.wait_for_status(lambda s: s["reader_connected"] and s["reader_name"] == SLOT)

    cards("04A1B2C3D4E5F6")
    # How long it takes (pcscd's ~400 ms poll dominates) is measured by
    # tests/perf/pcsc_to_screen.py.
    wait_until(lambda: fake_server.applied_uids() == ["04A1B2C3D4E5F6"])
    status = agent.wait_for_status(lambda s: s["outbox_depth"] == 0)
    assert status["recent"][0]["uid"] == "04A1B2C3D4E5F6"
    assert status["recent"][0]["state"] == "delivered"


def test_cards_read_through_pcscd_are_applied_by_the_real_server(pcscd, cards, tmp_path):
    badge, tool = demo.badge_uid(1), demo.tool_uid(1)
    with LiveServer("agent_pcsc") as server:
        server.manage("seed_demo")
        station = create_station(server, "PC/SC kiosk")
        agent = AgentProcess(agent_env(server, station, tmp_path, READER="pcsc", READER_NAME=SLOT))
        try:
            agent.wait_for_status(lambda s: s["reader_connected"] and s["server_reachable"])
            card = cards(badge)
            agent.wait_for_status(lambda s: s["recent"] and s["outbox_depth"] == 0)
            card.remove()
            cards(tool)
            status = agent.wait_for_status(
                lambda s: len(s["recent"]) == 2 and not s["outbox_depth"]
            )
        finally:
            agent.stop()
        records = server_records(server)

    assert [(r["uid"], r["state"]) for r in status["recent"]] == [
        (tool, "delivered"),
        (badge, "delivered"),
    ]
    assert [(s["uid"], s["outcome"]) for s in records["scans"]] == [
        (badge, "session_started"),
        (tool, "borrowed"),
    ]
    loans = [(loan["employee"], loan["item"], loan["open"]) for loan in records["loans"]]
    assert loans == [("E0001", "TO0001", True)]


def test_removing_and_reinserting_a_card_respects_the_debounce_window(
    pcsc_agent, cards, fake_server
):
    agent = pcsc_agent(DEBOUNCE_SECONDS="2")
    agent.wait_for_status(lambda s: s["reader_connected"])
    card = cards("0102030405060708")
    wait_until(lambda: fake_server.applied_uids() == ["0102030405060708"])

    card.remove()
    card = cards("0102030405060708")  # back within a second: a bounce, not a tap
    agent.wait_for_log("ignored uid=0102030405060708: repeat")
    bounced_seen = time.monotonic()
    card.remove()
    assert fake_server.applied_uids() == ["0102030405060708"]

    wait_until(lambda: time.monotonic() - bounced_seen > 2.1, timeout=3)
    cards("0102030405060708")
    wait_until(lambda: len(fake_server.applied) == 2)
    assert fake_server.applied_uids() == ["0102030405060708"] * 2


def test_a_card_swapped_straight_for_another_is_read(pcsc_agent, cards, fake_server):
    agent = pcsc_agent()
    agent.wait_for_status(lambda s: s["reader_connected"])
    first = cards("0A0A0A0A")
    wait_until(lambda: fake_server.applied_uids() == ["0A0A0A0A"])

    first.remove()
    cards("0B0B0B0B")

    wait_until(lambda: fake_server.applied_uids() == ["0A0A0A0A", "0B0B0B0B"])


def test_survives_pcscd_restarting_while_it_runs(pcsc_agent, cards, fake_server, pcscd):
    agent = pcsc_agent()
    agent.wait_for_status(lambda s: s["reader_connected"])
    cards("01010101")
    wait_until(lambda: fake_server.applied_uids() == ["01010101"])

    pcscd.restart()  # the card process sees EOF and exits: the card is gone
    agent.wait_for_log("lost the connection to pcscd")
    cards("02020202")

    wait_until(lambda: fake_server.applied_uids() == ["01010101", "02020202"])
    assert agent.status()["reader_connected"]


def test_waits_for_pcscd_and_reports_no_reader_then_picks_it_up(
    pcsc_agent, cards, fake_server, pcscd
):
    pcscd.stop()
    try:
        agent = pcsc_agent()
        status = agent.wait_for_status(lambda s: s["last_error"] is not None)
        assert status["reader_connected"] is False
        assert status["reader_name"] is None
        assert status["last_error"].startswith("pcscd is not available")
        wait_until(lambda: fake_server.heartbeats)
        assert fake_server.heartbeats[0]["reader_connected"] is False
    finally:
        pcscd.start()

    agent.wait_for_status(lambda s: s["reader_connected"] and s["last_error"] is None)
    cards("03030303")
    wait_until(lambda: fake_server.applied_uids() == ["03030303"])


def test_reader_name_selects_one_of_several_readers(pcsc_agent, cards, fake_server):
    agent = pcsc_agent(READER_NAME="00 01")
    agent.wait_for_status(lambda s: s["reader_name"] == "Virtual PCD 00 01")

    cards("0A0A0A0A", reader="Virtual PCD 00 00")
    cards("0B0B0B0B", reader="Virtual PCD 00 01")

    wait_until(lambda: fake_server.applied_uids() == ["0B0B0B0B"])
    assert "0A0A0A0A" not in agent.log()


def test_check_names_the_reader_or_lists_the_readers_found(agent_env, pcscd):
    from tests.agent.test_agent_process import run_cli

    found = run_cli({**agent_env, "READER": "pcsc", "READER_NAME": "Virtual"}, "check")
    missing = run_cli({**agent_env, "READER": "pcsc", "READER_NAME": "RC-S300"}, "check")

    assert "reader:           ok (Virtual PCD 00 00)" in found.stdout
    assert found.returncode == 0
    assert missing.returncode == 1
    assert (
        "reader:           FAILED: no reader name contains 'RC-S300' "
        "(readers: Virtual PCD 00 00, Virtual PCD 00 01)"
    ) in missing.stdout
