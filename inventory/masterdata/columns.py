"""The columns of the employee, tool and category master files, shared by import and export.

A header is recognised in our own export's spelling (in Japanese or English), in the replaced
system's (`employeeCode`, `nfcTagUid`…) and in the Japanese one managers type by hand, compared
without case, spaces, hyphens or underscores. Status cells likewise accept the stored value,
the old system's upper-case value, and the words people use (在籍, 点検中…).
"""

import datetime
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Prefetch
from django.utils import translation
from django.utils.dateparse import parse_duration
from django.utils.duration import duration_string
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from inventory.core.days import parse_date
from inventory.core.uids import normalize_uid
from inventory.employees.models import Employee, HeldQualification, Qualification
from inventory.items.models import (
    CALIBRATION_INTERVAL_MAX,
    LOAN_PERIOD_MAX,
    LOAN_PERIOD_MIN,
    Category,
    Item,
    Tag,
    validate_checklist,
)

UID_SEPARATORS = re.compile(r"[;,|\n]")
QUALIFICATION_SEPARATORS = re.compile(r"[;\n]")
# "玉掛け (2027-03-31)": a qualification and the last day it is valid (full-width brackets too);
# other brackets are part of the name ("トルク講習（社内）").
QUALIFICATION_UNTIL = re.compile(r"(.+?)\s*[(（]\s*(\d{4}\D\d{1,2}\D\d{1,2})\s*[)）]")
# Line breaks are allowed: a cell may hold several lines (a UID cell, one UID per line).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x09\x0b\x0c\x0e-\x1f\x7f]")
HOURS_AND_MINUTES = re.compile(r"(\d{1,4}):([0-5]\d)")


@dataclass(frozen=True)
class Column:
    # A model field, or one of the record's relations: "uids" (its active tags),
    # "qualifications" (a person's), "qualification" (the one a category requires, by name).
    field: str
    label: Promise  # the header our export writes, in the active language
    aliases: tuple[str, ...] = ()
    required: bool = False


@dataclass(frozen=True, order=True)
class HeldCell:
    """One qualification of a person as a cell holds it."""

    name: str
    expires_on: datetime.date | None = None

    def __str__(self) -> str:
        return f"{self.name} ({self.expires_on.isoformat()})" if self.expires_on else self.name


@dataclass(frozen=True)
class Master:
    model: type[models.Model]
    name: Promise  # for messages: "employees file"
    columns: tuple[Column, ...]
    statuses: dict[str, str]  # extra spellings → stored value
    retired_status: str | None  # what --replace sets on a record missing from the file
    key: str = "code"  # the field a row is matched by

    def records(self):
        """Every record, with what the relation columns read (one query per relation)."""
        records = self.model.objects.order_by(self.key)
        fields = {column.field for column in self.columns}
        if "uids" in fields:
            active = Tag.objects.active().order_by("uid")
            records = records.prefetch_related(Prefetch("tags", active, to_attr="active_tags"))
        if "qualifications" in fields:
            held = HeldQualification.objects.select_related("qualification")
            records = records.prefetch_related(Prefetch("qualifications", held, to_attr="held"))
        if "qualification" in fields:
            records = records.select_related("qualification")
        return records

    def has(self, field: str) -> bool:
        return any(column.field == field for column in self.columns)

    def header_map(self) -> dict[str, Column]:
        names = {}
        for column in self.columns:
            spellings = {column.field, *column.aliases}
            for language, _name in _languages():
                with translation.override(language):
                    spellings.add(str(column.label))
            for spelling in spellings:
                names[header_key(spelling)] = column
        return names

    def status_map(self) -> dict[str, str]:
        if not self.has("status"):
            return {}
        status_field = self.model._meta.get_field("status")
        names = {header_key(key): value for key, value in self.statuses.items()}
        for value, label in status_field.choices:
            names[header_key(value)] = value
            for language, _name in _languages():
                with translation.override(language):
                    names[header_key(str(label))] = value
        return names

    @property
    def defaults(self) -> dict:
        """What a new record gets for the columns a file leaves out."""
        return (
            {"status": self.model._meta.get_field("status").default} if self.has("status") else {}
        )


