"""The agent with the real server: stations made by `manage.py create_station`, agents pointed at
a LiveServer, and what the server recorded read back through `manage.py shell`.

The test process never opens the server's database itself: the same `manage.py` the operator
uses reads it, so this works alike on PostgreSQL and on SQLite.
"""

import json
import os
import random
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from kiosk import demo
from tests.agent.conftest import free_port
from tests.live_server import LiveServer

SESSION_SECONDS = 30  # the server's default KIOSK_SESSION_SECONDS


def create_station(server: LiveServer, name: str) -> dict:
    """{"id", "name", "token", "pair_url"}, as an administrator would get them."""
    return json.loads(server.manage("create_station", name, "--json"))


def agent_env(server: LiveServer, station: dict, directory: Path, **overrides: str) -> dict:
    """`python -m agent` settings for one station; READER=stdin unless overridden."""
    env = {key: value for key, value in os.environ.items() if key != "JOURNAL_STREAM"}
    env.update(
        SERVER_URL=server.url,
        ALLOW_INSECURE_HTTP="1",
        STATION_TOKEN=station["token"],
        OUTBOX_PATH=str(directory / f"outbox-{station['id']}.db"),
        READER="stdin",
        STATUS_PORT=str(free_port()),
        PYTHONUNBUFFERED="1",
    )
    env.update(overrides)
    return env


# Runs inside `manage.py shell -c`; prints one JSON object.
_RECORDS = """
import json
from inventory.loans.models import Loan
from kiosk.models import ScanEvent, Station
scans = ScanEvent.objects.select_related("station").order_by("station_id", "read_at")
stations = Station.objects.order_by("pk")
loans = Loan.objects.select_related("employee", "item").order_by("pk")
print(json.dumps({
    "scans": [
        {"id": str(s.id), "station": s.station_id, "uid": s.uid, "status": s.status,
         "outcome": s.outcome, "live": s.live, "read_at": s.read_at.isoformat(),
         "received_at": s.received_at.isoformat()}
        for s in scans
    ],
    "loans": [
        {"employee": l.employee.code, "item": l.item.code,
         "open": l.returned_at is None and l.cancelled_at is None,
         "borrowed_at": l.borrowed_at.isoformat(),
         "returned_at": l.returned_at and l.returned_at.isoformat(), "station": l.station_id}
        for l in loans
    ],
    "stations": {s.pk: s.state_version for s in stations},
}))
"""


def server_records(server: LiveServer) -> dict:
    """Every ScanEvent (per station, in read_at order), every Loan the server holds, and each
    station's state_version (what its screen must show)."""
    return json.loads(server.manage("shell", "-v0", "-c", _RECORDS))


@dataclass
class Kit:
    """One station's person, tools and an unregistered tag. `refused` tools cannot be lent
    (demo tool 3 is overdue for calibration, tool 6 is in maintenance)."""

    badge: str
    tools: list[str]
    refused: list[str] = field(default_factory=list)
    unknown: str = ""


KITS = [
    Kit(demo.badge_uid(1), [demo.tool_uid(n) for n in (1, 2, 4)], [demo.tool_uid(3)], "0BAD0001"),
    Kit(demo.badge_uid(2), [demo.tool_uid(n) for n in (5, 7, 8)], [], "0BAD0002"),
    Kit(demo.badge_uid(3), [demo.tool_uid(n) for n in (9, 10, 11)], [demo.tool_uid(6)], "0BAD0003"),
]
ITEM_CODES = {demo.tool_uid(n): row[0] for n, row in enumerate(demo.ITEMS, start=1)}
EMPLOYEE_CODES = {demo.badge_uid(n): row[0] for n, row in enumerate(demo.EMPLOYEES, start=1)}


class Kiosk:
    """The tap rules for one person at one kiosk with taps less than the session window apart:
    badge opens or closes the session, a tool in a session is borrowed or, if held, returned."""

    def __init__(self, kit: Kit):
        self.kit = kit
        self.session = False
        self.held: set[str] = set()

    def tap(self, uid: str) -> str:
        if uid == self.kit.badge:
            self.session = not self.session
            return "session_started" if self.session else "session_ended"
        if uid in self.kit.refused:
            return "refused"
        if uid in self.kit.tools:
            assert self.session, "the plan taps tools only in a session"
            if uid in self.held:
                self.held.remove(uid)
                return "returned"
            self.held.add(uid)
            return "borrowed"
        return "unknown_tag"


def plan(kit: Kit, count: int, rng: random.Random) -> tuple[list[str], list[str], set[str]]:
    """(uids, their expected outcomes, the tools held at the end) for one station.

    Never the same tag twice running: that is one tap to the agent's debounce and a repeat
    read to the server. Never a tool outside a session: that would wait for a badge.
    """
    kiosk = Kiosk(kit)
    uids: list[str] = []
    outcomes: list[str] = []
    while len(uids) < count:
        if kiosk.session:
            choices = kit.tools * 3 + kit.refused + [kit.badge, kit.unknown]
        else:
            choices = [kit.badge] * 4 + [kit.unknown]
        uid = rng.choice([c for c in choices if not uids or c != uids[-1]])
        uids.append(uid)
        outcomes.append(kiosk.tap(uid))
    return uids, outcomes, set(kiosk.held)


def outbox_rows(path) -> list[sqlite3.Row]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        db.row_factory = sqlite3.Row
        return db.execute("SELECT * FROM events ORDER BY seq").fetchall()
