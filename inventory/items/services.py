"""Enrolling NFC tags, the one place that binds a UID to a person or a tool; and recording an
instrument's calibration, the one place that moves its due date on."""

import datetime

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inventory.core.days import add_months
from inventory.core.errors import InvalidRequest, TagInUse
from inventory.core.uids import normalize_uid
from inventory.employees.models import Employee
from inventory.items.models import Calibration, Item, Tag


def enrol_tag(
    *,
    uid: str,
    employee: Employee | None = None,
    item: Item | None = None,
    replace: bool = False,
    note: str = "",
) -> Tag:
    """Bind `uid` to exactly one of `employee` (a badge) or `item` (a tool tag).

    With `replace`, the owner's other active tags are deactivated in the same transaction:
    a lost badge stops working the moment its replacement is enrolled.
    Enrolling a UID its owner already has is a no-op that returns the existing tag.
    """
    if (employee is None) == (item is None):
        raise ValueError("enrol_tag needs exactly one of employee or item")
    uid = normalize_uid(uid)
    owner = {"employee": employee} if employee else {"item": item}
    with transaction.atomic():
        existing = Tag.objects.active().filter(uid=uid).select_related("employee", "item").first()
        if existing is not None:
            same_owner = (existing.employee_id, existing.item_id) == (
                getattr(employee, "pk", None),
                getattr(item, "pk", None),
            )
            if same_owner:
                return existing
            raise TagInUse(uid=uid, owner=existing.employee or existing.item)
        if replace:
            Tag.objects.filter(**owner).deactivate()
        try:
            # A second enrolment of the same UID racing this one meets the unique index.
            with transaction.atomic():
                return Tag.objects.create(uid=uid, note=note, **owner)
        except IntegrityError:
            raise TagInUse(uid=uid, owner="?") from None


def record_calibration(
    *,
    item: Item,
    calibrated_on: datetime.date,
    passed: bool,
    certificate_number: str = "",
    calibrated_by: str = "",
    next_due: datetime.date | None = None,
    certificate: File | None = None,
    note: str = "",
    by: AbstractBaseUser | None = None,
) -> Calibration:
    """Keep one calibration of an instrument. A pass sets the tool's next due date (the one
    given, or the calibration date plus its interval); a fail sends it to maintenance, where it
    stays until a manager puts it back. A calibration older than the latest one recorded only
    joins the history: it does not move the due date back."""
    with transaction.atomic():
        # The tool's row is the mutex for its status (a return may send it to maintenance).
        item = Item.objects.select_for_update().get(pk=item.pk)
        next_due = next_due_after(
            item, calibrated_on=calibrated_on, passed=passed, next_due=next_due
        )
        latest = item.calibrations.aggregate(latest=Max("calibrated_on"))["latest"]
        record = Calibration(
            item=item,
            calibrated_on=calibrated_on,
            result=Calibration.Result.PASSED if passed else Calibration.Result.FAILED,
            certificate_number=certificate_number,
            calibrated_by=calibrated_by,
            next_due=next_due,
            note=note,
            recorded_by=by.get_username() if by else "",
        )
        if certificate is not None:
            record.certificate.save(certificate.name, certificate, save=False)
        record.save()
        if latest is None or calibrated_on >= latest:
            if passed:
                item.calibration_due = next_due
            elif item.status == Item.Status.AVAILABLE:
                item.status = Item.Status.MAINTENANCE
            item.save(update_fields=["calibration_due", "status", "updated_at"])
    return record


def next_due_after(
    item: Item, *, calibrated_on: datetime.date, passed: bool, next_due: datetime.date | None
) -> datetime.date | None:
    """When the instrument falls due after this calibration (None after a fail), or
    InvalidRequest saying what is missing. Forms call it to show the problem beside the fields."""
    if calibrated_on > timezone.localdate():
        raise InvalidRequest(reason=_("A calibration cannot be recorded before it happened."))
    if not passed:
        if next_due is not None:
            raise InvalidRequest(reason=_("A failed calibration has no next due date."))
        return None
    if next_due is not None:
        if next_due <= calibrated_on:
            raise InvalidRequest(reason=_("The next due date must be after the calibration."))
        return next_due
    if item.calibration_interval is None:
        raise InvalidRequest(
            reason=_("Give the next due date, or set the tool's calibration interval first.")
        )
    return add_months(calibrated_on, item.calibration_interval)
