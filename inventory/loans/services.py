"""The use cases that change loans. Nothing else writes Loan, LoanEvent or Inspection rows.

Every function runs in one transaction and locks the tool's row first: the item row is the
mutex for everything that happens to that tool, so two kiosks, the API and the admin acting on
the same tool at once are serialised (the partial unique index on open loans is the backstop).
A tool's loans change only under that lock, so the open loan read after taking it is current.
Locks are always taken in the order item → loan → employee, so two use cases never deadlock.

The crib's rules are decided here, at the moment of lending, for every door alike: the tool's
calibration, the person's qualification, overdue loans and loan limit, and the check before use.
Each refuses with its own code; a manager may lend against them with an `Override` (its reason
is kept in the loan's history). The person's row is locked before the rules read their loans,
so two kiosks lending to one person at once cannot both pass the limit.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.db.models import F, OuterRef, Subquery
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from inventory.core.errors import (
    CalibrationDueSoon,
    CalibrationExpired,
    DomainError,
    DomainWarning,
    EmployeeNotActive,
    HasOverdue,
    InspectionFailed,
    InspectionRequired,
    InvalidRequest,
    ItemNotLoanable,
    ItemOnLoan,
    LimitReached,
    LoanNotOpen,
    NotQualified,
    OverrideNotAllowed,
    ToolLentSince,
    interpolate_lazy,
)
from inventory.employees.models import Employee, HeldQualification
from inventory.items.models import LOAN_PERIOD_MAX, Category, Item
from inventory.loans.due import due_at_for
from inventory.loans.models import Door, Inspection, Loan, LoanEvent

if TYPE_CHECKING:
    from kiosk.models import Station

User = AbstractBaseUser | None

# The refusals a manager may lend against, with what the admin calls them.
OVERRIDABLE = {
    CalibrationExpired.code: _("Calibration expired"),
    NotQualified.code: _("Not qualified"),
    HasOverdue.code: _("Has overdue tools"),
    LimitReached.code: _("Loan limit reached"),
    InspectionRequired.code: _("Check before use not answered"),
}
OVERRIDE_PERMISSION = "loans.override_rules"


@dataclass(frozen=True)
class Override:
    """A manager lending against some of the crib's rules (OVERRIDABLE codes), saying why.
    Only the rules that would have refused are recorded, in the loan's BORROW event."""

    reason: str
    codes: frozenset[str]


class _Rules:
    """The crib's rules for one lending: a refusal the override covers is noted, not raised."""

    def __init__(self, override: Override | None, by: User):
        if override is not None:
            if not (by is not None and by.has_perm(OVERRIDE_PERMISSION)):
                raise OverrideNotAllowed()
            if not override.reason.strip():
                raise InvalidRequest(reason=_("Say why the crib's rules are overridden."))
            if not override.codes or not override.codes <= OVERRIDABLE.keys():
                raise InvalidRequest(
                    reason=interpolate_lazy(
                        _("Name the rules to override, among: %(codes)s."),
                        {"codes": ", ".join(OVERRIDABLE)},
                    )
                )
        self.override = override
        self.overridden: list[str] = []

    def refuse(self, refusal: DomainError) -> None:
        if self.override is not None and refusal.code in self.override.codes:
            self.overridden.append(refusal.code)
        else:
            raise refusal

    def details(self) -> dict:
        if not self.overridden:
            return {}
        return {"override": {"codes": self.overridden, "reason": self.override.reason.strip()}}


