"""A station's tap state: whose session is open, which tools wait for a badge, the last UID read,
the last change the screen can undo, the check before use the screen asks, the tag being enrolled;
and the time windows that bound them.

The state lives on the Station row. It is read and written only with that row locked (`lock`),
so the taps, buttons and enrolments of one kiosk happen one after another whichever server
process handles them. `save` is its one writer: every save counts one more `state_version`, by
which the kiosk page tells a state it fetched from a newer one that was pushed meanwhile.
"""

import datetime
import functools
from dataclasses import dataclass

from django.conf import settings

from inventory.employees.models import Employee
from inventory.items.models import Item
from inventory.loans.models import Loan
from kiosk.models import Change, Station

# A UID read again within this long is the same card left on the reader, not a new tap.
REPEAT_WINDOW = datetime.timedelta(seconds=2)
# How long the screen offers to undo the last change (a mis-tap), and after a return to report
# damage or to take the tool over.
UNDO_WINDOW = datetime.timedelta(seconds=60)
# How long a kiosk waits for the tag an administrator asked to enrol there.
ENROL_WINDOW = datetime.timedelta(seconds=60)

# What the tap rules and the screen read of the state's relations, loaded with the station: the
# session's person, the loan of the last change with its tool and person, and the tool and person
# of the check before use asked.
RELATED = (
    "session_employee",
    "undoable_loan__item",
    "undoable_loan__employee",
    "checklist_item",
    "checklist_employee",
)

# The columns a tap, a button or an enrolment writes.
FIELDS = [
    "session_employee",
    "session_expires_at",
    "waiting_items",
    "waiting_expires_at",
    "last_uid",
    "last_uid_at",
    "undoable_loan",
    "undo_change",
    "undo_expires_at",
    "enrol_employee",
    "enrol_item",
    "enrol_replace",
    "enrol_expires_at",
    "checklist_item",
    "checklist_employee",
    "checklist_checks",
    "checklist_expires_at",
]


def session_window() -> datetime.timedelta:
    """A session lasts this long after the person's last tap."""
    return datetime.timedelta(seconds=settings.KIOSK_SESSION_SECONDS)


def lock(station_id: int, *related: str) -> Station:
    """The station, its row locked until the transaction ends, with `related` rows loaded."""
    stations = Station.objects.select_for_update()
    if not related:
        return stations.get(pk=station_id)
    # Lock, then read. A row joined into the locking statement would be the one PostgreSQL saw
    # before waiting for the lock (it re-reads only the locked row): a session opened by the
    # batch we waited for would look absent. The lock reads which relations are set, and only
    # those are joined: a null one is None without a query, and each join costs ~0.2 ms of CPU
    # (all five 1.6 ms, none 0.6 ms), a tap's read usually needs three.
    first = sorted({name.split("__")[0] for name in related})
    ids = stations.filter(pk=station_id).values_list(*(f"{name}_id" for name in first)).get()
    unset = {name for name, pk in zip(first, ids, strict=True) if pk is None}
    joined = [name for name in related if name.split("__")[0] not in unset]
    return Station.objects.select_related(*joined).get(pk=station_id)


def save(station: Station, *, also: tuple[str, ...] = ()) -> None:
    """Write the tap state (and the `also` fields) of a station locked by `lock`."""
    station.state_version += 1  # the row is locked: nothing else counts at the same time
    station.save(update_fields=[*FIELDS, *also, "state_version"])


def snapshot(station: Station) -> dict:
    """The state's column values (session_employee_id…): reading them never loads a row."""
    return {name: getattr(station, name) for name in _attnames()}


def restore(station: Station, values: dict) -> None:
    for name, value in values.items():
        setattr(station, name, value)  # an id that changes drops its cached object


def session_employee(station: Station, at: datetime.datetime):
    """Whose session is open on the station at `at`, or None."""
    if (
        station.session_employee_id
        and station.session_expires_at
        and at < station.session_expires_at
    ):
        return station.session_employee
    return None


