"""Enrolling NFC tags: the one place that binds a UID to a person or a tool."""

from django.db import IntegrityError, transaction

from inventory.core.errors import TagInUse
from inventory.core.uids import normalize_uid
from inventory.employees.models import Employee
from inventory.items.models import Item, Tag


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
