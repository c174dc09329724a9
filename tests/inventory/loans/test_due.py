import datetime
from zoneinfo import ZoneInfo

import pytest

from inventory.loans.due import due_at_for
from tests.factories import ItemFactory

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
