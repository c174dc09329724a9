"""Three `python -m agent` processes against the real server (daphne on its own database),
which is stopped and started again twice while the taps keep coming: every tap is applied
exactly once, in the order it was read, and the loans are what the tap rules say.

Each station has its own person and tools, so the stations' expected results are independent
of one another and follow from a few lines of model (`Kiosk` in live_kiosk.py).
"""

import itertools
import random
import threading
import time
from datetime import datetime

import pytest

from tests.agent.conftest import AgentProcess, wait_until
from tests.agent.live_kiosk import (
    EMPLOYEE_CODES,
    ITEM_CODES,
    KITS,
    SESSION_SECONDS,
    agent_env,
    create_station,
    outbox_rows,
    plan,
    server_records,
)
from tests.live_server import LiveServer

TAPS = 500
TAP_INTERVAL = 0.1  # seconds between two taps, over all three kiosks


@pytest.fixture
def server():
    live = LiveServer("agent_restarts").setup()
    live.manage("seed_demo")
    try:
        yield live.start()
    finally:
        live.remove()


@pytest.fixture
def agents(server, tmp_path):
    started: list[tuple[dict, AgentProcess, str]] = []
    try:
        for n in range(len(KITS)):
            station = create_station(server, f"Kiosk {n}")
            env = agent_env(server, station, tmp_path)
            started.append((station, AgentProcess(env, stdin=True), env["OUTBOX_PATH"]))
        yield started
    finally:
        for _, agent, _ in started:
            agent.stop()


def test_taps_through_two_server_restarts_are_applied_once_in_order_by_the_rules(server, agents):
    rng = random.Random(4)
    share = [TAPS // len(KITS) + (n < TAPS % len(KITS)) for n in range(len(KITS))]
    plans = [plan(kit, count, rng) for kit, count in zip(KITS, share, strict=True)]
    for _, agent, _ in agents:
        agent.wait_for_status(lambda s: s["reader_connected"])

    written = 0

    def tap_all() -> None:
        nonlocal written
        for n in range(max(share)):
            for (_, agent, _), (uids, _, _) in zip(agents, plans, strict=True):
                if n < len(uids):
                    agent.tap(uids[n])
                    written += 1
                    time.sleep(TAP_INTERVAL)

    writer = threading.Thread(target=tap_all, daemon=True)
    writer.start()
    # A restart as on a server update: down a few seconds while the kiosks keep taking taps.
    for down_at, up_at in ((0.25, 0.37), (0.6, 0.72)):
        wait_until(lambda at=down_at: written >= at * TAPS, timeout=60)
        server.stop()
        wait_until(lambda at=up_at: written >= at * TAPS, timeout=60)
        server.start()
    writer.join(timeout=60)
    assert not writer.is_alive()
    for _, agent, _ in agents:
        agent.wait_for_status(lambda s: s["outbox_depth"] == 0 and s["recent"], timeout=60)
        agent.stop()

    records = server_records(server)
    all_ids = set()
    for (station, agent, outbox), (uids, outcomes, _) in zip(agents, plans, strict=True):
        rows = outbox_rows(outbox)
        assert [row["uid"] for row in rows] == uids
        assert {row["state"] for row in rows} == {"delivered"}
        # The agent recorded the server's answer for each tap, and it is the rules' answer.
        assert [row["outcome"] for row in rows] == outcomes
        read_at = [datetime.fromisoformat(row["read_at"]) for row in rows]
        longest_pause = max(b - a for a, b in itertools.pairwise(read_at))
        assert longest_pause.total_seconds() < SESSION_SECONDS, "the model assumes no timeouts"

        scans = [scan for scan in records["scans"] if scan["station"] == station["id"]]
        # Exactly once each, and in read_at order the server's events are the agent's order.
        assert [scan["id"] for scan in scans] == [row["id"] for row in rows]
        assert [scan["outcome"] for scan in scans] == outcomes
        assert {scan["status"] for scan in scans} == {"applied"}
        # The outages were real: some taps of every kiosk waited for the server.
        delays = [
            datetime.fromisoformat(scan["received_at"]) - datetime.fromisoformat(scan["read_at"])
            for scan in scans
        ]
        assert max(delays).total_seconds() > 2
        assert "server unreachable" in agent.log()
        all_ids |= {row["id"] for row in rows}
    assert len(records["scans"]) == len(all_ids) == TAPS

    expected_open = {
        (EMPLOYEE_CODES[kit.badge], ITEM_CODES[tool])
        for kit, (_, _, held) in zip(KITS, plans, strict=True)
        for tool in held
    }
    open_loans = {(loan["employee"], loan["item"]) for loan in records["loans"] if loan["open"]}
    assert open_loans == expected_open
    borrows = sum(outcomes.count("borrowed") for _, outcomes, _ in plans)
    assert len(records["loans"]) == borrows