class LockedTool:
    """A tool whose row the current transaction holds locked, with its open loan (None when the
    tool is in the crib). Made by `lock_tool`; the use cases on it take no further lock on the
    tool, so a door that must look at the tool before choosing one (a kiosk tap: borrow or
    return?) locks it and reads it once."""

    def __init__(self, item: Item, latest: Loan | None):
        self.item = item
        self.latest = latest
        self.open_loan = latest if latest is not None and latest.returned_at is None else None
        # When the tool last came back: a borrow is never recorded before it (a tap replayed
        # from an offline kiosk may be older than a loan another kiosk recorded meanwhile).
        self.returned_at = latest.returned_at if latest is not None else None

    def lend_to(
        self,
        employee: Employee,
        *,
        door: Door,
        by: User = None,
        station: Station | None = None,
        at: datetime.datetime | None = None,
        due_at: datetime.datetime | None = None,
        note: str = "",
        inspection: Inspection | None = None,
        override: Override | None = None,
        handed_over_from: Loan | None = None,
    ) -> Loan:
        """The loan, with `loan.warnings` (DomainWarning) for what needs doing soon. A tool
        whose category has a checklist needs a passed `inspection` (see `inspect`). With
        `handed_over_from` (the tool's last, returned loan) the history records a handover from
        that loan's holder rather than a borrow."""
        at = at or timezone.now()
        if self.returned_at and at < self.returned_at:
            at = self.returned_at
        rules = _Rules(override, by)
        employee = _lock_employee(employee.pk)
        ensure_loanable(self.item, at, rules)
        _ensure_active(employee)
        if (holder := self.open_loan) is not None:
            raise ItemOnLoan(
                item=self.item, holder=holder.employee, since=_local(holder.borrowed_at)
            )
        category = self.category
        _apply_crib_rules(self.item, category, employee, at, rules)
        # A tool taken over passes from hand to hand at the kiosk: no check before use, but the
        # person who takes it must be allowed to hold it (the rules above).
        checked = handed_over_from is not None or (inspection and inspection.passed)
        if category is not None and category.checks and not checked:
            # With the checks, for the kiosk to ask them without reading them again.
            rules.refuse(
                InspectionRequired(
                    item=self.item.name, count=len(category.checks), checks=category.checks
                )
            )
        loan = _lend(
            item=self.item,
            employee=employee,
            door=door,
            by=by,
            station=station,
            at=at,
            due_at=due_at,
            note=note,
            inspection=inspection,
        )
        loan.warnings = _warnings(self.item, at)
        kind, details = LoanEvent.Kind.BORROW, {**rules.details(), **_warning_codes(loan.warnings)}
        if handed_over_from is not None:
            previous = handed_over_from.employee
            kind = LoanEvent.Kind.HANDOVER
            details |= {"from": previous.code, "from_name": previous.name}
        _record(loan, kind, at=at, door=door, by=by, station=station, details=details)
        self.open_loan = self.latest = loan
        return loan

    def inspect(
        self,
        employee: Employee,
        *,
        answers: Sequence[bool],
        door: Door,
        by: User = None,
        station: Station | None = None,
        at: datetime.datetime | None = None,
    ) -> Inspection:
        """Record the check before use of this tool, in the crib, by `employee`: one answer
        (True = OK) per check of its category's checklist, in order. Any NG sends the tool to
        maintenance. Refusing the borrow is the caller's: the record must outlive it."""
        at = at or timezone.now()
        checks = self.category.checks if self.category is not None else []
        if not checks:
            raise InvalidRequest(reason=_("This tool has no checklist to answer."))
        if len(answers) != len(checks):
            raise InvalidRequest(
                reason=interpolate_lazy(
                    _("Answer each of the %(count)d checks, in order: %(checks)s."),
                    {"count": len(checks), "checks": " / ".join(checks)},
                )
            )
        # Not the calibration: a broken instrument is worth recording whatever its due date
        # (lending it is lend_to's to decide, where a manager's override applies).
        _ensure_in_service(self.item)
        _ensure_active(employee)
        if (holder := self.open_loan) is not None:
            raise ItemOnLoan(
                item=self.item, holder=holder.employee, since=_local(holder.borrowed_at)
            )
        inspection = Inspection.objects.create(
            item=self.item,
            employee=employee,
            at=at,
            passed=all(answers),
            answers=[
                {"check": check, "ok": bool(ok)} for check, ok in zip(checks, answers, strict=True)
            ],
            door=door,
            username=by.get_username() if by else "",
            station=station,
            station_name=station.name if station else "",
            employee_code=employee.code,
            employee_name=employee.name,
            item_code=self.item.code,
            item_name=self.item.name,
        )
        if not inspection.passed and self.item.status == Item.Status.AVAILABLE:
            self.item.status = Item.Status.MAINTENANCE
            self.item.save(update_fields=["status", "updated_at"])
        return inspection

    @property
    def category(self) -> Category | None:
        """The rules of the tool's category, read once and only when it has any."""
        if not hasattr(self, "_category"):
            pk = getattr(self.item, "category_rules", None)
            self._category = (
                Category.objects.select_related("qualification").get(pk=pk) if pk else None
            )
        return self._category

    def take_back(
        self,
        *,
        door: Door,
        by: User = None,
        station: Station | None = None,
        at: datetime.datetime | None = None,
        condition: Loan.Condition = Loan.Condition.OK,
        note: str = "",
    ) -> Loan:
        """Always accepted for an open loan, whatever state the tool is in: a tool in the hand
        of someone at the crib must be taken back."""
        loan = self.open_loan
        if loan is None:
            raise LoanNotOpen(state=_("returned"))
        loan.item = self.item
        _close(loan, by=by, returned_at=at or timezone.now(), condition=condition)
        details = {"condition": condition, **({"note": note} if note else {})}
        _record(
            loan,
            LoanEvent.Kind.RETURN,
            at=loan.returned_at,
            door=door,
            by=by,
            station=station,
            details=details,
        )
        self.open_loan, self.returned_at = None, loan.returned_at
        return loan

    def last_return(self, loan: Loan) -> Loan:
        """`loan` as it was returned, when it is still the tool's last loan and closed: the
        return may still be undone, reported damaged or followed by a take-over. Refused when
        the tool was lent again, or the return undone, since."""
        latest = self.latest
        if self.open_loan is not None or latest is None or latest.pk != loan.pk:
            raise ToolLentSince(item=self.item)
        latest.item = self.item
        return latest


