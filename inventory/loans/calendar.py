"""The crib's closed days from a CSV file: a date per line, optionally its name beside it.

Read as the master files are (UTF-8 or Shift_JIS, any header or none), so the Cabinet Office's
list of national holidays (syukujitsu.csv: `1955/1/1,元日`) imports as it is downloaded. All or
nothing: a line that is not a date (other than a header on the first line) writes nothing.
"""

import datetime
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from inventory.core.csv_text import MalformedCsv, UndecodableFile, decode, read_rows
from inventory.core.days import parse_date
from inventory.loans.models import ClosedDay

NAME_LENGTH = ClosedDay._meta.get_field("name").max_length


@dataclass
class ClosedDaysImport:
    added: int = 0
    renamed: int = 0
    unchanged: int = 0
    problems: list[str] = field(default_factory=list)


def import_closed_days(data: bytes) -> ClosedDaysImport:
    """Add the file's days (a day already closed takes the file's name, if it gives one);
    days the file does not list stay closed."""
    result = ClosedDaysImport()
    days = _read(data, result)
    if result.problems:
        return result
    with transaction.atomic():
        existing = {day.date: day for day in ClosedDay.objects.filter(date__in=days)}
        for date, name in days.items():
            if date not in existing:
                ClosedDay.objects.create(date=date, name=name)
                result.added += 1
            elif name and existing[date].name != name:
                existing[date].name = name
                existing[date].save(update_fields=["name"])
                result.renamed += 1
            else:
                result.unchanged += 1
    return result


def _read(data: bytes, result: ClosedDaysImport) -> dict[datetime.date, str]:
    try:
        rows = list(read_rows(decode(data)))
    except (UndecodableFile, MalformedCsv) as bad:
        result.problems.append(str(bad.message))
        return {}
    days = {}
    for position, (line, cells) in enumerate(rows):
        try:
            date = parse_date(cells[0])
        except ValidationError as exc:
            if position == 0:
                continue  # a header
            result.problems.append(
                str(_("Line %(line)d: %(problem)s") % {"line": line, "problem": exc.messages[0]})
            )
            continue
        days[date] = (cells[1] if len(cells) > 1 else "")[:NAME_LENGTH]
    if not days and not result.problems:
        result.problems.append(str(_("The file has no dates.")))
    return days
