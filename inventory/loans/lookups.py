"""Finding the tool or the person a door names by code or by tag UID (the API takes either)."""

from django.utils.translation import gettext_lazy as _

from inventory.core.errors import InvalidRequest, NotFound, UidNotEnrolled, interpolate_lazy
from inventory.core.uids import is_uid, normalize_uid
from inventory.employees.models import Employee
from inventory.items.models import Item, Tag


def find_item(ref: str) -> Item:
    return _find(
        Item, "item", ref, what=_("Tool"), wrong=_("Tag %(uid)s is an employee badge, not a tool.")
    )


def find_employee(ref: str) -> Employee:
    return _find(
        Employee,
        "employee",
        ref,
        what=_("Employee"),
        wrong=_("Tag %(uid)s is a tool tag, not a badge."),
    )


def _find(model, owner: str, ref: str, *, what, wrong):
    ref = str(ref).strip()
    found = model.objects.filter(code=ref).first()
    if found is None and is_uid(ref):
        uid = normalize_uid(ref)
        tag = Tag.objects.active().filter(uid=uid).select_related(owner).first()
        if tag is None:
            raise UidNotEnrolled(uid=uid)
        found = getattr(tag, owner)
        if found is None:
            raise InvalidRequest(reason=interpolate_lazy(wrong, {"uid": uid}))
    if found is None:
        raise NotFound(what=what, ref=ref)
    return found