@contextmanager
def lock_tool(item_pk: int) -> Iterator[LockedTool]:
    """The block runs whole or not at all (a savepoint when nested), and no other door changes
    the tool or its loans until the transaction ends."""
    with transaction.atomic():
        # With the id of its category's rules (None without): a tool whose category has none
        # costs no further read.
        item = (
            Item.objects.select_for_update()
            .annotate(
                category_rules=Subquery(
                    Category.objects.filter(name=OuterRef("category")).values("pk")[:1]
                )
            )
            .get(pk=item_pk)
        )
        # The open loan sorts first (NULL return time); without one, the last returned.
        latest = (
            Loan.objects.filter(item=item, cancelled_at__isnull=True)
            .select_related("employee")
            .order_by(F("returned_at").desc(nulls_first=True))
            .first()
        )
        yield LockedTool(item, latest)


def borrow(
    *,
    item: Item,
    employee: Employee,
    door: Door,
    by: User = None,
    station: Station | None = None,
    at: datetime.datetime | None = None,
    due_at: datetime.datetime | None = None,
    note: str = "",
    answers: Sequence[bool] | None = None,
    override: Override | None = None,
) -> Loan:
    """Lend a tool (due at `due_at`, or as the due policy says), if the crib's rules allow it
    or a manager overrides them. The loan carries `warnings`.

    A tool whose category has a checklist is lent only with `answers` to it (True = OK, in
    the checklist's order): all OK lends it, with the check kept as the loan's; any NG keeps
    the check, sends the tool to maintenance and refuses with InspectionFailed.
    """
    with lock_tool(item.pk) as tool:
        how = {"door": door, "by": by, "station": station, "at": at}
        inspection = None
        if answers is not None:
            inspection = tool.inspect(employee, answers=answers, **how)
        if inspection is None or inspection.passed:
            return tool.lend_to(
                employee, **how, due_at=due_at, note=note, inspection=inspection, override=override
            )
    # Raised after the block, so that the failed check and the maintenance stay recorded.
    raise InspectionFailed(item=tool.item.name, failed=", ".join(inspection.failed_checks))


def return_loan(
    *,
    loan: Loan,
    door: Door,
    by: User = None,
    station: Station | None = None,
    at: datetime.datetime | None = None,
    condition: Loan.Condition = Loan.Condition.OK,
    note: str = "",
) -> Loan:
    """Close an open loan; a damaged tool goes to maintenance."""
    with lock_tool(loan.item_id) as tool:
        if tool.open_loan is None or tool.open_loan.pk != loan.pk:
            raise LoanNotOpen(state=_closed_state(loan.pk))
        return tool.take_back(
            door=door, by=by, station=station, at=at, condition=condition, note=note
        )


def reopen_loan(
    *,
    loan: Loan,
    door: Door,
    by: User = None,
    station: Station | None = None,
    reason: str = "",
    at: datetime.datetime | None = None,
) -> Loan:
    """Undo a return that should not have happened (a mis-tap): the loan is open again, due as
    before, and the history records the undoing with the return time it took back. Refused
    when the tool was lent again since."""
    at = at or timezone.now()
    with lock_tool(loan.item_id) as tool:
        loan = tool.last_return(loan)
        returned_at = loan.returned_at
        loan.returned_at = loan.closed_by = None
        loan.return_condition = ""
        loan.save(update_fields=["returned_at", "closed_by", "return_condition"])
        _record(
            loan,
            LoanEvent.Kind.REOPEN,
            at=at,
            door=door,
            by=by,
            station=station,
            details={"reason": str(reason), "returned_at": _iso(returned_at)},
        )
        tool.open_loan = loan
    return loan


