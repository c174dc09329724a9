"""What a person does at a kiosk or for a kiosk besides tapping: the screen's buttons (undo, take
over, report damage, done, the answers to a check before use) and enrolment."""

import datetime
import functools

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from inventory.core.errors import DomainError, InspectionFailed
from inventory.employees.models import Employee
from inventory.items.models import Item
from inventory.loans import services
from inventory.loans.models import Door
from kiosk import broadcast, pairing, state
from kiosk.models import Change, Station
from kiosk.screen import Card


def undo_last_change(*, station: Station, loan_id: int) -> bool:
    """Undo the change the screen's undo button names (a mis-tap): a borrow or a take-over is
    cancelled, a return reopened (unless the tool was lent again since)."""
    return _press(station, _undo, loan_id=loan_id)


def take_over(*, station: Station, loan_id: int, employee_id: int) -> bool:
    """Lend the tool just returned from a colleague to the person whose session is open, as a
    handover from that colleague: the explicit step by which custody moves between people."""
    return _press(station, _take_over, loan_id=loan_id, employee_id=employee_id)


def report_damage(*, station: Station, loan_id: int) -> bool:
    """Say that the tool just returned is damaged: it goes to maintenance. Who said so is the
    person whose session is open, else the person it was returned from."""
    return _press(station, _report_damage, loan_id=loan_id)


def end_session(*, station: Station, employee_id: int) -> bool:
    """End the session the screen's Done button names."""
    return _press(station, _end_session, employee_id=employee_id)


def answer_checklist(
    *, station: Station, item_id: int, employee_id: int, answers: list[bool]
) -> bool:
    """Answer the check before use the screen asks (True = OK, one per check in order): all
    OK lends the tool, with the inspection kept as the loan's; any NG refuses it, keeps the
    answers and sends the tool to maintenance (the loan services decide both)."""
    return _press(
        station, _answer_checklist, item_id=item_id, employee_id=employee_id, answers=answers
    )


def _press(station: Station, act, **named) -> bool:
    """A button names what it acts on as its screen showed it. With the station locked, `act`
    does it if it still holds and returns the card the screen shows, or None when the station
    has moved on (a screen that was behind must not undo, end or hand over what someone did
    since). The screen is brought up to date either way. True when it was done."""
    with transaction.atomic():
        station = state.lock(station.pk, *state.RELATED)
        card = act(station, timezone.now(), **named)
        transaction.on_commit(
            functools.partial(broadcast.station_changed, station.pk, card=card), robust=True
        )
    return card is not None and card.kind != "refused"


def _undo(station: Station, now: datetime.datetime, *, loan_id: int) -> Card | None:
    change = state.last_change(station, now)
    if change is None or change[1].pk != loan_id:
        return None
    kind, loan = change
    state.withdraw_offers(station)
    state.save(station)
    undo = services.reopen_loan if kind == Change.RETURN else services.cancel_loan
    try:
        undo(loan=loan, door=Door.KIOSK, station=station, reason=_("Undone at the kiosk"))
    except DomainError as refusal:
        return Card.refused(refusal)  # the tool moved on through another door meanwhile
    return Card(f"undone_{kind}", loan=loan)


def _take_over(
    station: Station, now: datetime.datetime, *, loan_id: int, employee_id: int
) -> Card | None:
    offer = state.take_over_offer(station, now)
    if offer is None or (offer[0].pk, offer[1].pk) != (loan_id, employee_id):
        return None
    returned, taker = offer
    try:
        loan = services.take_over(
            returned=returned, employee=taker, door=Door.KIOSK, station=station, at=now
        )
    except DomainError as refusal:
        return Card.refused(refusal)
    state.changed(station, Change.TAKE_OVER, loan, now)
    station.session_expires_at = now + state.session_window()
    state.save(station)
    return Card("taken_over", loan=loan, employee=returned.employee)


def _report_damage(station: Station, now: datetime.datetime, *, loan_id: int) -> Card | None:
    returned = state.returned_loan(station, now)
    if returned is None or returned.pk != loan_id:
        return None
    reporter = state.session_employee(station, now) or returned.employee
    try:
        services.report_damage(
            loan=returned, door=Door.KIOSK, station=station, reported_by=reporter, at=now
        )
    except DomainError as refusal:
        return Card.refused(refusal)
    # The return now stands as damaged: nothing about it is offered any more at the kiosk.
    state.withdraw_offers(station)
    state.save(station)
    return Card("damage_reported", loan=returned)


def _answer_checklist(
    station: Station,
    now: datetime.datetime,
    *,
    item_id: int,
    employee_id: int,
    answers: list[bool],
) -> Card | None:
    question = state.checklist(station, now)
    if question is None or (question.item.pk, question.employee.pk) != (item_id, employee_id):
        return None  # answered already, timed out, or someone else badged in since
    if len(answers) != len(question.checks):
        return None  # a form for other checks than those asked
    state.withdraw_checklist(station)
    station.session_expires_at = now + state.session_window()
    try:
        loan = services.borrow(
            item=question.item,
            employee=question.employee,
            door=Door.KIOSK,
            station=station,
            at=now,
            answers=answers,
        )
    except InspectionFailed as refusal:
        # Raised after the service kept the answers and sent the tool to maintenance: caught
        # inside this transaction, so both are committed with the station's state.
        failed = tuple(check for check, ok in zip(question.checks, answers, strict=True) if not ok)
        card = Card("inspection_failed", refusal=refusal, failed=failed)
    except DomainError as refusal:
        card = Card.refused(refusal)  # the tool or the person changed since it was asked
    else:
        state.changed(station, Change.BORROW, loan, now)
        card = Card("borrowed", loan=loan)
    state.save(station)
    return card


def _end_session(station: Station, now: datetime.datetime, *, employee_id: int) -> Card | None:
    if station.session_employee_id != employee_id:
        return None  # the session of whoever badged in since the screen was brought up to date
    employee = station.session_employee
    station.session_employee = station.session_expires_at = None
    state.withdraw_checklist(station)
    state.save(station)
    return Card("session_ended", employee=employee)


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
