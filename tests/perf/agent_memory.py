"""Benchmark: the agent's resident memory after processing a few hundred events.

Usage: python tests/perf/agent_memory.py [--backlog 300] [--taps 20]
Prints one JSON object. Runs the real `python -m agent` against a fake server. With pcscd and
vsmartcard-vpcd available it uses READER=pcsc (pyscard loaded, a context held) and reads --taps
cards through a virtual card; otherwise READER=stdin, and it says so. Each real tap costs about
half a second of pcscd polling, so most of the events are a backlog of taps saved while
"offline" (written to the outbox before start) that the agent delivers in batches.
"""

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from agent.outbox import Outbox, utc_now  # noqa: E402
from tests.agent.fake_server import TOKEN, FakeServer  # noqa: E402
from tests.agent.pcsc_harness import Card, Pcscd, missing_parts  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.05)
    return value


def memory_kb(pid: int) -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "Threads"):
            fields[key] = int(value.split()[0])
    return fields


def status(port: int) -> dict | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=2) as answer:
            return json.load(answer)
    except OSError:
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backlog", type=int, default=300)
    parser.add_argument("--taps", type=int, default=20)
    args = parser.parse_args()
    why_not_pcsc = missing_parts()
    reader = "stdin" if why_not_pcsc else "pcsc"
    pcscd = Pcscd()
    started_pcscd = reader == "pcsc" and not pcscd.running()
    if started_pcscd:
        pcscd.start()
    server = FakeServer().start()
    port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        outbox_path = Path(folder) / "outbox.db"
        backlog = Outbox(outbox_path)
        for n in range(args.backlog):
            backlog.add(f"0B{n:012X}", utc_now())
        backlog.close()
        env = dict(
            os.environ,
            SERVER_URL=server.url,
            ALLOW_INSECURE_HTTP="1",
            STATION_TOKEN=TOKEN,
            OUTBOX_PATH=str(outbox_path),
            READER=reader,
            READER_NAME="Virtual PCD 00 00" if reader == "pcsc" else "",
            STATUS_PORT=str(port),
            DEBOUNCE_SECONDS="0",
            LOG_LEVEL="WARNING",
        )
        agent = subprocess.Popen(
            [sys.executable, "-m", "agent"],
            cwd=REPO,
            env=env,
            stdin=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        try:
            wait_until(lambda: (s := status(port)) and s["reader_connected"], 15, "the reader")
            for n in range(args.taps):
                uid = f"0A{n:012X}"
                if reader == "pcsc":
                    card = Card(uid)
                    wait_until(lambda uid=uid: uid in server.applied_uids(), 10, "a tap")
                    card.remove()
                else:
                    agent.stdin.write(f"{uid}\n")
                    agent.stdin.flush()
            total = args.backlog + args.taps
            wait_until(lambda: len(server.applied) >= total, 60, "every event delivered")
            for _ in range(20):  # the kiosk page polling while offline
                status(port)
            wait_until(lambda: server.heartbeats, 20, "a heartbeat")
            memory = memory_kb(agent.pid)
        finally:
            agent.send_signal(signal.SIGTERM)
            agent.wait(15)
            server.stop()
            if started_pcscd:
                pcscd.stop()
    print(
        json.dumps(
            {
                "benchmark": "agent_memory",
                "reader": reader,
                "why_not_pcsc": why_not_pcsc,
                "events_processed": len(server.applied),
                "backlog_delivered": args.backlog,
                "taps_read": args.taps,
                "vmrss_mb": round(memory["VmRSS"] / 1024, 1),
                "vmhwm_mb": round(memory["VmHWM"] / 1024, 1),
                "rss_anon_mb": round(memory["RssAnon"] / 1024, 1),
                "rss_file_mb": round(memory["RssFile"] / 1024, 1),
                "threads": memory["Threads"],
                "python": sys.version.split()[0],
                "target_mb": 40,
                "meets_target": memory["VmRSS"] / 1024 <= 40,
            }
        )
    )


if __name__ == "__main__":
    main()
