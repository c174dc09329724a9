"""The tap rules: what one UID read at a station means, given that station's state.

Called by kiosk.scans with the station row locked, so the state read here (open session,
tools waiting for a badge, last UID) cannot change underneath. Every loan change goes through
inventory.loans.services; this module only decides which use case a tap is.

Custody moves only by someone's own deliberate act: a tool that is out comes back from its
holder whenever it is tapped, also in another person's session. Taking a colleague's tool over
is an explicit step the screen offers then (kiosk.actions.take_over), never a tap.

A tool whose category has a check before use is not lent by a tap: the screen asks its checks
(state.ask_checklist) and the person's answer lends it (kiosk.actions.answer_checklist). Only a
live tap asks; one recorded late, from an offline kiosk, is refused, as nobody is there to answer.
"""

import datetime
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from inventory.core.errors import (
    DomainError,
    EmployeeNotActive,
    InspectionRequired,
    TapBeforeLoan,
)
from inventory.items.models import Item, Tag
from inventory.items.services import enrol_tag
from inventory.loans import services
from inventory.loans.models import Door, Loan
from kiosk import state
from kiosk.models import Change, ScanEvent, Station

Outcome = ScanEvent.Outcome


@dataclass(frozen=True)
class Tap:
    station: Station
    event: ScanEvent
    tag: Tag | None

    @property
    def at(self) -> datetime.datetime:
        return self.event.read_at


def apply(tap: Tap) -> None:
    """Decide and apply one tap; fills in the event's outcome and the station's new state."""
    station, event = tap.station, tap.event
    if (
        station.last_uid == event.uid
        and station.last_uid_at
        and (tap.at - station.last_uid_at < state.REPEAT_WINDOW)
    ):
        station.last_uid_at = tap.at
        _done(event, Outcome.IGNORED_REPEAT, _("Same tag read again; ignored."))
        return
    station.last_uid, station.last_uid_at = event.uid, tap.at

    if state.enrolling(station, tap.at):
        _enrol(tap)
    elif tap.tag is None:
        _done(
            event,
            Outcome.UNKNOWN_TAG,
            _("Tag %(uid)s is not registered. Ask a manager to enrol it.") % {"uid": event.uid},
        )
    elif tap.tag.employee_id:
        _badge(tap)
    else:
        _tool(tap)


@dataclass(frozen=True)
class TrayTool:
    """One tool of a tray a badge borrowed: its loan, or why it could not be lent."""

    item: Item
    loan: Loan | None = None
    refusal: DomainError | None = None


def _badge(tap: Tap) -> None:
    station, event, employee = tap.station, tap.event, tap.tag.employee
    event.employee = employee
    if not employee.is_active:
        _refuse(event, EmployeeNotActive(employee=employee.name, status=employee.status_label))
        return
    if state.session_employee(station, tap.at) == employee:
        _end_session(station)
        _done(event, Outcome.SESSION_ENDED, _("Goodbye, %(name)s.") % {"name": employee.name})
        return
    # A new session starts fresh: what the screen offered about the last change (undo, take
    # over, report damage) or asked (a check before use) was for the person before.
    state.withdraw_offers(station)
    state.withdraw_checklist(station)
    station.session_employee = employee
    station.session_expires_at = tap.at + state.session_window()
    _done(event, Outcome.SESSION_STARTED, _("Hello, %(name)s.") % {"name": employee.name})
    waiting = state.take_waiting(station, tap.at)
    if waiting:
        # Any order works: the tools tapped just before this badge are borrowed now.
        _borrow_tray(tap, waiting)


def _tool(tap: Tap) -> None:
    station, event = tap.station, tap.event
    event.item = tap.tag.item
    employee = state.session_employee(station, tap.at)
    how = {"door": Door.KIOSK, "station": station, "at": tap.at}
    try:
        # One lock and one look at the tool, for the decision and for the use case it picks;
        # a refusal undoes all of it.
        with services.lock_tool(tap.tag.item_id) as tool:
            event.item, holder = tool.item, tool.open_loan
            if holder is not None and not event.live and tap.at < holder.borrowed_at:
                # A late tap older than the loan open now, which another door recorded while
                # this kiosk was offline: ending that loan would book a tool still in its
                # holder's hands as returned.
                raise TapBeforeLoan(
                    item=tool.item.name,
                    holder=holder.employee.name,
                    since=_local(holder.borrowed_at),
                )
            if employee is not None:
                station.session_expires_at = tap.at + state.session_window()
            if holder is not None:
                # Whoever's session is open: the tool comes back from the person who has it.
                event.employee = holder.employee
                _returned(tap, tool.take_back(**how))
            elif employee is not None:
                event.employee = employee
                _borrowed(tap, tool.lend_to(employee, **how))
            else:
                services.ensure_loanable(tool.item, tap.at)
                state.add_waiting(station, tool.item.pk, tap.at)
                _done(
                    event,
                    Outcome.AWAITING_BADGE,
                    _("%(item)s: now tap your badge to borrow it.") % {"item": tool.item.name},
                )
    except InspectionRequired as question:
        _refuse(event, question)
        if _ask(tap, event.item, question):
            _done(event, Outcome.CHECKLIST, question.message)
    except DomainError as refusal:
        _refuse(event, refusal)


