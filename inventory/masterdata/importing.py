"""Import the employee, tool and category masters from CSV: plan first, then apply all or
nothing.

`plan_import` reads both files and says, row by row, what would be created, updated, left
unchanged or deactivated, with every problem and its file and line. `apply_import` plans again
inside one transaction and writes only when there is no problem at all. The admin's preview and
confirm steps and `manage.py import_master` are the two doors; both call these two functions.

Rules: records are matched by code (categories by name). A column missing from the file leaves
that field alone; an empty cell clears it (an empty status means active or available). With
`replace`, records of a given file's kind that the file does not list are deactivated (people) or
retired (tools); categories stay; nothing is ever deleted, so history stays whole. A qualification
a file names that is not known yet is created.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inventory.core.csv_text import MalformedCsv, UndecodableFile, decode, read_rows
from inventory.employees.models import HeldQualification, Qualification
from inventory.items.models import Tag
from inventory.masterdata.columns import (
    CATEGORIES,
    EMPLOYEES,
    ITEMS,
    Column,
    Master,
    header_key,
    parse_cell,
    record_value,
)

CREATE, UPDATE, UNCHANGED, DEACTIVATE = "create", "update", "unchanged", "deactivate"
ACTIONS = (CREATE, UPDATE, UNCHANGED, DEACTIVATE)
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Source:
    """One uploaded or named file: its name (for messages) and its bytes."""

    name: str
    data: bytes


@dataclass
class Problem:
    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        if self.line is None:
            return f"{self.file}: {self.message}"
        return str(
            _("%(file)s line %(line)d: %(message)s")
            % {"file": self.file, "line": self.line, "message": self.message}
        )


@dataclass
class Change:
    master: Master
    action: str
    code: str
    line: int | None = None
    values: dict = field(default_factory=dict)  # every field the file gives, parsed
    changes: dict = field(default_factory=dict)  # field → (before, after) for updates
    record: object = None  # the existing row, for update and deactivate

    @property
    def kind(self) -> str:
        return self.master.model._meta.model_name

    def described_changes(self) -> list[tuple[str, str, str]]:
        """(column, before, after) as a person reads them in the preview."""
        labels = {column.field: column.label for column in self.master.columns}
        return [
            (str(labels.get(name, name)), _cell_text(before), _cell_text(after))
            for name, (before, after) in self.changes.items()
        ]


def _cell_text(value) -> str:
    if value is None or value == []:
        return "—"
    return "; ".join(str(part) for part in value) if isinstance(value, list) else str(value)


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def counts(self) -> dict[str, dict[str, int]]:
        counted = Counter((change.kind, change.action) for change in self.changes)
        kinds = dict.fromkeys(change.kind for change in self.changes)
        return {kind: {action: counted[kind, action] for action in ACTIONS} for kind in kinds}

    def digest(self) -> str:
        """Fingerprint of what would be written: the confirm step refuses to apply a plan that
        changed since the preview (someone else edited the same records in between)."""
        text = repr(
            [
                (c.kind, c.action, c.code, sorted(c.changes.items()), sorted(c.values.items()))
                for c in self.changes
            ]
        )
        return hashlib.sha256(text.encode()).hexdigest()


class PlanChanged(Exception):
    pass


def plan_import(
    *,
    employees: Source | None = None,
    items: Source | None = None,
    categories: Source | None = None,
    replace: bool = False,
    progress: Progress | None = None,
) -> Plan:
    plan = Plan()
    parsed = [
        (master, source, _parse(master, source, plan))
        for master, source in ((EMPLOYEES, employees), (ITEMS, items), (CATEGORIES, categories))
        if source is not None
    ]
    if not parsed:
        plan.problems.append(
            Problem("—", None, str(_("Choose an employees, a tools or a categories file.")))
        )
        return plan
    total, done = sum(len(rows) for _m, _s, rows in parsed), 0
    _check_uids_across_files(parsed, plan)
    for master, source, rows in parsed:
        existing = {getattr(record, master.key): record for record in master.records()}
        for line, values in rows:
            change = _compare(master, line, values, existing.get(values[master.key]))
            plan.changes.append(change)
            done += 1
            if progress:
                progress(done, total)
        if not replace or master.retired_status is None:
            continue
        if not rows:
            # Most likely the wrong file, or a header saved alone: it would retire everyone.
            plan.problems.append(
                Problem(
                    source.name or str(master.name),
                    None,
                    str(_("The file has no rows: it cannot replace the whole list.")),
                )
            )
        else:
            listed = {values[master.key] for _line, values in rows}
            for code, record in existing.items():
                if code not in listed and record.status != master.retired_status:
                    plan.changes.append(
                        Change(
                            master,
                            DEACTIVATE,
                            code,
                            record=record,
                            changes={"status": (record.status, master.retired_status)},
                        )
                    )
    _check_uids_against_database(parsed, plan)
    return plan


def apply_import(
    *,
    employees: Source | None = None,
    items: Source | None = None,
    categories: Source | None = None,
    replace: bool = False,
    expected_digest: str | None = None,
    progress: Progress | None = None,
) -> Plan:
    """Plan and write in one transaction; with any problem nothing is written. Raises
    PlanChanged when `expected_digest` (from a preview) no longer matches."""
    with transaction.atomic():
        plan = plan_import(employees=employees, items=items, categories=categories, replace=replace)
        if not plan.ok:
            return plan
        if expected_digest is not None and plan.digest() != expected_digest:
            raise PlanChanged()
        try:
            _write(plan, progress)
        except IntegrityError:
            # Only a concurrent edit of the same codes or UIDs gets here; the plan had none.
            raise PlanChanged() from None
    return plan


# Reading and checking the files.


def _parse(master: Master, source: Source, plan: Plan) -> list[tuple[int, dict]]:
    """(line, {field: value}) for every good row; every bad cell becomes a Problem."""
    file = source.name or str(master.name)
    try:
        text = decode(source.data)
    except UndecodableFile as exc:
        plan.problems.append(Problem(file, None, str(exc.message)))
        return []
    try:
        rows = iter(list(read_rows(text)))  # import files are small: read all, fail early
    except MalformedCsv as bad:
        plan.problems.append(Problem(file, bad.line, str(bad.message)))
        return []
    header = next(rows, None)
    if header is None:
        plan.problems.append(Problem(file, None, str(_("The file is empty."))))
        return []
    header_line, names = header
    columns = _columns(master, file, header_line, names, plan)
    if columns is None:
        return []
    statuses = master.status_map()
    parsed, first_line_of = [], {}
    for line, cells in rows:
        values, good = {}, True
        for position, column in columns.items():
            cell = cells[position] if position < len(cells) else ""
            if column.required and not cell:
                plan.problems.append(
                    Problem(file, line, str(_("%(column)s is empty.") % {"column": column.label}))
                )
                good = False
                continue
            try:
                values[column.field] = parse_cell(master, column, cell, statuses)
            except ValidationError as exc:
                message = "; ".join(exc.messages)
                plan.problems.append(Problem(file, line, f"{column.label}: {message}"))
                good = False
        code = values.get(master.key)
        if code and code in first_line_of:
            plan.problems.append(
                Problem(
                    file,
                    line,
                    str(
                        _("Code %(code)s is already on line %(line)d.")
                        % {"code": code, "line": first_line_of[code]}
                    ),
                )
            )
            good = False
        elif code:
            first_line_of[code] = line
        if good:
            parsed.append((line, values))
    _check_uids_in_file(file, parsed, plan)
    return parsed


def _columns(master, file, line, names, plan) -> dict[int, Column] | None:
    known = master.header_map()
    columns, seen = {}, {}
    for position, name in enumerate(names):
        column = known.get(header_key(name))
        if column is None:
            if name:
                plan.ignored_columns.append(f"{file}: {name}")
        elif column.field in seen:
            plan.problems.append(
                Problem(
                    file,
                    line,
                    str(
                        _("Columns “%(first)s” and “%(second)s” both mean %(column)s.")
                        % {"first": seen[column.field], "second": name, "column": column.label}
                    ),
                )
            )
        else:
            columns[position], seen[column.field] = column, name
    missing = [c for c in master.columns if c.required and c.field not in seen]
    for column in missing:
        spellings = ", ".join([str(column.label), *column.aliases[:2]])
        plan.problems.append(
            Problem(
                file,
                line,
                str(
                    _("The header has no %(column)s column (write one of: %(spellings)s).")
                    % {"column": column.label, "spellings": spellings}
                ),
            )
        )
    return None if missing else columns


def _check_uids_in_file(file: str, rows, plan: Plan) -> None:
    first_line_of = {}
    for line, values in rows:
        for uid in values.get("uids") or ():
            if uid in first_line_of:
                plan.problems.append(
                    Problem(
                        file,
                        line,
                        str(
                            _("UID %(uid)s is also on line %(line)d.")
                            % {"uid": uid, "line": first_line_of[uid]}
                        ),
                    )
                )
            else:
                first_line_of[uid] = line


def _check_uids_across_files(parsed, plan: Plan) -> None:
    with_uids = [(source, rows) for master, source, rows in parsed if master.has("uids")]
    if len(with_uids) < 2:
        return
    (first, first_rows), (second, second_rows) = with_uids
    lines = {uid: line for line, values in first_rows for uid in values.get("uids") or ()}
    for line, values in second_rows:
        for uid in values.get("uids") or ():
            if uid in lines:
                plan.problems.append(
                    Problem(
                        second.name,
                        line,
                        str(
                            _("UID %(uid)s is also in %(file)s line %(line)d.")
                            % {"uid": uid, "file": first.name, "line": lines[uid]}
                        ),
                    )
                )


def _check_uids_against_database(parsed, plan: Plan) -> None:
    """A UID in a file must not stay enrolled to another person or tool after the import.
    One that this import takes off its current holder (whose row lists other UIDs) is free."""
    wanted = {}  # uid → (master, code, file, line)
    released = set()  # (model name, code) whose listed UIDs replace what they hold
    for master, source, rows in parsed:
        for line, values in rows:
            if "uids" in values:
                released.add((master.model._meta.model_name, values["code"]))
                for uid in values["uids"]:
                    wanted[uid] = (master, values["code"], source.name, line)
    if not wanted:
        return
    tags = Tag.objects.active().filter(uid__in=wanted).select_related("employee", "item")
    for tag in tags:
        master, code, file, line = wanted[tag.uid]
        holder = tag.employee or tag.item
        kind = "employee" if tag.employee_id else "item"
        if kind == master.model._meta.model_name and holder.code == code:
            continue
        if (kind, holder.code) in released and tag.uid not in _listed_for(parsed, kind, holder):
            continue
        plan.problems.append(
            Problem(
                file,
                line,
                str(
                    _("UID %(uid)s is already enrolled to %(holder)s.")
                    % {"uid": tag.uid, "holder": holder}
                ),
            )
        )


def _listed_for(parsed, kind: str, holder) -> list[str]:
    for master, _source, rows in parsed:
        if master.model._meta.model_name == kind:
            for _line, values in rows:
                if values["code"] == holder.code:
                    return values.get("uids") or []
    return []


def _compare(master: Master, line: int, values: dict, record) -> Change:
    code = values[master.key]
    if record is None:
        return Change(master, CREATE, code, line, values={**master.defaults, **values})
    changes = {}
    for name, after in values.items():
        before = record_value(record, name)
        if before != after:
            changes[name] = (before, after)
    action = UPDATE if changes else UNCHANGED
    return Change(master, action, code, line, values=values, changes=changes, record=record)


# Writing.


# Columns written through a relation rather than as a field of the record.
RELATIONS = ("uids", "qualifications")


def _write(plan: Plan, progress: Progress | None) -> None:
    now = timezone.now()
    new_tags = []
    total = len(plan.changes)
    qualifications = _qualifications_named(plan)
    # Tags are deactivated for every row before any is enrolled, so a UID moving from one
    # record to another in the same import never meets itself in the unique index.
    for done, change in enumerate(plan.changes, start=1):
        model = change.master.model
        if change.action == CREATE:
            fields = _fields(change.values, qualifications)
            record = model.objects.create(**fields)
        elif change.action in (UPDATE, DEACTIVATE):
            record = change.record
            after = {name: value for name, (_before, value) in change.changes.items()}
            updates = _fields(after, qualifications)
            for name, value in updates.items():
                setattr(record, name, value)
            if updates:
                stamped = any(field.name == "updated_at" for field in model._meta.fields)
                record.save(update_fields=[*updates, *(["updated_at"] if stamped else [])])
        else:
            record = change.record
        if "qualifications" in change.changes or (
            change.action == CREATE and change.values.get("qualifications")
        ):
            record.qualifications.all().delete()
            HeldQualification.objects.bulk_create(
                HeldQualification(
                    employee=record,
                    qualification=qualifications[held.name],
                    expires_on=held.expires_on,
                )
                for held in change.values["qualifications"]
            )
        if "uids" in change.changes or (change.action == CREATE and change.values.get("uids")):
            before, after = change.changes.get("uids", ([], change.values["uids"]))
            owner = change.kind
            gone = set(before) - set(after)
            if gone:
                Tag.objects.filter(**{owner: record}, uid__in=gone).deactivate(now)
            new_tags += [Tag(uid=uid, **{owner: record}) for uid in after if uid not in before]
        if progress:
            progress(done, total)
    Tag.objects.bulk_create(new_tags)


def _fields(values: dict, qualifications: dict[str, Qualification]) -> dict:
    """The values that are fields of the record; a required qualification by its row."""
    fields = {name: value for name, value in values.items() if name not in RELATIONS}
    if "qualification" in fields:
        fields["qualification"] = qualifications.get(fields["qualification"])
    return fields


def _qualifications_named(plan: Plan) -> dict[str, Qualification]:
    """Every qualification the files name, created when not known yet."""
    names = set()
    for change in plan.changes:
        names.update(held.name for held in change.values.get("qualifications") or ())
        if change.values.get("qualification"):
            names.add(change.values["qualification"])
    known = {q.name: q for q in Qualification.objects.filter(name__in=names)}
    for name in sorted(names - set(known)):
        known[name] = Qualification.objects.create(name=name)
    return known
