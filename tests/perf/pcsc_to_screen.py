"""A card on the real PC/SC path to its result on the kiosk screen, split into parts.

    python tests/perf/pcsc_to_screen.py [--inserts 20]

pcscd with vsmartcard-vpcd (started here if it is not running), `python -m agent` with
READER=pcsc, daphne (one process) on PostgreSQL with the run's REDIS_URL channel layer if set,
and one paired screen on the kiosk WebSocket. Each insert starts a virtual card process with the
next UID of a borrow-and-return cycle, waits for the fragment carrying its scan id, removes the
card and waits 0.5-1 s (a random phase against pcscd's polling). One warm-up insert is not
counted. The parts, all on this machine's clock:

  card_to_read      card process started -> the agent's read_at (pcscd polls about every 400 ms)
                    of which the card process's own start, until it is connected to vpcd
  read_to_server    read_at -> the server's received_at (outbox commit with fsync, sender, POST)
  server_to_screen  received_at -> the fragment on the WebSocket (rules, commit, render, push)
  total             card process started -> the fragment

Prints one JSON object.
"""

import argparse
import asyncio
import json
import os
import random
import re
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.agent.conftest import AgentProcess  # noqa: E402
from tests.agent.live_kiosk import agent_env, create_station, server_records  # noqa: E402
from tests.agent.pcsc_harness import Card, Pcscd, missing_parts  # noqa: E402
from tests.live_server import LiveServer  # noqa: E402
from tests.perf.kiosk_latency import open_screen, percentiles  # noqa: E402

SLOT = "Virtual PCD 00 00"
SCAN_ID = re.compile(r'data-scan="([0-9a-f-]+)"')
# Badge in, borrow two tools, return them, badge out, an unregistered tag: every tap has a
# result on the screen, and no tag follows itself (that would be a repeat read, not a tap).
BADGE, TOOL_A, TOOL_B = "04DE0000000001", "1DDE0000000001", "1DDE0000000002"
CYCLE = [BADGE, TOOL_A, TOOL_B, TOOL_A, TOOL_B, BADGE, "0C0C0C0C"]


async def measure(server: LiveServer, station: dict, agent: AgentProcess, inserts: int) -> list:
    code = station["pair_url"].rstrip("/").rsplit("/", 1)[1]
    screen = await open_screen(server, {"code": code})
    arrivals: list[tuple[str, float]] = []

    async def listen():
        async for message in screen:
            now = time.time()
            arrivals.extend((scan, now) for scan in SCAN_ID.findall(message))

    listener = asyncio.create_task(listen())
    await asyncio.to_thread(
        agent.wait_for_status, lambda s: s["reader_connected"] and s["server_reachable"], 20
    )
    samples = []
    for n in range(inserts + 1):
        seen = len(arrivals)
        started = time.time()
        card = await asyncio.to_thread(Card, CYCLE[n % len(CYCLE)], SLOT)
        inserted = time.time()
        deadline = time.monotonic() + 5
        while len(arrivals) == seen:
            if time.monotonic() > deadline:
                raise RuntimeError(f"insert {n}: no fragment within 5 s")
            await asyncio.sleep(0.005)
        scan, shown = arrivals[seen]
        if n:  # the first is a warm-up
            samples.append({"scan": scan, "started": started, "inserted": inserted, "shown": shown})
        await asyncio.to_thread(card.remove)
        await asyncio.sleep(random.uniform(0.5, 1.0))
    listener.cancel()
    await screen.close()
    return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--inserts", type=int, default=20)
    args = parser.parse_args()
    if problem := missing_parts():
        sys.exit(f"cannot run: {problem}")
    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/toolcrib_bench")
    pcscd = Pcscd()
    started_pcscd = not pcscd.running()
    if started_pcscd:
        pcscd.start()
    server = LiveServer("bench_pcsc_screen").setup()
    agent = None
    try:
        server.manage("seed_demo")
        station = create_station(server, "PC/SC bench")
        server.start()
        env = agent_env(server, station, Path(tempfile.mkdtemp()), READER="pcsc", READER_NAME=SLOT)
        env["LOG_LEVEL"] = "WARNING"
        agent = AgentProcess(env)
        samples = asyncio.run(measure(server, station, agent, args.inserts))
        scans = {scan["id"]: scan for scan in server_records(server)["scans"]}
    finally:
        if agent:
            agent.stop()
        server.remove()
        if started_pcscd:
            pcscd.stop()

    parts = {
        name: []
        for name in (
            "card_to_read",
            "of_which_card_process_start",
            "read_to_server",
            "server_to_screen",
            "total",
        )
    }
    for sample in samples:
        scan = scans[sample["scan"]]
        read = datetime.fromisoformat(scan["read_at"]).timestamp()
        received = datetime.fromisoformat(scan["received_at"]).timestamp()
        parts["card_to_read"].append((read - sample["started"]) * 1000)
        parts["of_which_card_process_start"].append((sample["inserted"] - sample["started"]) * 1000)
        parts["read_to_server"].append((received - read) * 1000)
        parts["server_to_screen"].append((sample["shown"] - received) * 1000)
        parts["total"].append((sample["shown"] - sample["started"]) * 1000)
    print(
        json.dumps(
            {
                "inserts": len(samples),
                "database": os.environ["DATABASE_URL"].split(":", 1)[0],
                "channel_layer": "redis" if os.environ.get("REDIS_URL") else "in-memory",
                "cpu_count": os.cpu_count(),
                **{name: percentiles(values) for name, values in parts.items()},
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