def take_over(
    *,
    returned: Loan,
    employee: Employee,
    door: Door,
    by: User = None,
    station: Station | None = None,
    at: datetime.datetime | None = None,
    note: str = "",
) -> Loan:
    """Lend a tool just returned from its holder to `employee`, recorded as a handover from
    that holder: how a colleague's tool changes hands at a kiosk (the tap returns it, an
    explicit step takes it over). Refused when the tool was lent, or the return undone, since."""
    with lock_tool(returned.item_id) as tool:
        previous = tool.last_return(returned)
        if previous.employee_id == employee.pk:
            raise InvalidRequest(
                reason=_("The tool was returned from this person; undo the return instead.")
            )
        return tool.lend_to(
            employee,
            door=door,
            by=by,
            station=station,
            at=at,
            note=note,
            handed_over_from=previous,
        )


def report_damage(
    *,
    loan: Loan,
    door: Door,
    reported_by: Employee | None = None,
    by: User = None,
    station: Station | None = None,
    at: datetime.datetime | None = None,
) -> Loan:
    """A tool found damaged just after its return was recorded (said at the kiosk that took it
    back): the return's condition becomes damaged, the tool goes to maintenance, and the
    history records who said so. Refused when the tool was lent again since."""
    with lock_tool(loan.item_id) as tool:
        loan = tool.last_return(loan)
        loan.return_condition = Loan.Condition.DAMAGED
        loan.save(update_fields=["return_condition"])
        _to_maintenance(loan.item)
        details = (
            {"reported_by": reported_by.code, "reported_by_name": reported_by.name}
            if reported_by
            else {}
        )
        _record(
            loan,
            LoanEvent.Kind.DAMAGE,
            at=at or timezone.now(),
            door=door,
            by=by,
            station=station,
            details=details,
        )
    return loan


def cancel_loan(
    *,
    loan: Loan,
    door: Door,
    by: User = None,
    station: Station | None = None,
    reason: str = "",
    at: datetime.datetime | None = None,
) -> Loan:
    """Undo a loan that should never have happened (a mis-tap): it ends without a return."""
    at = at or timezone.now()
    with transaction.atomic():
        item = _lock_item(loan.item_id)
        loan = _lock_open_loan(loan.pk)
        loan.item = item
        loan.cancelled_at = at
        loan.closed_by = by
        loan.save(update_fields=["cancelled_at", "closed_by"])
        _record(
            loan,
            LoanEvent.Kind.CANCEL,
            at=at,
            door=door,
            by=by,
            station=station,
            details={"reason": str(reason)},
        )
    return loan


def correct_loan(
    *,
    loan: Loan,
    by: User,
    reason: str,
    door: Door = Door.ADMIN,
    borrowed_at: datetime.datetime | None = None,
    returned_at: datetime.datetime | None = None,
    due_at: datetime.datetime | None = None,
) -> Loan:
    """Fix the times of a loan after the fact (a return nobody tapped, a wrong due time).

    Setting `returned_at` on an open loan closes it. The events recorded at the time stay as
    they were; one correction event keeps the times before and after, the reason and who did it.
    """
    reason = str(reason).strip()
    if not reason:
        raise InvalidRequest(reason=_("Say why the loan is corrected."))
    now = timezone.now()
    with transaction.atomic():
        item = _lock_item(loan.item_id)
        loan = (
            Loan.objects.select_for_update(of=("self",)).select_related("employee").get(pk=loan.pk)
        )
        loan.item = item
        wanted = {"borrowed_at": borrowed_at, "returned_at": returned_at, "due_at": due_at}
        before = {field: getattr(loan, field) for field in wanted}
        changes = {
            field: value
            for field, value in wanted.items()
            if value is not None and value != before[field]
        }
        if not changes:
            raise InvalidRequest(reason=_("Nothing to correct: the times are the same."))
        if loan.cancelled_at is not None:
            raise LoanNotOpen(state=_("cancelled"))
        for field, value in changes.items():
            setattr(loan, field, value)
        _ensure_consistent_times(loan, now)
        if "returned_at" in changes and before["returned_at"] is None:
            loan.closed_by = by
            loan.return_condition = Loan.Condition.OK
        loan.save(update_fields=[*changes, "closed_by", "return_condition"])
        _record(
            loan,
            LoanEvent.Kind.CORRECTION,
            at=now,
            door=door,
            by=by,
            station=None,
            details={
                "reason": reason,
                "before": {field: _iso(before[field]) for field in changes},
                "after": {field: _iso(value) for field, value in changes.items()},
            },
        )
    return loan


