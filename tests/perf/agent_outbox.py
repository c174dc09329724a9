"""Benchmark: UID read -> outbox commit latency, with a bare sqlite3 INSERT+COMMIT as the floor.

Usage: python tests/perf/agent_outbox.py [--events 2000] [--dir DIR]
Prints one JSON object. The agent path is Agent.on_uid, what the reader thread calls for every
card: debounce, INSERT with the fsync of synchronous=FULL, and waking the sender. The floor is
the same INSERT on a bare connection with the same pragmas, on the same filesystem; the two are
interleaved event by event so that disk hiccups hit both alike. On tmpfs fsync costs nothing:
use --dir on the disk that will hold the outbox.
"""

import argparse
import json
import socket
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from agent.config import load_config  # noqa: E402
from agent.outbox import SCHEMA, iso, utc_now  # noqa: E402
from agent.runner import Agent  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def filesystem_type(folder: Path) -> str:
    best, kind = "", "unknown"
    for line in Path("/proc/self/mounts").read_text().splitlines():
        _, mount_point, fs_type, *_ = line.split()
        if str(folder).startswith(mount_point) and len(mount_point) > len(best):
            best, kind = mount_point, fs_type
    return kind


def summary(samples_ms: list[float]) -> dict:
    ordered = sorted(samples_ms)

    def pct(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))], 3)

    return {
        "p50": pct(50),
        "p95": pct(95),
        "p99": pct(99),
        "max": round(ordered[-1], 3),
        "mean": round(statistics.fmean(ordered), 3),
    }


def bare_connection(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")
    db.executescript(SCHEMA)
    return db


def agent_for(path: Path) -> Agent:
    config = load_config(
        {
            "SERVER_URL": "http://127.0.0.1:9",
            "ALLOW_INSECURE_HTTP": "1",
            "STATION_TOKEN": "benchmark",
            "READER": "stdin",
            "OUTBOX_PATH": str(path),
            "STATUS_PORT": str(free_port()),
        }
    )
    return Agent(config)  # not started: no sender competes, as on a quiet kiosk


def measure(folder: Path, events: int) -> tuple[list[float], list[float]]:
    db = bare_connection(folder / "bare.db")
    agent = agent_for(folder / "outbox.db")
    floor, path = [], []
    for n in range(events):
        uid = f"04{n:012X}"  # all different: each one is saved, none debounced
        started = time.perf_counter()
        db.execute(
            "INSERT INTO events (id, uid, read_at) VALUES (?, ?, ?)",
            (str(uuid.uuid4()), uid, iso(utc_now())),
        )
        floor.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        agent.on_uid(uid)
        path.append((time.perf_counter() - started) * 1000)
    assert agent.outbox.depth() == events
    agent.status_server.server_close()
    agent.outbox.close()
    db.close()
    return path, floor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--dir", type=Path, default=None, help="where the databases go")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as folder:
        folder = Path(folder)
        agent, floor = measure(folder, args.events)
        fs_type = filesystem_type(folder)
    agent_summary = summary(agent)
    print(
        json.dumps(
            {
                "benchmark": "agent_outbox",
                "events": args.events,
                "directory": str(folder.parent),
                "filesystem": fs_type,
                "pragmas": {"journal_mode": "wal", "synchronous": "FULL"},
                "read_to_commit_ms": agent_summary,
                "bare_sqlite_insert_commit_ms": summary(floor),
                "target_p99_ms": 5.0,
                "meets_target": agent_summary["p99"] <= 5.0,
            }
        )
    )


if __name__ == "__main__":
    main()
