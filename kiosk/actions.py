"""What a person does at a kiosk or for a kiosk besides tapping: undo, end, enrol."""

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from inventory.core.errors import DomainError
from inventory.employees.models import Employee
from inventory.items.models import Item
from inventory.loans import services
from inventory.loans.models import Door
from kiosk import broadcast, pairing, state
from kiosk.models import Station


def undo_last_borrow(*, station: Station, loan_id: int) -> bool:
    """Cancel the borrow the screen's undo button names (a mis-tap), if it is still the
    station's last borrow and less than a minute old. A screen that was behind must not undo
    someone else's borrow made since; it is brought up to date whatever happens."""
    with transaction.atomic():
        station = state.lock(station.pk)
        transaction.on_commit(lambda: broadcast.station_changed(station.pk), robust=True)
        loan = station.undoable_loan
        if (
            loan is None
            or loan.pk != loan_id
            or not station.undo_expires_at
            or timezone.now() >= station.undo_expires_at
        ):
            return False
        station.undoable_loan, station.undo_expires_at = None, None
        state.save(station)
        try:
            services.cancel_loan(
                loan=loan, door=Door.KIOSK, station=station, reason=_("Undone at the kiosk")
            )
        except DomainError:
            return False  # already returned or cancelled elsewhere: nothing to undo
    return True


def end_session(*, station: Station, employee_id: int) -> bool:
    """End the session the screen's button names, if it is still open: not the session of
    whoever badged in since the screen was last brought up to date."""
    with transaction.atomic():
        station = state.lock(station.pk)
        transaction.on_commit(lambda: broadcast.station_changed(station.pk), robust=True)
        if station.session_employee_id != employee_id:
            return False
        station.session_employee = station.session_expires_at = None
        state.save(station)
    return True


def start_enrolment(
    *,
    station: Station,
    employee: Employee | None = None,
    item: Item | None = None,
    replace: bool = False,
) -> datetime.datetime:
    """The next tag tapped on `station` within a minute is bound to `employee` or `item`
    (with `replace`, the owner's old tags are deactivated in the same step). The kiosk shows
    a banner meanwhile and does not treat that tap as a loan. Returns the deadline."""
    if (employee is None) == (item is None):
        raise ValueError("start_enrolment needs exactly one of employee or item")
    deadline = timezone.now() + state.ENROL_WINDOW
    with transaction.atomic():
        station = state.lock(station.pk)
        station.enrol_employee, station.enrol_item = employee, item
        station.enrol_replace, station.enrol_expires_at = replace, deadline
        state.save(station)
        transaction.on_commit(lambda: broadcast.station_changed(station.pk), robust=True)
    return deadline


def create_station(*, name: str, location: str = "") -> tuple[Station, str, str]:
    """A new station with its agent token and a pairing code (both shown only now)."""
    with transaction.atomic():
        station = Station(name=name, location=location)
        token = station.issue_token()
        station.save()
        code = pairing.start_pairing(station)
    return station, token, code


def rotate_token(*, station: Station) -> str:
    """A new agent token; the old one stops working at once."""
    token = station.issue_token()
    station.save(update_fields=["token_hash", "token_created_at", "revoked_at"])
    return token


def revoke_token(*, station: Station) -> None:
    Station.objects.filter(pk=station.pk).update(revoked_at=timezone.now())
