"""Benchmark: a tap typed into a real agent process (stdin reader) until a server has applied
it, with the agent otherwise idle, over --taps taps.

Usage: python tests/perf/agent_tap_latency.py [--taps 50]
Prints one JSON object. The server is the contract's stand-in (tests/agent/fake_server.py) on
loopback, so the figure is the agent's own share: reading, the fsynced outbox write, waking the
sender, one HTTP POST. The floor is the same POST sent by this process straight to that server.
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.agent.conftest import AgentProcess, free_port, wait_until  # noqa: E402
from tests.agent.fake_server import TOKEN, FakeServer  # noqa: E402


def summary(seconds: list[float]) -> dict:
    ms = sorted(s * 1000 for s in seconds)
    return {
        "p50_ms": round(statistics.median(ms), 2),
        "p95_ms": round(ms[int(0.95 * (len(ms) - 1))], 2),
        "max_ms": round(ms[-1], 2),
    }


def floor(server: FakeServer, taps: int) -> list[float]:
    took = []
    for _ in range(taps):
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        event = {"id": str(uuid.uuid4()), "uid": "0F0F0F0F", "read_at": now}
        body = json.dumps({"sent_at": now, "events": [event]}).encode()
        request = urllib.request.Request(
            f"{server.url}/api/v1/kiosk/scans",
            data=body,
            headers={"Authorization": f"Station {TOKEN}", "Content-Type": "application/json"},
        )
        started = time.perf_counter()
        urllib.request.urlopen(request, timeout=10).read()
        took.append(time.perf_counter() - started)
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--taps", type=int, default=50)
    args = parser.parse_args()
    server = FakeServer().start()
    with tempfile.TemporaryDirectory(prefix="toolcrib-tap-latency-") as folder:
        env = {
            **os.environ,
            "SERVER_URL": server.url,
            "ALLOW_INSECURE_HTTP": "1",
            "STATION_TOKEN": TOKEN,
            "OUTBOX_PATH": str(Path(folder) / "outbox.db"),
            "READER": "stdin",
            "STATUS_PORT": str(free_port()),
            "DEBOUNCE_SECONDS": "0",
            "HEARTBEAT_SECONDS": "3600",
        }
        agent = AgentProcess(env, stdin=True)
        try:
            agent.wait_for_status(lambda s: s["server_reachable"])
            latencies = []
            for n in range(args.taps):
                time.sleep(0.05)  # idle between taps, as at a kiosk
                before = len(server.applied)
                tapped = time.perf_counter()
                agent.tap(f"0A0B{n:04X}")
                wait_until(lambda b=before: len(server.applied) > b, step=0.0005)
                latencies.append(time.perf_counter() - tapped)
        finally:
            agent.stop()
        bare = floor(server, args.taps)
    server.stop()
    print(
        json.dumps(
            {
                "benchmark": "agent_tap_latency",
                "taps": args.taps,
                "tap_to_server": summary(latencies),
                "floor_direct_post": summary(bare),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
