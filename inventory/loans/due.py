"""When a loan is due: factories think in shifts, not in days."""

import datetime

from django.conf import settings
from django.utils import timezone

from inventory.items.models import Item


def due_at_for(item: Item, borrowed_at: datetime.datetime) -> datetime.datetime:
    """The tool's own loan period if it has one, else the end of the working day
    (LOAN_DUE_TIME, local): today, or the next working day (LOAN_WORKING_DAYS) when borrowed
    at or after that time or on a day off."""
    if item.loan_period:
        return borrowed_at + item.loan_period
    hour, minute = settings.LOAN_DUE_TIME
    local = timezone.localtime(borrowed_at)
    day = local.date()
    if local.time() >= datetime.time(hour, minute):
        day += datetime.timedelta(days=1)
    for _ in range(6):  # a week at most, whatever the setting holds
        if day.weekday() in settings.LOAN_WORKING_DAYS:
            break
        day += datetime.timedelta(days=1)
    tz = timezone.get_current_timezone()
    # Built from the date (not by adding 24 h) so a DST change keeps it at the wall-clock time.
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=tz)