def _languages():
    from django.conf import settings

    return settings.LANGUAGES


def header_key(text: str) -> str:
    return re.sub(r"[\s_\-]", "", str(text)).casefold()


EMPLOYEES = Master(
    model=Employee,
    name=_("employees file"),
    columns=(
        Column("code", _("Employee code"), ("employeeCode", "社員コード", "社員番号"), True),
        Column("name", pgettext_lazy("person", "Name"), ("displayName", "氏名", "名前"), True),
        Column("reading", _("Reading (kana)"), ("reading", "フリガナ", "ふりがな", "読み")),
        Column("uids", _("NFC tag UID"), ("nfcTagUid", "NFCタグUID", "uid", "カードUID")),
        Column("department", _("Department"), ("department", "部署", "所属")),
        Column("contact", _("Contact"), ("contact", "連絡先")),
        Column("status", _("Status"), ("status", "状態")),
        Column("notes", _("Notes"), ("notes", "備考")),
        Column("qualifications", _("Qualifications"), ("qualifications", "資格", "保有資格")),
    ),
    statuses={
        "在籍": Employee.Status.ACTIVE,
        "有効": Employee.Status.ACTIVE,
        "退職": Employee.Status.INACTIVE,
        "無効": Employee.Status.INACTIVE,
        "休職": Employee.Status.SUSPENDED,
        "停止": Employee.Status.SUSPENDED,
        "利用停止": Employee.Status.SUSPENDED,
    },
    retired_status=Employee.Status.INACTIVE,
)

ITEMS = Master(
    model=Item,
    name=_("tools file"),
    columns=(
        Column("code", _("Tool code"), ("itemCode", "工具コード", "管理番号"), True),
        Column("name", pgettext_lazy("tool", "Name"), ("name", "名称", "工具名"), True),
        Column("uids", _("NFC tag UID"), ("nfcTagUid", "NFCタグUID", "uid", "タグUID")),
        Column("category", _("Category"), ("category", "分類", "カテゴリ")),
        Column("location", _("Storage location"), ("storageLocation", "保管場所")),
        Column("status", _("Status"), ("status", "状態")),
        Column("calibration_due", _("Calibration due"), ("calibrationDue", "校正期限")),
        Column("loan_period", _("Loan period"), ("loanPeriod", "貸出期間")),
        Column("notes", _("Notes"), ("notes", "備考")),
        Column(
            "calibration_interval",
            _("Calibration interval (months)"),
            ("calibrationInterval", "校正周期", "校正間隔", "校正周期（月）"),
        ),
    ),
    statuses={
        # The replaced system stored "on loan" as a status; here it follows from the loans.
        "IN_USE": Item.Status.AVAILABLE,
        "貸出中": Item.Status.AVAILABLE,
        "利用可": Item.Status.AVAILABLE,
        "貸出可": Item.Status.AVAILABLE,
        "点検中": Item.Status.MAINTENANCE,
        "整備中": Item.Status.MAINTENANCE,
        "修理中": Item.Status.MAINTENANCE,
        "廃棄": Item.Status.RETIRED,
        "廃止": Item.Status.RETIRED,
    },
    retired_status=Item.Status.RETIRED,
)

CATEGORIES = Master(
    model=Category,
    name=_("categories file"),
    columns=(
        Column("name", _("Category"), ("category", "分類", "カテゴリ"), True),
        Column("loan_limit", _("Loan limit per person"), ("loanLimit", "貸出上限")),
        Column("qualification", _("Required qualification"), ("qualification", "必要資格")),
        Column("checklist", _("Check before use"), ("checklist", "使用前点検", "点検項目")),
    ),
    statuses={},
    retired_status=None,  # a category is a set of rules, not a record to retire
    key="name",
)


# Cell ⇄ value, per column. Parsers raise ValidationError with a message for people.