def _borrow_tray(tap: Tap, waiting: list[int]) -> None:
    """The tools tapped before the badge, borrowed in the order tapped now that the person is
    known. Each refusal is that tool's alone: the others are still lent."""
    event, employee = tap.event, tap.station.session_employee
    how = {"door": Door.KIOSK, "station": tap.station, "at": tap.at}
    tray = []
    for item_id in waiting:
        try:
            with services.lock_tool(item_id) as tool:
                tray.append(TrayTool(tool.item, loan=tool.lend_to(employee, **how)))
        except DomainError as refusal:
            tray.append(TrayTool(tool.item, refusal=refusal))
    event.tray = tray
    lent = [line for line in tray if line.loan]
    if lent:
        _borrowed(tap, lent[-1].loan)
    else:
        event.item = tray[-1].item
        _refuse(event, tray[-1].refusal)
    if len(tray) > 1:
        event.message = " ".join(_line_message(line) for line in tray)
    # One question at a time: the first tool of the tray that wants its checks answered is asked
    # (the others are lent when tapped again); a tray of that one tool is just the question.
    asked = next((line for line in tray if isinstance(line.refusal, InspectionRequired)), None)
    if asked is not None and _ask(tap, asked.item, asked.refusal) and len(tray) == 1:
        _done(event, Outcome.CHECKLIST, asked.refusal.message)


def _ask(tap: Tap, item: Item, question: InspectionRequired) -> bool:
    """Ask the tap's person the checks of `item` (the refusal carries them) on the screen, if
    the tap is live; whether it asked."""
    if not tap.event.live:
        return False
    checks = question.params["checks"]
    state.ask_checklist(
        tap.station, item=item, employee=tap.event.employee, checks=checks, at=tap.at
    )
    return True


def _line_message(line: TrayTool) -> str:
    return line.refusal.message if line.refusal else _borrowed_message(line.loan)


def _borrowed(tap: Tap, loan: Loan) -> None:
    event = tap.event
    event.item, event.loan = loan.item, loan
    _changed(tap, Change.BORROW, loan)
    _done(event, Outcome.BORROWED, _borrowed_message(loan))


def _borrowed_message(loan: Loan) -> str:
    borrowed = _("%(name)s borrowed %(item)s, due %(due)s.") % {
        "name": loan.employee.name,
        "item": loan.item.name,
        "due": _local(loan.due_at),
    }
    # What needs doing soon (a calibration due) is part of the answer the agent keeps.
    return " ".join([borrowed, *(warning.message for warning in loan.warnings)])


def _returned(tap: Tap, loan: Loan) -> None:
    _changed(tap, Change.RETURN, loan)
    tap.event.loan = loan
    _done(
        tap.event,
        Outcome.RETURNED,
        _("%(item)s returned from %(name)s after %(duration)s.")
        % {
            "item": loan.item.name,
            "name": loan.employee.name,
            "duration": duration_text(loan.returned_at - loan.borrowed_at),
        },
    )


def _enrol(tap: Tap) -> None:
    station, event = tap.station, tap.event
    owner = (
        {"employee": station.enrol_employee}
        if station.enrol_employee
        else {"item": station.enrol_item}
    )
    replace = station.enrol_replace
    station.enrol_employee = station.enrol_item = station.enrol_expires_at = None
    station.enrol_replace = False
    try:
        tag = enrol_tag(uid=event.uid, replace=replace, **owner)
    except DomainError as refusal:
        _refuse(event, refusal)
        return
    event.employee, event.item = tag.employee, tag.item
    _done(
        event,
        Outcome.ENROLLED,
        _("Tag %(uid)s is now enrolled to %(owner)s.")
        % {"uid": tag.uid, "owner": tag.employee or tag.item},
    )


def _changed(tap: Tap, change: Change, loan: Loan) -> None:
    """A tap changed `loan`. Live, it is the change the screen offers to undo now; late (from
    an offline kiosk), it must not be offered, and an offer about the same tool no longer holds."""
    station = tap.station
    if tap.event.live:
        state.changed(station, change, loan, tap.at)
    elif station.undoable_loan_id and station.undoable_loan.item_id == loan.item_id:
        state.withdraw_offers(station)


def _end_session(station: Station) -> None:
    station.session_employee = station.session_expires_at = None
    state.withdraw_checklist(station)


def _done(event: ScanEvent, outcome: str, message: str) -> None:
    event.outcome, event.message = outcome, message


def _refuse(event: ScanEvent, refusal: DomainError) -> None:
    # The stored message is in the server's language; the screen renders `refusal` again in
    # each kiosk's own language.
    event.refusal = refusal
    _done(event, Outcome.REFUSED, refusal.message)


def _local(moment: datetime.datetime) -> str:
    return timezone.localtime(moment).strftime("%m/%d %H:%M")


def duration_text(delta: datetime.timedelta) -> str:
    minutes = max(int(delta.total_seconds() // 60), 0)
    if minutes < 60:
        return _("%(minutes)d min") % {"minutes": minutes}
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return _("%(hours)d h %(minutes)d min") % {"hours": hours, "minutes": minutes}
    return _("%(days)d days") % {"days": hours // 24}
