"""What a kiosk screen shows: one context builder for the page, its refreshes and its pushes."""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from inventory.core.errors import DomainError
from inventory.employees.models import Employee
from inventory.items.models import Item
from inventory.loans.models import Loan
from kiosk import demo, state
from kiosk.models import ScanEvent, Station

Outcome = ScanEvent.Outcome


@dataclass(frozen=True)
class Card:
    """The big card after a button rather than a tap: what was done, or why it was not."""

    # borrowed (a check before use answered OK), inspection_failed (answered NG), undone_borrow,
    # undone_return, undone_take_over, taken_over, damage_reported, session_ended or refused
    kind: str
    loan: Loan | None = None
    # Whom the card names besides the loan's person: who ended the session, or the colleague
    # a tool was taken over from.
    employee: Employee | None = None
    # Why it was not done (refused, inspection_failed).
    refusal: DomainError | None = None
    # The checks answered NG (inspection_failed), as the screen asked them.
    failed: tuple[str, ...] = ()

    @classmethod
    def refused(cls, refusal: DomainError) -> "Card":
        return cls("refused", refusal=refusal)


def load_station(station_id: int) -> Station:
    return Station.objects.select_related(*state.RELATED, "enrol_employee", "enrol_item").get(
        pk=station_id
    )


def screen_context(
    station: Station,
    *,
    result: ScanEvent | None = None,
    card: Card | None = None,
    late_count: int = 0,
    monitor: bool = False,
    now: datetime.datetime | None = None,
) -> dict:
    """Everything the `state` partial renders. Queries: with a session open, the person's open
    loans with their tools; without one, the count of all tools out (no names on the idle
    screen) and the tools waiting for a badge, if any. Station relations are read only when
    they are shown."""
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
    waiting = state.waiting_items(station, now)
    change = state.last_change(station, now)
    take_over = state.take_over_offer(station, now)
    enrolling = state.enrolling(station, now)
    checklist = state.checklist(station, now)
    deadlines = {
        "session": station.session_expires_at if employee else None,
        "checklist": station.checklist_expires_at if checklist else None,
        "waiting": station.waiting_expires_at if waiting else None,
        "undo": station.undo_expires_at if change else None,
        "enrol": station.enrol_expires_at if enrolling else None,
    }
    left = {
        name: (moment - now).total_seconds()
        for name, moment in deadlines.items()
        if moment and moment > now
    }
    # A repeat read is not news: the previous result stays on the screen.
    shown = None if result and result.outcome == Outcome.IGNORED_REPEAT else result
    # The tools a badge borrowed from a tray of several, refusals first, then those lent with a
    # warning: a list cut short on a small screen still shows them. (A tray of one is shown as
    # a single borrow.)
    tray = getattr(shown, "tray", [])
    tray = sorted(tray, key=_tray_order) if len(tray) > 1 else []
    return {
        "station": station,
        "now": now,
        "employee": employee,
        "holdings": holdings,
        "tools_out": tools_out,
        "waiting": _items_in_order(waiting),
        "change": change[0] if change else None,
        "change_loan": change[1] if change else None,
        "taker": take_over[1] if take_over else None,
        "checklist": checklist,
        "enrol_target": (station.enrol_employee or station.enrol_item) if enrolling else None,
        "seconds_left": left,
        # The page asks for a fresh state when the first of these runs out.
        "refresh_in_ms": int(min(left.values()) * 1000) + 300 if left else None,
        "result": shown,
        "tray": tray,
        "card": card,
        "sound": _sound(shown, tray, card),
        "late_count": late_count,
        "reader": _reader(station, now),
        "monitor": monitor,
        "default_language": settings.LANGUAGE_CODE,
        "session_seconds": settings.KIOSK_SESSION_SECONDS,
        "demo": _demo_panel() if settings.KIOSK_DEMO and not monitor else None,
        "agent_status_url": settings.KIOSK_AGENT_STATUS_URL,
    }


def reader_context(station_id: int) -> dict:
    station = Station.objects.get(pk=station_id)
    return {"station": station, "reader": _reader(station, timezone.now())}


def _sound(result: ScanEvent | None, tray: list, card: Card | None) -> str:
    """The tune the page plays with the card (kiosk.js): a refusal anywhere in a tray is heard."""
    if card is not None:
        return card.kind
    if result is None:
        return ""
    if any(line.refusal for line in tray):
        return Outcome.REFUSED
    return result.outcome or Outcome.REFUSED


def _tray_order(line) -> tuple[bool, bool]:
    return line.loan is not None, not (line.loan and line.loan.warnings)


def _items_in_order(ids: list[int]) -> list[Item]:
    if not ids:
        return []
    items = Item.objects.in_bulk(ids)
    return [items[pk] for pk in ids if pk in items]


def _reader(station: Station, now: datetime.datetime) -> dict:
    age = (now - station.last_seen_at).total_seconds() if station.last_seen_at else None
    silent_after = station.reader_silent_after().total_seconds()
    silent = age is None or age >= silent_after
    return {
        "age": age,
        # The page keeps counting while no heartbeat is pushed to it.
        "silent_after_ms": int(silent_after * 1000),
        # None means the agent never said (no heartbeat yet): not a reason to alarm anyone.
        "ok": station.reader_connected is not False and not silent,
        "silent": silent,
        "name": station.reader_name,
        "demo": settings.KIOSK_DEMO,
    }


def _demo_panel() -> dict:
    badges = [(demo.badge_uid(n), row[1]) for n, row in enumerate(demo.EMPLOYEES, start=1)]
    tools = [(demo.tool_uid(n), demo.ITEMS[n - 1][1]) for n in demo.PANEL_TOOLS]
    return {"badges": badges[:6], "tools": tools}
