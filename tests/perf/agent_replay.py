"""Replay of a long outage: 10,000 taps queued in one kiosk's outbox, sent to a real server.

    python tests/perf/agent_replay.py [--events 10000] [--batch-max 100]

One station (one agent, as after a kiosk's network was down for days) and a crib of 50 people and
200 tools. The outbox is filled with the agent's own schema before the agent starts (see `taps`
for the mix); all taps are late by the time they arrive and are applied by the rules on their
own read times.
The server is daphne (one process) on PostgreSQL with the run's REDIS_URL channel layer, if set.

Measured: `python -m agent` start -> its outbox has 0 pending (polled on its status endpoint
every 50 ms), and the span of the server's received_at. The floor is the same taps (new ids) on
a second, identical server database, POSTed by this script in batches of the same size on one
kept-alive connection, each batch sent when the previous answer arrived: no agent, no outbox.
Prints one JSON object.
"""

import argparse
import http.client
import json
import os
import random
import sqlite3
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import django

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
# The live kiosk kit reads the demo's UIDs from the kiosk app: Django is set up, never used here.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from agent.outbox import Outbox, iso  # noqa: E402
from tests.agent.conftest import AgentProcess  # noqa: E402
from tests.agent.live_kiosk import agent_env  # noqa: E402
from tests.live_server import LiveServer  # noqa: E402

PEOPLE, TOOLS = 50, 200


def badge(n: int) -> str:
    return f"04BB{n:010X}"


def tool(n: int) -> str:
    return f"1DBB{n:010X}"


# Runs in `manage.py shell`: the crib the taps refer to.
CRIB = f"""
from inventory.employees.models import Employee
from inventory.items.models import Item, Tag
people = Employee.objects.bulk_create(
    Employee(code=f"P{{n:04d}}", name=f"Person {{n}}") for n in range(1, {PEOPLE} + 1))
tools = Item.objects.bulk_create(
    Item(code=f"T{{n:04d}}", name=f"Tool {{n}}") for n in range(1, {TOOLS} + 1))
Tag.objects.bulk_create(
    [Tag(uid=f"04BB{{n:010X}}", employee=e) for n, e in enumerate(people, start=1)]
    + [Tag(uid=f"1DBB{{n:010X}}", item=i) for n, i in enumerate(tools, start=1)])
"""


def taps(count: int, seed: int = 1) -> list[tuple[str, datetime]]:
    """(uid, read_at) in read order, the last about a minute before now.

    Visits as at a crib counter: most take tools (badge, one to three free tools, often badge
    out), many bring tools back (the tools alone), a few take a tool someone else holds (a
    handover), and now and then an unregistered tag. Taps 2-5 s apart within a visit; visits
    35-90 s apart, so each session has run out before the next visit.
    """
    rng = random.Random(seed)
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    held: set[int] = set()
    out: list[tuple[str, datetime]] = []
    while len(out) < count:
        kind = rng.random()
        person = rng.randint(1, PEOPLE)
        free = [n for n in range(1, TOOLS + 1) if n not in held]
        if kind < 0.45 and free:
            taken = rng.sample(free, min(len(free), rng.randint(1, 3)))
            held.update(taken)
            visit = [badge(person), *map(tool, taken)]
            if rng.random() < 0.6:
                visit.append(badge(person))
        elif kind < 0.9 and held:
            returned = rng.sample(sorted(held), min(len(held), rng.randint(1, 3)))
            held.difference_update(returned)
            visit = list(map(tool, returned))
        elif held:
            visit = [badge(person), tool(rng.choice(sorted(held)))]
        else:
            continue
        if rng.random() < 0.05:
            visit.insert(0, f"0BAD{rng.randint(0, 0xFFFF):04X}")
        for uid in visit:
            moment += timedelta(seconds=rng.uniform(2, 5))
            out.append((uid, moment))
        moment += timedelta(seconds=rng.uniform(35, 90))
    shift = datetime.now(UTC) - timedelta(minutes=1) - out[count - 1][1]
    return [(uid, at + shift) for uid, at in out[:count]]