def waiting_items(station: Station, at: datetime.datetime) -> list[int]:
    """The ids of the tools tapped before a badge, in the order tapped, still waiting at `at`."""
    if station.waiting_expires_at and at < station.waiting_expires_at:
        return station.waiting_items
    return []


def add_waiting(station: Station, item_id: int, at: datetime.datetime) -> None:
    """One more tool waits for a badge; the tray waits a session window after its last tool."""
    waiting = waiting_items(station, at)
    station.waiting_items = waiting if item_id in waiting else [*waiting, item_id]
    station.waiting_expires_at = at + session_window()


def take_waiting(station: Station, at: datetime.datetime) -> list[int]:
    """The waiting tools, for the badge that borrows them: the tray is empty afterwards."""
    waiting = waiting_items(station, at)
    station.waiting_items, station.waiting_expires_at = [], None
    return waiting


def last_change(station: Station, at: datetime.datetime) -> tuple[str, Loan] | None:
    """(Change, loan): the station's last change, while the screen offers to undo it."""
    expires = station.undo_expires_at
    if station.undo_change and station.undoable_loan_id and expires and at < expires:
        return station.undo_change, station.undoable_loan
    return None


def changed(station: Station, change: Change, loan: Loan, at: datetime.datetime) -> None:
    """The station just made `change` to `loan`: the one its screen offers to undo now."""
    station.undoable_loan, station.undo_change = loan, change
    station.undo_expires_at = at + UNDO_WINDOW


def withdraw_offers(station: Station) -> None:
    """The screen stops offering to undo the last change (or anything else about it)."""
    station.undoable_loan, station.undo_change, station.undo_expires_at = None, "", None


def returned_loan(station: Station, at: datetime.datetime) -> Loan | None:
    """The loan the station's last change returned, while its screen offers to report damage."""
    change = last_change(station, at)
    return change[1] if change and change[0] == Change.RETURN else None


def take_over_offer(station: Station, at: datetime.datetime) -> tuple[Loan, Employee] | None:
    """(returned loan, taker): a tool just returned from its holder in the session of someone
    else, whom the screen asks whether to take it over."""
    returned, taker = returned_loan(station, at), session_employee(station, at)
    if returned is not None and taker is not None and returned.employee_id != taker.pk:
        return returned, taker
    return None


@dataclass(frozen=True)
class Checklist:
    """The check before use the screen asks `employee` about `item`: its `checks` in order."""

    item: Item
    employee: Employee
    checks: list[str]


def checklist(station: Station, at: datetime.datetime) -> Checklist | None:
    """The check before use the screen asks at `at`: until it runs out, and only while the
    session of the person who tapped the tool is open (Done, or another badge, ends it)."""
    expires = station.checklist_expires_at
    asked = station.checklist_item_id and expires and at < expires
    session = station.session_expires_at and at < station.session_expires_at
    if not (asked and session and station.session_employee_id == station.checklist_employee_id):
        return None
    return Checklist(station.checklist_item, station.checklist_employee, station.checklist_checks)


def ask_checklist(
    station: Station, *, item: Item, employee: Employee, checks: list[str], at: datetime.datetime
) -> None:
    """The screen asks `employee` the `checks` of `item` for a session window: one question
    at a time, so a tool tapped later replaces the one asked before."""
    station.checklist_item, station.checklist_employee = item, employee
    station.checklist_checks = list(checks)
    station.checklist_expires_at = at + session_window()


def withdraw_checklist(station: Station) -> None:
    """The screen stops asking the check before use (answered, or its person has gone)."""
    station.checklist_item = station.checklist_employee = station.checklist_expires_at = None
    station.checklist_checks = []


def enrolling(station: Station, at: datetime.datetime) -> bool:
    """Whether the next UID read at `at` is to be enrolled rather than taken as a tap."""
    return bool(station.enrol_expires_at and at < station.enrol_expires_at)


@functools.cache
def _attnames() -> list[str]:
    return [Station._meta.get_field(field).attname for field in FIELDS]
