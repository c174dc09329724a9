"""Three real agents send 500 taps each to two daphne processes behind a round-robin balancer
while PostgreSQL is cut twice, one web process is killed with SIGKILL in the middle of the
traffic and restarted, and Redis is cut once.

Asserted: every tap applied exactly once and in each station's order, with the outcome the tap
rules give; the loans equal those of the same taps replayed on a clean database; no request
waited more than 5 s for its answer; and each kiosk screen ends showing its station's state.
"""

import datetime
import random
import threading
import time
import uuid

import pytest
from django.utils.dateparse import parse_datetime

from inventory.loans.models import Loan
from kiosk import demo
from kiosk.models import Station
from kiosk.scans import Scan, record_scans
from tests.agent.conftest import AgentProcess, wait_until
from tests.agent.live_kiosk import (
    EMPLOYEE_CODES,
    ITEM_CODES,
    KITS,
    agent_env,
    create_station,
    outbox_rows,
    plan,
    server_records,
)
from tests.faults.conftest import faulty_server
from tests.faults.proxy import FaultProxy
from tests.faults.screen import Screen
from tests.faults.test_database_outage import RECOVERY

pytestmark = pytest.mark.faults

TAPS_PER_STATION = 500
TAP_INTERVAL = 0.05  # seconds between two taps, over all three kiosks
LONGEST_WAIT = 5.0  # seconds any request may wait for its answer, outages included


@pytest.fixture
def server(database, redis):
    live = faulty_server("faults_load", database, redis, processes=2).start()
    try:
        yield live
    finally:
        live.remove()


@pytest.fixture
def balancer(server):
    """What Caddy is in production: one address, connections spread over the web processes,
    a process that refuses connections skipped."""
    with FaultProxy(*[("127.0.0.1", port) for port in server.ports]) as proxy:
        yield proxy


@pytest.fixture
def kiosks(server, balancer, tmp_path):
    """(station, agent, outbox path, screen) for each kit, all through the balancer."""
    url = f"http://127.0.0.1:{balancer.port}"
    started = []
    try:
        for n in range(len(KITS)):
            station = create_station(server, f"Fault kiosk {n}")
            env = agent_env(server, station, tmp_path, SERVER_URL=url, DEBOUNCE_SECONDS="0")
            agent = AgentProcess(env, stdin=True)
            screen = Screen(url, station["pair_url"]).start()
            started.append((station, agent, env["OUTBOX_PATH"], screen))
        yield started
    finally:
        for _, agent, _, screen in started:
            agent.stop()
            screen.stop()


def test_every_tap_is_applied_once_in_order_through_database_web_and_redis_faults(
    server, balancer, database, redis, kiosks, db, settings
):
    rng = random.Random(16)
    plans = [plan(kit, TAPS_PER_STATION, rng) for kit in KITS]
    for _, agent, _, _ in kiosks:
        agent.wait_for_status(lambda s: s["reader_connected"])
    total = TAPS_PER_STATION * len(KITS)
    written = 0

    def tap_all() -> None:
        nonlocal written
        for n in range(TAPS_PER_STATION):
            for (_, agent, _, _), (uids, _, _) in zip(kiosks, plans, strict=True):
                agent.tap(uids[n])
                written += 1
                time.sleep(TAP_INTERVAL)

    def at(fraction: float) -> None:
        wait_until(lambda: written >= fraction * total, timeout=120)

    writer = threading.Thread(target=tap_all, daemon=True)
    writer.start()

    at(0.15)
    database.cut()
    at(0.22)
    database.restore()
    # The agents now send what piled up during the cut: kill a web process in the middle.
    time.sleep(0.3)
    server.kill(0)
    time.sleep(3)
    server.restart(0)
    at(0.5)
    redis.cut()
    at(0.6)
    redis.restore()
    at(0.75)
    database.cut()
    at(0.82)
    database.restore()

    writer.join(timeout=120)
    assert not writer.is_alive()
    for _, agent, _, _ in kiosks:
        agent.wait_for_status(lambda s: s["outbox_depth"] == 0 and s["recent"], timeout=90)
    records = server_records(server)

    for (station, agent, outbox, screen), (uids, outcomes, _) in zip(kiosks, plans, strict=True):
        agent.stop()
        rows = outbox_rows(outbox)
        assert [row["uid"] for row in rows] == uids
        assert {row["state"] for row in rows} == {"delivered"}
        assert [row["outcome"] for row in rows] == outcomes
        scans = [scan for scan in records["scans"] if scan["station"] == station["id"]]
        # Exactly once each, in the agent's order, with the outcome the rules give.
        assert [scan["id"] for scan in scans] == [row["id"] for row in rows]
        assert [scan["outcome"] for scan in scans] == outcomes
        assert {scan["status"] for scan in scans} == {"applied"}
        # The screen ends showing the state the last tap left.
        final = records["stations"][str(station["id"])]
        assert screen.wait_for_version(final, timeout=RECOVERY), (screen.version, final)
    assert len(records["scans"]) == total

    expected_open = {
        (EMPLOYEE_CODES[kit.badge], ITEM_CODES[tool])
        for kit, (_, _, held) in zip(KITS, plans, strict=True)
        for tool in held
    }
    assert {(loan["employee"], loan["item"]) for loan in records["loans"] if loan["open"]} == (
        expected_open
    )
    assert _loans(records["loans"]) == _replayed(records, kiosks, settings)

    longest = balancer.longest_waits()
    assert longest[0][0] <= LONGEST_WAIT, longest
    # The outages were real: the agents were told to wait (503) and kept their taps.
    assert "server unavailable (503)" in "\n".join(agent.log() for _, agent, _, _ in kiosks)


def _loans(loans: list[dict]) -> list[tuple]:
    return sorted(
        (loan["employee"], loan["item"], loan["borrowed_at"], loan["returned_at"]) for loan in loans
    )


def _replayed(records: dict, kiosks, settings) -> list[tuple]:
    """The loans that the same taps make on a clean database, one tap at a time, each arriving
    when it arrived in the run (so a tap recorded late is late here too), with no fault."""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    demo.seed()
    for station_record, *_ in kiosks:
        station = Station(name=station_record["name"])
        station.issue_token()
        station.save()
        for scan in (s for s in records["scans"] if s["station"] == station_record["id"]):
            received_at = parse_datetime(scan["received_at"])
            record_scans(
                station=station,
                scans=[
                    Scan(
                        id=uuid.UUID(scan["id"]),
                        raw_id=scan["id"],
                        uid=scan["uid"],
                        read_at=parse_datetime(scan["read_at"]),
                    )
                ],
                sent_at=received_at,
                received_at=received_at,
            )
    return sorted(
        (
            loan.employee.code,
            loan.item.code,
            loan.borrowed_at.astimezone(datetime.UTC).isoformat(),
            loan.returned_at and loan.returned_at.astimezone(datetime.UTC).isoformat(),
        )
        for loan in Loan.objects.select_related("employee", "item")
    )
