import datetime
from zoneinfo import ZoneInfo

import pytest

from inventory.loans import services
from inventory.loans.due import due_at_for
from inventory.loans.models import ClosedDay, Door
from tests.factories import EmployeeFactory, ItemFactory, ShiftFactory

pytestmark = pytest.mark.django_db  # the closed days are read

TOKYO = ZoneInfo("Asia/Tokyo")


def at(day, hour, minute=0):
    return datetime.datetime(2026, 11, day, hour, minute, tzinfo=TOKYO)


@pytest.mark.parametrize(
    ("borrowed", "due"),
    [
        (at(24, 8), at(24, 18)),
        (at(24, 17, 59), at(24, 18)),
        (at(24, 18), at(25, 18)),
        (at(24, 23, 30), at(25, 18)),
        (at(25, 0, 10), at(25, 18)),
    ],
)
def test_is_due_at_the_end_of_the_working_day_or_the_next_one(borrowed, due):
    assert due_at_for(ItemFactory.build(), borrowed) == due


@pytest.mark.parametrize(
    ("borrowed", "due"),
    [
        (at(27, 10), at(27, 18)),  # Friday morning: Friday evening
        (at(27, 19), at(30, 18)),  # Friday evening: Monday
        (at(28, 10), at(30, 18)),  # a Saturday shift: Monday
        (at(29, 23), at(30, 18)),  # Sunday night: Monday
    ],
)
def test_a_loan_falls_due_on_a_working_day(borrowed, due):
    assert due_at_for(ItemFactory.build(), borrowed) == due


def test_a_factory_working_saturdays_says_so(settings):
    settings.LOAN_WORKING_DAYS = frozenset(range(6))  # Monday to Saturday
    assert due_at_for(ItemFactory.build(), at(27, 19)) == at(28, 18)
    assert due_at_for(ItemFactory.build(), at(28, 19)) == at(30, 18)


def test_follows_the_configured_end_of_day(settings):
    settings.LOAN_DUE_TIME = (17, 15)
    assert due_at_for(ItemFactory.build(), at(24, 9)) == at(24, 17, 15)


def test_uses_utc_input_in_local_time():
    borrowed = datetime.datetime(2026, 11, 24, 10, 0, tzinfo=datetime.UTC)  # 19:00 in Tokyo
    assert due_at_for(ItemFactory.build(), borrowed) == at(25, 18)


def test_the_tools_own_loan_period_wins():
    item = ItemFactory.build(loan_period=datetime.timedelta(hours=4))
    assert due_at_for(item, at(24, 17)) == at(24, 21)


# Closed days.


def test_a_closed_day_is_skipped_like_a_weekend():
    ClosedDay.objects.create(date=datetime.date(2026, 11, 25), name="創立記念日")
    assert due_at_for(ItemFactory.build(), at(24, 19)) == at(26, 18)
    assert due_at_for(ItemFactory.build(), at(25, 10)) == at(26, 18)


def test_a_long_closure_with_its_weekends_is_skipped_whole():
    for day in range(23, 28):  # Monday to Friday closed
        ClosedDay.objects.create(date=datetime.date(2026, 11, day))
    assert due_at_for(ItemFactory.build(), at(20, 19)) == at(30, 18)


def test_closed_days_do_not_move_a_tools_own_loan_period():
    ClosedDay.objects.create(date=datetime.date(2026, 11, 24))
    item = ItemFactory.build(loan_period=datetime.timedelta(hours=4))
    assert due_at_for(item, at(24, 9)) == at(24, 13)


# Shifts.


@pytest.fixture
def night():
    return ShiftFactory.build(starts_at=datetime.time(22), ends_at=datetime.time(6))


@pytest.mark.parametrize(
    ("borrowed", "due"),
    [
        (at(24, 22, 30), at(25, 6)),  # Tuesday night: Wednesday morning
        (at(25, 3), at(25, 6)),  # in the small hours of the same shift
        (at(24, 15), at(25, 6)),  # before the shift starts: the end of that night's shift
        (at(27, 23), at(28, 6)),  # Friday's night shift ends on Saturday morning
        # On Saturday: the end of Monday's night shift, on Tuesday morning.
        (at(28, 10), datetime.datetime(2026, 12, 1, 6, tzinfo=TOKYO)),
    ],
)
def test_a_night_shifts_loan_is_due_when_the_shift_ends(night, borrowed, due):
    assert due_at_for(ItemFactory.build(), borrowed, shift=night) == due


def test_a_day_shift_ends_the_working_day_at_its_own_time():
    early = ShiftFactory.build(starts_at=datetime.time(6), ends_at=datetime.time(14, 30))
    assert due_at_for(ItemFactory.build(), at(24, 9), shift=early) == at(24, 14, 30)
    assert due_at_for(ItemFactory.build(), at(24, 15), shift=early) == at(25, 14, 30)


def test_a_night_shift_that_begins_on_a_closed_day_is_skipped(night):
    ClosedDay.objects.create(date=datetime.date(2026, 11, 25))  # Wednesday
    assert due_at_for(ItemFactory.build(), at(25, 15), shift=night) == at(27, 6)


def test_a_borrow_follows_the_shift_of_the_person(night):
    night.save()
    person = EmployeeFactory(shift=night)
    loan = services.borrow(item=ItemFactory(), employee=person, door=Door.KIOSK, at=at(24, 23))
    assert loan.due_at == at(25, 6)
