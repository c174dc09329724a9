"""Loan history and checks before use as CSV: every matching row, streamed in constant memory.

Rows come from the database in chunks as plain tuples (`values_list` + `iterator`), never as
model instances or a list, and leave as encoded lines; a year of history downloads with the
memory of one chunk. Times are local (the configured TIME_ZONE) in a form Excel reads as dates.
"""

import datetime
from collections.abc import Iterator

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inventory.core.csv_text import stream_csv
from inventory.core.days import before_end_of, on_or_after
from inventory.loans.models import Door, Inspection, Loan

CHUNK = 2000

_FIELDS = [
    (_("Loan"), "pk"),
    (_("Tool code"), "item__code"),
    (_("Tool name"), "item__name"),
    (_("Employee code"), "employee__code"),
    (_("Employee name"), "employee__name"),
    (_("Department"), "employee__department"),
    (_("Borrowed at"), "borrowed_at"),
    (_("Due at"), "due_at"),
    (_("Returned at"), "returned_at"),
    (_("Cancelled at"), "cancelled_at"),
    (_("State"), None),
    (_("Station"), "station__name"),
    (_("Through"), "door"),
    (_("Return condition"), "return_condition"),
    (_("Note"), "note"),
]
_COLUMNS = [name for _label, name in _FIELDS if name]


def loans_to_export(
    *,
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
    employee: str = "",
    item: str = "",
    station: int | None = None,
    state: str = "",
    now: datetime.datetime | None = None,
):
    """Loans borrowed between the two local dates (inclusive), oldest first."""
    now = now or timezone.now()
    loans = Loan.objects.order_by("borrowed_at", "pk")
    # Ranges on the indexed column rather than `__date` lookups, which convert every row.
    if date_from and (start := on_or_after(date_from)):
        loans = loans.filter(borrowed_at__gte=start)
    if date_to and (end := before_end_of(date_to)):
        loans = loans.filter(borrowed_at__lt=end)
    if employee:
        loans = loans.filter(employee__code=employee)
    if item:
        loans = loans.filter(item__code=item)
    if station:
        loans = loans.filter(station_id=station)
    if state:
        loans = loans.in_state(state, now)
    return loans


def _local(moment: datetime.datetime | None) -> str:
    if moment is None:
        return ""
    local = moment.astimezone(timezone.get_current_timezone()).replace(tzinfo=None)
    return local.isoformat(" ", "seconds")


def export_loans(loans, *, now: datetime.datetime | None = None) -> Iterator[bytes]:
    now = now or timezone.now()
    # Translated once, not per row: a lazy label costs a catalogue lookup on every use.
    doors = {value: str(label) for value, label in Door.choices}
    conditions = {value: str(label) for value, label in Loan.Condition.choices}
    states = {key: str(label) for key, label in Loan.State.choices}
    rows = loans.values_list(*_COLUMNS).iterator(chunk_size=CHUNK)
    local = _local

    def lines():
        for row in rows:
            borrowed_at, due_at, returned_at, cancelled_at, station, door, condition, note = row[6:]
            yield (
                *row[:6],
                local(borrowed_at),
                local(due_at),
                local(returned_at),
                local(cancelled_at),
                states[
                    Loan.state_of(
                        returned_at=returned_at, cancelled_at=cancelled_at, due_at=due_at, now=now
                    )
                ],
                station or "",
                doors.get(door, door),
                conditions.get(condition, condition),
                note,
            )

    return stream_csv([label for label, _name in _FIELDS], lines())


_INSPECTION_FIELDS = [
    (_("When"), "at"),
    (_("Result"), "passed"),
    (_("Tool code"), "item_code"),
    (_("Tool name"), "item_name"),
    (_("Employee code"), "employee_code"),
    (_("Employee name"), "employee_name"),
    (_("Checks"), "answers"),
    (_("Loan"), "loan__pk"),
    (_("Through"), "door"),
    (_("Station"), "station_name"),
    (_("User"), "username"),
]


def inspections_to_export(
    *, date_from: datetime.date | None = None, date_to: datetime.date | None = None
):
    """Checks before use made between the two local dates (inclusive), oldest first."""
    inspections = Inspection.objects.order_by("at", "pk")
    if date_from and (start := on_or_after(date_from)):
        inspections = inspections.filter(at__gte=start)
    if date_to and (end := before_end_of(date_to)):
        inspections = inspections.filter(at__lt=end)
    return inspections


def export_inspections(inspections) -> Iterator[bytes]:
    results = {True: str(_("Passed")), False: str(_("Failed"))}
    doors = {value: str(label) for value, label in Door.choices}
    rows = inspections.values_list(*(name for _label, name in _INSPECTION_FIELDS))

    def lines():
        for at, passed, *who, answers, loan, door, station, user in rows.iterator(CHUNK):
            checks = "; ".join(Inspection.describe(answers))
            yield (
                _local(at),
                results[passed],
                *who,
                checks,
                loan or "",
                doors.get(door, door),
                station,
                user,
            )

    return stream_csv([label for label, _name in _INSPECTION_FIELDS], lines())
