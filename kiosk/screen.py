"""What a kiosk screen shows: one context builder for the page, its refreshes and its pushes."""

import datetime

from django.conf import settings
from django.utils import timezone

from inventory.loans.models import Loan
from kiosk import demo, state
from kiosk.models import ScanEvent, Station

Outcome = ScanEvent.Outcome


def load_station(station_id: int) -> Station:
    return Station.objects.select_related(
        "session_employee", "waiting_item", "enrol_employee", "enrol_item", "undoable_loan__item"
    ).get(pk=station_id)


def screen_context(
    station: Station,
    *,
    result: ScanEvent | None = None,
    late_count: int = 0,
    monitor: bool = False,
    now: datetime.datetime | None = None,
) -> dict:
    """Everything the `state` partial renders. Queries: with a session open, the person's open
    loans with their tools; without one, the count of all tools out (no names on the idle
    screen). Station relations are read only when they are shown."""
    now = now or timezone.now()
    employee = state.session_employee(station, now)
    holdings = (
        list(
            Loan.objects.open().filter(employee=employee).select_related("item").order_by("due_at")
        )
        if employee
        else []
    )
    tools_out = None if employee else Loan.objects.open().count()
    deadlines = {
        "session": station.session_expires_at if employee else None,
        "waiting": station.waiting_expires_at if state.waiting_item(station, now) else None,
        "undo": station.undo_expires_at if station.undoable_loan_id else None,
        "enrol": station.enrol_expires_at if state.enrolling(station, now) else None,
    }
    left = {
        name: (moment - now).total_seconds()
        for name, moment in deadlines.items()
        if moment and moment > now
    }
    return {
        "station": station,
        "now": now,
        "employee": employee,
        "holdings": holdings,
        "tools_out": tools_out,
        "waiting_item": station.waiting_item if "waiting" in left else None,
        "undo_loan": station.undoable_loan if "undo" in left else None,
        "enrol_target": (station.enrol_employee or station.enrol_item) if "enrol" in left else None,
        "seconds_left": left,
        # The page asks for a fresh state when the first of these runs out.
        "refresh_in_ms": int(min(left.values()) * 1000) + 300 if left else None,
        # A repeat read is not news: the previous result stays on the screen.
        "result": None if result and result.outcome == Outcome.IGNORED_REPEAT else result,
        "late_count": late_count,
        "reader": _reader(station, now),
        "monitor": monitor,
        "demo": _demo_panel() if settings.KIOSK_DEMO and not monitor else None,
        "agent_status_url": settings.KIOSK_AGENT_STATUS_URL,
    }


def reader_context(station_id: int) -> dict:
    station = Station.objects.get(pk=station_id)
    return {"station": station, "reader": _reader(station, timezone.now())}


def _reader(station: Station, now: datetime.datetime) -> dict:
    age = (now - station.last_seen_at).total_seconds() if station.last_seen_at else None
    silent = not station.is_online(now)
    return {
        "age": age,
        # The page keeps counting while no heartbeat is pushed to it.
        "silent_after_ms": int(Station.offline_after().total_seconds() * 1000),
        # None means the agent never said (no heartbeat yet): not a reason to alarm anyone.
        "ok": station.reader_connected is not False and not silent,
        "silent": silent,
        "name": station.reader_name,
        "demo": settings.KIOSK_DEMO,
    }


def _demo_panel() -> dict:
    badges = [(demo.badge_uid(n), row[1]) for n, row in enumerate(demo.EMPLOYEES, start=1)]
    tools = [(demo.tool_uid(n), row[1]) for n, row in enumerate(demo.ITEMS, start=1)]
    return {"badges": badges[:6], "tools": tools[:8]}
