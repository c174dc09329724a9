"""Soak: 20 kiosks of realistic traffic against the real server for a chosen time, with random
faults from the fault suite's toolbox (tests/faults/proxy.py), then an audit of every tap.

    DATABASE_URL=postgres://… REDIS_URL=redis://… python tests/perf/soak.py --minutes 30

Two daphne processes behind a round-robin balancer, a huey consumer, PostgreSQL and Redis
behind proxies; 20 `python -m agent` processes (stdin reader). At each kiosk a person comes by
every 10 to 60 s, taps their badge, takes or brings back one to three tools a second or two
apart, and taps the badge again. Every 1 to 3 minutes one fault, chosen at random, lasts 3 to
20 s: PostgreSQL or Redis cut or paused, or a web process killed with SIGKILL and restarted.

Prints one JSON object: taps read, applied, duplicates and lost (both must be 0), taps whose
recorded read time is out of the order they were read in, outcomes that differ from the tap
rules (must be 0, the first ten shown), the faults, the p99 of request waits at the
balancer per minute, and the resident memory of each server process per minute (must stay
flat). Not part of the test suite: it takes as long as it is told to.
"""

import argparse
import json
import os
import random
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

import django

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
# The tap model reads the demo's UIDs from the kiosk app: Django is set up, never used here.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", "soak-benchmark-only-secret-key-0123456789-abcdefghijkl")
os.environ.setdefault("VAR_DIR", tempfile.mkdtemp(prefix="toolcrib-soak-var-"))
django.setup()

from tests.agent.conftest import AgentProcess  # noqa: E402
from tests.agent.live_kiosk import Kiosk, Kit, agent_env, create_station, outbox_rows  # noqa: E402
from tests.faults.conftest import faulty_server  # noqa: E402
from tests.faults.proxy import FaultProxy  # noqa: E402

STATIONS = 20
TOOLS_PER_PERSON = 3
STARTED = time.monotonic()

# Runs inside `manage.py shell -c`: one person and three tools per station, with tags.
_PEOPLE = """
from inventory.employees.models import Employee
from inventory.items.models import Item, Tag
for n in range({stations}):
    person = Employee.objects.create(code=f"S{{n:04}}", name=f"Soak {{n}}")
    Tag.objects.create(uid=f"50A0{{n:010X}}", employee=person)
    for t in range({tools}):
        tool = Item.objects.create(code=f"ST{{n:03}}-{{t}}", name=f"Soak tool {{n}}-{{t}}")
        Tag.objects.create(uid=f"50B0{{n * 10 + t:010X}}", item=tool)
"""

_SCANS = """
import json
from kiosk.models import ScanEvent
print(json.dumps([
    [str(s.id), s.station_id, s.status, s.outcome, s.uid, s.live, s.read_at.isoformat(),
     s.received_at.isoformat(), s.message]
    for s in ScanEvent.objects.filter(station__name__startswith="Soak ").order_by("read_at")
]))
"""


def kit(n: int) -> Kit:
    return Kit(
        badge=f"50A0{n:010X}",
        tools=[f"50B0{n * 10 + t:010X}" for t in range(TOOLS_PER_PERSON)],
        unknown=f"0BAD{n:04X}",
    )


class Person:
    """One kiosk's traffic, and what the tap rules say each tap does."""

    def __init__(self, station: dict, env: dict, kit: Kit, rng: random.Random):
        self.station, self.outbox = station, env["OUTBOX_PATH"]
        self.agent = AgentProcess(env, stdin=True)
        self.kit, self.rng = kit, rng
        self.model = Kiosk(kit)
        self.uids: list[str] = []
        self.outcomes: list[str] = []

    def tap(self, uid: str) -> None:
        self.agent.tap(uid)
        self.uids.append(uid)
        self.outcomes.append(self.model.tap(uid))

    def run(self, until: float, stop: threading.Event) -> None:
        stop.wait(self.rng.uniform(0, 30))
        while time.monotonic() < until and not stop.is_set():
            self.tap(self.kit.badge)
            for tool in self.rng.sample(self.kit.tools, self.rng.randint(1, len(self.kit.tools))):
                stop.wait(self.rng.uniform(1, 2.5))
                self.tap(tool)
            if self.rng.random() < 0.05:
                stop.wait(1)
                self.tap(self.kit.unknown)
            stop.wait(self.rng.uniform(1, 2))
            self.tap(self.kit.badge)
            stop.wait(self.rng.uniform(10, 60))


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def p99(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 1)


def inject_faults(server, database, redis, rng, until, stop, faults: list) -> None:
    kinds = ["database cut", "database pause", "redis cut", "redis pause", "web kill -9"]
    while not stop.wait(rng.uniform(60, 180)) and time.monotonic() < until - 30:
        kind = rng.choice(kinds)
        seconds = round(rng.uniform(3, 20), 1)
        faults.append({"at_s": round(time.monotonic() - STARTED), "fault": kind, "s": seconds})
        if kind == "web kill -9":
            index = rng.randrange(len(server.ports))
            server.kill(index)
            stop.wait(seconds)
            server.restart(index)
            continue
        proxy = database if kind.startswith("database") else redis
        proxy.cut() if kind.endswith("cut") else proxy.pause()
        stop.wait(seconds)
        proxy.restore()