# Steps shared by the use cases above.


def _lock_item(pk: int) -> Item:
    return Item.objects.select_for_update().get(pk=pk)


def _lock_employee(pk: int) -> Employee:
    # With the shift the due time follows (its row is read, not locked).
    return Employee.objects.select_for_update(of=("self",)).select_related("shift").get(pk=pk)


def _closed_state(pk: int) -> str:
    cancelled = Loan.objects.filter(pk=pk, cancelled_at__isnull=False).exists()
    return _("cancelled") if cancelled else _("returned")


def _lock_open_loan(pk: int) -> Loan:
    loan = Loan.objects.select_for_update(of=("self",)).select_related("employee").get(pk=pk)
    if loan.returned_at is not None:
        raise LoanNotOpen(state=_("returned"))
    if loan.cancelled_at is not None:
        raise LoanNotOpen(state=_("cancelled"))
    return loan


def ensure_loanable(item: Item, at: datetime.datetime, rules: _Rules | None = None) -> None:
    """Raise ItemNotLoanable (saying why) unless the tool may be lent at `at`: it is in the
    crib's use and calibrated (CalibrationExpired, unless `rules` carries an override)."""
    _ensure_in_service(item)
    if item.calibration_overdue(timezone.localdate(at)):
        (rules or _Rules(None, None)).refuse(
            CalibrationExpired(item=item, date=_date(item.calibration_due))
        )


def _ensure_in_service(item: Item) -> None:
    if item.status == Item.Status.MAINTENANCE:
        raise ItemNotLoanable(item=item, reason=_("it is in maintenance."))
    if item.status == Item.Status.RETIRED:
        raise ItemNotLoanable(item=item, reason=_("it is retired."))


def _apply_crib_rules(item: Item, category, employee: Employee, at, rules: _Rules) -> None:
    """The rules about the person: qualification, overdue tools, loan limit. Reads what they
    need and no more: the qualification only when the category requires one, the person's open
    loans (one query, for both) only when a limit or the overdue block applies."""
    if category is not None and category.qualification_id is not None:
        held = HeldQualification.objects.filter(
            employee=employee, qualification_id=category.qualification_id
        ).first()
        if held is None:
            rules.refuse(
                NotQualified(
                    employee=employee.name, item=item.name, qualification=category.qualification
                )
            )
        elif not held.valid_on(timezone.localdate(at)):
            rules.refuse(
                NotQualified(
                    NotQualified.EXPIRED,
                    employee=employee.name,
                    item=item.name,
                    qualification=category.qualification,
                    date=_date(held.expires_on),
                )
            )
    in_category = category is not None and category.loan_limit is not None
    limit = category.loan_limit if in_category else settings.LOAN_LIMIT_PER_PERSON
    if not limit and not settings.LOAN_BLOCK_WHEN_OVERDUE:
        return
    holding = list(
        Loan.objects.open().filter(employee=employee).select_related("item").order_by("due_at")
    )
    if settings.LOAN_BLOCK_WHEN_OVERDUE:
        late = [loan.item for loan in holding if loan.due_at < at]
        if late:
            rules.refuse(HasOverdue(employee=employee.name, tools=_names(late)))
    if in_category:
        holding = [loan for loan in holding if loan.item.category == category.name]
    if limit and len(holding) >= limit:
        limited = {"category": category.name} if in_category else {}
        rules.refuse(
            LimitReached(
                LimitReached.IN_CATEGORY if in_category else None,
                employee=employee.name,
                count=len(holding),
                tools=_names([loan.item for loan in holding]),
                limit=limit,
                **limited,
            )
        )


def _warnings(item: Item, at: datetime.datetime) -> list[DomainWarning]:
    if item.calibration_due_soon(timezone.localdate(at)):
        return [CalibrationDueSoon(item=item.name, date=_date(item.calibration_due))]
    return []


def _warning_codes(warnings: list[DomainWarning]) -> dict:
    return {"warnings": [warning.code for warning in warnings]} if warnings else {}


def _names(items: list[Item], shown: int = 3) -> str:
    """The first few tools by name: a kiosk screen has room for a line, not a list."""
    names = ", ".join(item.name for item in items[:shown])
    return f"{names}, …" if len(items) > shown else names


