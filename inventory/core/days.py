"""Local calendar days: as ranges of stored (UTC) times, for filters that must use an index; as
people write them in a file; and months later (calibration intervals)."""

import calendar
import datetime
import re

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def local_midnight(day: datetime.date) -> datetime.datetime:
    """The start of a calendar day in the configured time zone."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time()))


def on_or_after(day: datetime.date) -> datetime.datetime | None:
    """The start of the day, or None for the first day there is (it has no UTC equivalent)."""
    return None if day == datetime.date.min else local_midnight(day)


def before_end_of(day: datetime.date) -> datetime.datetime | None:
    """The start of the next day, or None for the last day there is (no upper bound)."""
    return None if day == datetime.date.max else local_midnight(day + datetime.timedelta(days=1))


def parse_date(cell: str) -> datetime.date:
    """A date as people type it: 2026-03-31, 2026/3/31 (Excel in Japan) or 2026.3.31. Raises
    ValidationError with a message that shows the way to write it."""
    try:
        return datetime.date.fromisoformat(cell.replace("/", "-").replace(".", "-"))
    except ValueError:
        # 2026/1/5 as Excel writes it in Japan: the parts without leading zeros.
        parts = re.fullmatch(r"(\d{4})[/\-.](\d{1,2})[/\-.](\d{1,2})", cell)
        if parts:
            try:
                return datetime.date(*(int(part) for part in parts.groups()))
            except ValueError:
                pass
    raise ValidationError(
        _("“%(value)s” is not a date. Write it as 2026-03-31 or 2026/3/31."),
        params={"value": cell},
    )


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day `months` later, or the month's last day when it is shorter (a calibration
    done on 31 January for a month is due on 28 or 29 February)."""
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