def fill_outbox(path: Path, events: list[tuple[str, datetime]]) -> None:
    Outbox(path).close()  # the agent's own schema
    with sqlite3.connect(path) as db:
        db.executemany(
            "INSERT INTO events (id, uid, read_at) VALUES (?, ?, ?)",
            [(str(uuid.uuid4()), uid, iso(at)) for uid, at in events],
        )


def new_server(name: str) -> tuple[LiveServer, dict]:
    server = LiveServer(name, env={"KIOSK_SESSION_SECONDS": "30"}).setup()
    server.manage("shell", "-v0", "-c", CRIB)
    station = json.loads(server.manage("create_station", "Replay", "--json"))
    return server.start(), station


def outcomes(server: LiveServer) -> dict:
    code = (
        "import json; from django.db.models import Count, Max, Min; "
        "from kiosk.models import ScanEvent as S; q = S.objects.all(); "
        "span = q.aggregate(a=Min('received_at'), b=Max('received_at')); "
        "print(json.dumps({'outcomes': dict(q.values_list('outcome').annotate(n=Count('id'))), "
        "'late': q.filter(live=False).count(), "
        "'server_received_span_s': (span['b'] - span['a']).total_seconds()}))"
    )
    return json.loads(server.manage("shell", "-v0", "-c", code))


def result(count: int, seconds: float, server: LiveServer) -> dict:
    rate = {"seconds": round(seconds, 2), "events_per_s": round(count / seconds, 1)}
    return rate | outcomes(server)


def replay_with_agent(events, batch_max: int, work: Path) -> dict:
    server, station = new_server("bench_replay_agent")
    try:
        env = agent_env(server, station, work, BATCH_MAX=str(batch_max), LOG_LEVEL="WARNING")
        fill_outbox(Path(env["OUTBOX_PATH"]), events)
        started = time.perf_counter()
        agent = AgentProcess(env, stdin=True)
        try:
            status = agent.wait_for_status(lambda s: s["outbox_depth"] == 0, timeout=600)
            elapsed = time.perf_counter() - started
        finally:
            agent.stop()
        return result(len(events), elapsed, server) | {"rejected": status["rejected_count"]}
    finally:
        server.remove()


def replay_direct(events, batch_max: int) -> dict:
    """The server's floor: the same batches with no agent in between."""
    server, station = new_server("bench_replay_floor")
    try:
        started = time.perf_counter()
        post_batches(server, station, events, batch_max)
        return result(len(events), time.perf_counter() - started, server)
    finally:
        server.remove()


def post_batches(server: LiveServer, station: dict, events, batch_max: int) -> None:
    """The events in batches, each sent when the previous answer arrived, on one connection."""
    connection = http.client.HTTPConnection("127.0.0.1", server.ports[0], timeout=30)
    headers = {"Authorization": f"Station {station['token']}", "Content-Type": "application/json"}
    for start in range(0, len(events), batch_max):
        batch = [
            {"id": str(uuid.uuid4()), "uid": uid, "read_at": iso(at)}
            for uid, at in events[start : start + batch_max]
        ]
        body = json.dumps({"sent_at": iso(datetime.now(UTC)), "events": batch})
        connection.request("POST", "/api/v1/kiosk/scans", body=body, headers=headers)
        answer = connection.getresponse()
        payload = answer.read()
        if answer.status != 200:
            raise RuntimeError(f"batch at {start}: {answer.status} {payload[:200]!r}")
    connection.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--batch-max", type=int, default=100)
    args = parser.parse_args()
    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/toolcrib_bench")
    events = taps(args.events)
    with tempfile.TemporaryDirectory(prefix="toolcrib-replay-") as work:
        agent = replay_with_agent(events, args.batch_max, Path(work))
    direct = replay_direct(events, args.batch_max)
    mix = Counter(
        "badge" if u.startswith("04BB") else "tool" if u.startswith("1DBB") else "unknown"
        for u, _ in events
    )
    print(
        json.dumps(
            {
                "events": args.events,
                "stations": 1,
                "batch_max": args.batch_max,
                "tap_mix": dict(mix),
                "database": os.environ["DATABASE_URL"].split(":", 1)[0],
                "channel_layer": "redis" if os.environ.get("REDIS_URL") else "in-memory",
                "cpu_count": os.cpu_count(),
                "agent_start_to_outbox_empty": agent,
                "floor_direct_posts": direct,
                "target_seconds": 20,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
