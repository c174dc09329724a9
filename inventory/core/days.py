"""Local calendar days as ranges of stored (UTC) times, for filters that must use an index."""

import datetime

from django.utils import timezone


def local_midnight(day: datetime.date) -> datetime.datetime:
    """The start of a calendar day in the configured time zone."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time()))


def on_or_after(day: datetime.date) -> datetime.datetime | None:
    """The start of the day, or None for the first day there is (it has no UTC equivalent)."""
    return None if day == datetime.date.min else local_midnight(day)


def before_end_of(day: datetime.date) -> datetime.datetime | None:
    """The start of the next day, or None for the last day there is (no upper bound)."""
    return None if day == datetime.date.max else local_midnight(day + datetime.timedelta(days=1))
