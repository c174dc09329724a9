"""The agent with the real server: stations made by `manage.py create_station`, agents pointed at
a LiveServer, and what the server recorded read back through `manage.py shell`.

The test process never opens the server's database itself: the same `manage.py` the operator
uses reads it, so this works alike on PostgreSQL and on SQLite.
"""

import json
import os
from pathlib import Path

from tests.agent.conftest import free_port
from tests.live_server import LiveServer


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
from kiosk.models import ScanEvent
scans = ScanEvent.objects.select_related("station").order_by("station_id", "read_at")
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
         "open": l.returned_at is None and l.cancelled_at is None}
        for l in loans
    ],
}))
"""


def server_records(server: LiveServer) -> dict:
    """Every ScanEvent (per station, in read_at order) and every Loan the server holds."""
    return json.loads(server.manage("shell", "-v0", "-c", _RECORDS))
