"""Recovery after a restore from the nightly archive, with the kiosks sending their taps again:

    python tests/perf/restore_replay.py [--taps 1000] [--heartbeat 15]

A crib of 50 people and 200 tools, two kiosks, and a day of work after the archive: `--taps`
taps (tests/perf/agent_replay.py's mix: visits that borrow, bring back, hand over), each visit
at one of the two kiosks, so tools borrowed at one are often returned at the other. Their
agents delivered them, but the server lost them: it is restored from the archive, taken before
them, while both agents run (their outboxes are filled with the taps as delivered before they
start). The server is daphne on SQLite, the embedded default (or the run's DATABASE_URL when
`--postgres` is given).

Measured: the restore command's duration; from its end to the moment the kiosks' taps are all
applied (both kiosks answer at their next heartbeat: `--heartbeat`, the agent's default 15 s);
and whether the open loans are then exactly those of the same taps applied in read order on a
second server as they came (one batch after another from one station): taps lost must be 0.
Prints one JSON object.
"""

import argparse
import json
import os
import random
import sqlite3
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from agent.outbox import Outbox, iso  # noqa: E402
from tests.agent.conftest import AgentProcess  # noqa: E402
from tests.agent.live_kiosk import agent_env  # noqa: E402
from tests.live_server import LiveServer  # noqa: E402
from tests.perf.agent_replay import CRIB, new_server, post_batches, taps  # noqa: E402

OPEN_LOANS = """
import json
from inventory.loans.models import Loan
print(json.dumps(sorted(Loan.objects.open().values_list("employee__code", "item__code"))))
"""
IN_USE = """
from django.utils import timezone
from kiosk.models import Station
Station.objects.update(last_seen_at=timezone.now())
"""
REPLAY = """
import json
from django.db.models import Max
from kiosk.models import Replay
replay = Replay.objects.get()
held = replay.held.all()
last_answer = replay.stations.aggregate(last=Max("answered_at"))["last"]
print(json.dumps({
    "state": replay.state,
    "first_kiosk_heard_after_restore_s": (replay.first_heard_at - replay.opened_at).total_seconds()
    if replay.first_heard_at else None,
    "last_answer_after_restore_s": (last_answer - replay.opened_at).total_seconds()
    if last_answer else None,
    "apply_seconds": (replay.applied_at - last_answer).total_seconds()
    if replay.applied_at and last_answer else None,
    "held": held.count(),
    "refused_or_rejected": held.exclude(status="applied").count()
    + held.filter(outcome="refused").count(),
}))
"""


def visits(stream: list[tuple[str, datetime]], rng: random.Random) -> list[list]:
    """The stream cut into visits (a pause of more than 30 s starts the next) and each visit
    given to kiosk 0 or 1."""
    kiosks: list[list] = [[], []]
    kiosk = 0
    for n, (uid, at) in enumerate(stream):
        if n == 0 or (at - stream[n - 1][1]).total_seconds() > 30:
            kiosk = rng.randint(0, 1)
        kiosks[kiosk].append((uid, at))
    return kiosks


def fill_delivered(path: Path, events, delivered_at: datetime) -> None:
    Outbox(path).close()  # the agent's own schema
    with sqlite3.connect(path) as db:
        db.executemany(
            "INSERT INTO events (id, uid, read_at, state, settled_at) "
            "VALUES (?, ?, ?, 'delivered', ?)",
            [(str(uuid.uuid4()), uid, iso(at), iso(delivered_at)) for uid, at in events],
        )


def open_loans(server: LiveServer) -> list:
    return json.loads(server.manage("shell", "-v0", "-c", OPEN_LOANS))


def restored_with_replay(stream, heartbeat: float, work: Path) -> dict:
    server = LiveServer("bench_restore_replay", env={"REPLAY_WAIT_SECONDS": "600"}).setup()
    agents = []
    try:
        server.manage("shell", "-v0", "-c", CRIB)
        stations = [
            json.loads(server.manage("create_station", f"Kiosk {n}", "--json")) for n in (0, 1)
        ]
        # Both kiosks were heard from before the archive: the replay waits for them.
        server.manage("shell", "-v0", "-c", IN_USE)
        server.start()
        envs = [
            agent_env(server, station, work, HEARTBEAT_SECONDS=str(heartbeat), LOG_LEVEL="WARNING")
            for station in stations
        ]
        archive = Path(server.manage("backup").strip().splitlines()[-1])
        for env, events in zip(envs, visits(stream, random.Random(18)), strict=True):
            fill_delivered(Path(env["OUTBOX_PATH"]), events, datetime.now(UTC))
        agents = [AgentProcess(env, stdin=True) for env in envs]
        for agent in agents:
            agent.wait_for_status(lambda s: s["server_reachable"])
        started = time.perf_counter()
        server.manage("restore", "--no-input", str(archive))
        restored = time.perf_counter()
        deadline = restored + 600
        while json.loads(server.manage("shell", "-v0", "-c", REPLAY))["state"] != "applied":
            if time.perf_counter() > deadline:
                raise RuntimeError("the replay was not applied within 10 minutes")
            time.sleep(0.5)
        applied = time.perf_counter()
        return {
            "restore_command_seconds": round(restored - started, 1),
            "restore_end_to_taps_applied_seconds": round(applied - restored, 1),
            "replay": json.loads(server.manage("shell", "-v0", "-c", REPLAY)),
            "open_loans": open_loans(server),
        }
    finally:
        for agent in agents:
            agent.stop()
        server.remove()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--taps", type=int, default=1000)
    parser.add_argument("--heartbeat", type=float, default=15.0)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    if not args.postgres:
        os.environ.pop("DATABASE_URL", None)
        os.environ.pop("REDIS_URL", None)
    stream = taps(args.taps)
    with tempfile.TemporaryDirectory(prefix="toolcrib-restore-replay-") as work:
        measured = restored_with_replay(stream, args.heartbeat, Path(work))
    floor_server, station = new_server("bench_restore_floor")
    try:
        post_batches(floor_server, station, stream, 100)
        expected = open_loans(floor_server)
    finally:
        floor_server.remove()
    loans = measured.pop("open_loans")
    print(
        json.dumps(
            {
                "taps": args.taps,
                "kiosks": 2,
                "heartbeat_seconds": args.heartbeat,
                "database": "postgresql" if args.postgres else "sqlite",
                **measured,
                "open_loans": len(loans),
                "open_loans_as_without_the_restore": loans == expected,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