def _date(day: datetime.date) -> str:
    return formats.date_format(day, "SHORT_DATE_FORMAT")


def _ensure_active(employee: Employee) -> None:
    if not employee.is_active:
        raise EmployeeNotActive(employee=employee, status=employee.status_label)


def _lend(*, item, employee, door, by, station, at, due_at, note, inspection=None) -> Loan:
    if due_at is not None and due_at <= at:
        raise InvalidRequest(reason=_("The due time must be later than the time of borrowing."))
    if due_at is not None:
        _ensure_due_within_limit(at, due_at)
    return Loan.objects.create(
        item=item,
        employee=employee,
        borrowed_at=at,
        due_at=due_at or due_at_for(item, at, shift=employee.shift),
        door=door,
        borrowed_by=by,
        station=station,
        note=note,
        inspection=inspection,
    )


def _close(loan: Loan, *, by: User, returned_at: datetime.datetime, condition) -> None:
    # A return replayed from an offline kiosk may carry a time before the borrow it closes
    # (clocks of two kiosks); the database refuses that, so the return happens at the borrow.
    loan.returned_at = max(returned_at, loan.borrowed_at)
    loan.closed_by = by
    loan.return_condition = condition
    loan.save(update_fields=["returned_at", "closed_by", "return_condition"])
    if condition == Loan.Condition.DAMAGED:
        _to_maintenance(loan.item)


def _to_maintenance(item: Item) -> None:
    """A damaged tool is not lent until someone has looked at it (a retired one stays so)."""
    if item.status == Item.Status.AVAILABLE:
        item.status = Item.Status.MAINTENANCE
        item.save(update_fields=["status", "updated_at"])


def _record(
    loan: Loan, kind, *, at, door, by: User, station: Station | None, details: dict | None = None
) -> LoanEvent:
    return LoanEvent.objects.create(
        loan=loan,
        kind=kind,
        at=at,
        door=door,
        user=by,
        username=by.get_username() if by else "",
        station=station,
        station_name=station.name if station else "",
        employee_code=loan.employee.code,
        employee_name=loan.employee.name,
        item_code=loan.item.code,
        item_name=loan.item.name,
        details=details or {},
    )


def _local(moment: datetime.datetime) -> str:
    return formats.date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")


# Earlier times are typos (and before 1888 Tokyo's clocks were not on +09:00 at all).
EARLIEST = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)


def _ensure_due_within_limit(borrowed_at: datetime.datetime, due_at: datetime.datetime) -> None:
    # As long as the longest loan period a tool may have: a loan due in 9999 is never overdue.
    if due_at > borrowed_at + LOAN_PERIOD_MAX:
        raise InvalidRequest(
            reason=_("The due time must be at most %(days)d days after the time of borrowing.")
            % {"days": LOAN_PERIOD_MAX.days}
        )


def _ensure_consistent_times(loan: Loan, now: datetime.datetime) -> None:
    if loan.borrowed_at < EARLIEST:
        raise InvalidRequest(reason=_("Times before 2000 are not accepted: check the year."))
    if loan.borrowed_at > now or (loan.returned_at and loan.returned_at > now):
        raise InvalidRequest(reason=_("A loan cannot start or end in the future."))
    if loan.returned_at and loan.returned_at < loan.borrowed_at:
        raise InvalidRequest(reason=_("The return time must not be before the borrow time."))
    if loan.due_at < loan.borrowed_at:
        raise InvalidRequest(reason=_("The due time must not be before the borrow time."))
    _ensure_due_within_limit(loan.borrowed_at, loan.due_at)
    # The tool was in one pair of hands at a time: the corrected period must not overlap
    # another loan of the same tool (cancelled loans never happened).
    end = loan.returned_at or now
    clash = (
        Loan.objects.filter(item_id=loan.item_id, cancelled_at__isnull=True, borrowed_at__lt=end)
        .exclude(pk=loan.pk)
        .exclude(returned_at__lte=loan.borrowed_at)
        .order_by("borrowed_at")
        .first()
    )
    if clash is not None:
        raise InvalidRequest(
            reason=_("The corrected times overlap loan %(loan)s of the same tool (from %(since)s).")
            % {"loan": clash.pk, "since": _local(clash.borrowed_at)}
        )


def _iso(moment: datetime.datetime | None) -> str | None:
    return moment.astimezone(datetime.UTC).isoformat() if moment else None