def parse_cell(master: Master, column: Column, cell: str, statuses: dict[str, str]):
    if CONTROL_CHARACTERS.search(cell):
        # PostgreSQL cannot store NUL at all; the others are invisible in every screen.
        raise ValidationError(_("This cell contains control characters. Type it again."))
    if column.field == "uids":
        return sorted({normalize_uid(part) for part in UID_SEPARATORS.split(cell) if part.strip()})
    if column.field == "status":
        if not cell:
            return master.defaults["status"]
        try:
            return statuses[header_key(cell)]
        except KeyError:
            choices = ", ".join(str(label) for _value, label in master.model.Status.choices)
            raise ValidationError(
                _("“%(value)s” is not a status. Use one of: %(choices)s."),
                params={"value": cell, "choices": choices},
            ) from None
    if column.field == "calibration_due":
        return parse_date(cell) if cell else None
    if column.field == "loan_period":
        return _parse_period(cell) if cell else None
    if column.field == "calibration_interval":
        return _parse_number(cell, 1, CALIBRATION_INTERVAL_MAX) if cell else None
    if column.field == "loan_limit":
        return _parse_number(cell, 0, 999) if cell else None
    if column.field == "qualifications":
        return _parse_qualifications(cell)
    if column.field == "qualification":
        return _qualification_name(cell) if cell else None
    if column.field == "checklist":
        # One check per line in the cell (Alt+Enter in Excel), as the admin takes them.
        text = "\n".join(line.strip() for line in cell.splitlines() if line.strip())
        validate_checklist(text)
        return text
    max_length = master.model._meta.get_field(column.field).max_length
    if max_length and len(cell) > max_length:
        raise ValidationError(
            _("“%(value)s” is longer than %(max)d characters."),
            params={"value": cell, "max": max_length},
        )
    return cell


def _parse_number(cell: str, lowest: int, highest: int) -> int:
    try:
        number = int(cell)
    except ValueError:
        number = None
    if number is None or not lowest <= number <= highest:
        raise ValidationError(
            _("“%(value)s” is not a whole number from %(lowest)d to %(highest)d."),
            params={"value": cell, "lowest": lowest, "highest": highest},
        )
    return number


def _parse_qualifications(cell: str) -> list[HeldCell]:
    held = {}
    for part in QUALIFICATION_SEPARATORS.split(cell):
        if not part.strip():
            continue
        name, expires_on = part.strip(), None
        if until := QUALIFICATION_UNTIL.fullmatch(name):
            name, expires_on = until.group(1), parse_date(until.group(2))
        name = _qualification_name(name)
        if name in held:
            raise ValidationError(
                _("%(name)s is listed twice."), params={"name": name}, code="twice"
            )
        held[name] = HeldCell(name, expires_on)
    return sorted(held.values())


def _qualification_name(cell: str) -> str:
    Qualification._meta.get_field("name").run_validators(cell)
    return cell


def _parse_period(cell: str) -> datetime.timedelta:
    if hours_minutes := HOURS_AND_MINUTES.fullmatch(cell):
        # 4:00 is four hours, as Excel shows a time typed that way (Django would read MM:SS).
        hours, minutes = (int(part) for part in hours_minutes.groups())
        period = datetime.timedelta(hours=hours, minutes=minutes)
    else:
        try:
            period = parse_duration(cell)
        except OverflowError:  # a number of days no date can hold
            period = None
    if period is None or not LOAN_PERIOD_MIN <= period <= LOAN_PERIOD_MAX:
        raise ValidationError(
            _(
                "“%(value)s” is not a loan period. Write 4:00 for four hours or 7 00:00:00 "
                "for seven days (one minute to 366 days)."
            ),
            params={"value": cell},
        )
    return period


def record_value(record, field: str):
    """A record's value for a column, as parse_cell gives it (relations read from what
    `Master.records` fetched)."""
    if field == "uids":
        return [tag.uid for tag in record.active_tags]
    if field == "qualifications":
        return sorted(HeldCell(held.qualification.name, held.expires_on) for held in record.held)
    if field == "qualification":
        return record.qualification.name if record.qualification else None
    return getattr(record, field)


def format_cell(master: Master, column: Column, value) -> str:
    if value is None:
        return ""
    if column.field in ("uids", "qualifications"):
        return "; ".join(str(part) for part in value)
    if column.field == "status":
        return str(master.model.Status(value).label)
    if column.field == "calibration_due":
        return value.isoformat()
    if column.field == "loan_period":
        return duration_string(value)
    return str(value)
