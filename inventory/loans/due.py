"""When a loan is due: factories think in shifts, not in days."""

import datetime

from django.conf import settings
from django.utils import timezone

from inventory.employees.models import Shift
from inventory.items.models import Item
from inventory.loans.models import ClosedDay

# The longest run of days without work that is looked through (the New Year break plus the
# weekends around it fits many times); beyond it the calendar is wrong, and the loan falls due.
LONGEST_CLOSURE = datetime.timedelta(days=60)


def due_at_for(
    item: Item, borrowed_at: datetime.datetime, *, shift: Shift | None = None
) -> datetime.datetime:
    """The tool's own loan period if it has one, else the end of the working day: the end of
    the person's shift, or LOAN_DUE_TIME (local). That is today's, or the next working day's
    when borrowed at or after that time, on a day off (LOAN_WORKING_DAYS) or on a closed day.

    A shift that crosses midnight ends on the morning after the day it began, and it is that
    day which must be a working one: Friday's night shift ends on Saturday at 06:00.
    """
    if item.loan_period:
        return borrowed_at + item.loan_period
    end = shift.ends_at if shift else datetime.time(*settings.LOAN_DUE_TIME)
    overnight = datetime.timedelta(days=1 if shift and shift.crosses_midnight else 0)
    local = timezone.localtime(borrowed_at)
    ends_on = local.date()
    if local.time() >= end:
        ends_on += datetime.timedelta(days=1)
    work_day = ends_on - overnight
    closed = ClosedDay.objects.between(work_day, work_day + LONGEST_CLOSURE)
    for _ in range(LONGEST_CLOSURE.days):
        if work_day.weekday() in settings.LOAN_WORKING_DAYS and work_day not in closed:
            break
        work_day += datetime.timedelta(days=1)
    tz = timezone.get_current_timezone()
    # Built from the date (not by adding 24 h) so a DST change keeps it at the wall-clock time.
    return datetime.datetime.combine(work_day + overnight, end, tzinfo=tz)