def sample(server, balancer, minutes: list, stop: threading.Event) -> None:
    seen = 0
    while not stop.wait(60):
        waits = [seconds for seconds, *_ in balancer.waits[seen:]]
        seen += len(waits)
        processes = [*server.processes, server.huey_process]
        minutes.append(
            {
                "minute": len(minutes) + 1,
                "requests": len(waits),
                "p99_ms": p99(waits),
                "max_ms": round(max(waits) * 1000, 1) if waits else None,
                "rss_mb": {
                    **{f"web{n}": rss_mb(p.pid) for n, p in enumerate(server.processes)},
                    "huey": rss_mb(processes[-1].pid) if processes[-1] else None,
                },
            }
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--stations", type=int, default=STATIONS)
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres") or not os.environ.get(
        "REDIS_URL"
    ):
        sys.exit("soak needs DATABASE_URL=postgres://… and REDIS_URL=redis://…")
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="toolcrib-soak-"))
    database = FaultProxy(
        ("127.0.0.1", int(os.environ["DATABASE_URL"].split(":")[-1].split("/")[0]))
    )
    redis = FaultProxy(("127.0.0.1", int(os.environ["REDIS_URL"].split(":")[-1].split("/")[0])))
    database.start(), redis.start()
    server = faulty_server("soak", database, redis, processes=2, huey=True)
    server.manage("shell", "-c", _PEOPLE.format(stations=args.stations, tools=TOOLS_PER_PERSON))
    server.start()
    balancer = FaultProxy(*[("127.0.0.1", port) for port in server.ports]).start()
    url = f"http://127.0.0.1:{balancer.port}"
    people: list[Person] = []
    stop = threading.Event()
    faults: list = []
    minutes: list = []
    try:
        for n in range(args.stations):
            station = create_station(server, f"Soak {n:02}")
            env = agent_env(server, station, work, SERVER_URL=url, LOG_LEVEL="WARNING")
            people.append(Person(station, env, kit(n), random.Random(rng.random())))
        until = time.monotonic() + args.minutes * 60
        threads = [threading.Thread(target=p.run, args=(until, stop), daemon=True) for p in people]
        threads.append(
            threading.Thread(
                target=inject_faults,
                args=(server, database, redis, rng, until, stop, faults),
                daemon=True,
            )
        )
        threads.append(
            threading.Thread(target=sample, args=(server, balancer, minutes, stop), daemon=True)
        )
        for thread in threads:
            thread.start()
        for thread in threads[: len(people)]:
            thread.join()
        stop.set()
        database.restore(), redis.restore()
        deadline = time.monotonic() + 180
        for person in people:
            person.agent.wait_for_status(
                lambda s: s["outbox_depth"] == 0, timeout=max(1, deadline - time.monotonic())
            )
        print(json.dumps(audit(server, people, balancer, faults, minutes), indent=1))
    finally:
        stop.set()
        for person in people:
            person.agent.stop()
        balancer.stop()
        server.remove()
        database.stop(), redis.stop()


def audit(server, people, balancer, faults, minutes) -> dict:
    scans = json.loads(server.manage("shell", "-v0", "-c", _SCANS))
    by_station: dict[int, list] = {}
    for scan_id, station_id, status, outcome, *detail in scans:
        by_station.setdefault(station_id, []).append((scan_id, status, outcome, *detail))
    taps = lost = duplicates = reordered = 0
    wrong = []
    for person in people:
        rows = outbox_rows(person.outbox)
        server_side = by_station.get(person.station["id"], [])
        ids = [scan_id for scan_id, *_ in server_side]
        taps += len(person.uids)
        lost += len(person.uids) - len(rows)  # read but never saved by the agent
        lost += len({row["id"] for row in rows} - set(ids))  # saved but never applied
        duplicates += len(ids) - len(set(ids) & {row["id"] for row in rows})
        # Taps whose recorded read time puts them out of the order they were read in.
        order = [row["id"] for row in rows]
        reordered += sum(a != b for a, b in zip(ids, order, strict=False))
        # Compared in the agent's order: the server lists by read_at.
        by_id = {scan[0]: scan for scan in server_side}
        for row, expected in zip(rows, person.outcomes, strict=False):
            scan = by_id.get(row["id"])
            if scan is not None and scan[2] != expected:
                wrong.append(
                    {"station": person.station["name"], "seq": row["seq"], "expected": expected,
                     "got": scan[2], "uid": scan[3], "live": scan[4], "read_at": scan[5],
                     "received_at": scan[6], "message": scan[7]}
                )  # fmt: skip
    waits = [seconds for seconds, *_ in balancer.waits]
    return {
        "minutes": len(minutes),
        "stations": len(people),
        "taps": taps,
        "applied": sum(1 for scan in scans if scan[2] == "applied"),
        "duplicates": duplicates,
        "lost": lost,
        "reordered": reordered,
        "wrong_outcomes": len(wrong),
        "wrong": wrong[:10],
        "requests": len(waits),
        "p99_ms": p99(waits),
        "max_wait_ms": round(max(waits) * 1000, 1) if waits else None,
        "slowest": [
            [round(seconds, 2), asked.decode(errors="replace")]
            for seconds, asked in balancer.longest_waits(5)
        ],
        "faults": faults,
        "per_minute": minutes,
    }


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    main()
