import datetime
from zoneinfo import ZoneInfo

import pytest

from inventory.core.errors import InvalidRequest, LoanNotOpen
from inventory.loans import services
from inventory.loans.models import Door, LoanEvent
from tests.factories import EmployeeFactory, ItemFactory

pytestmark = pytest.mark.django_db
TOKYO = ZoneInfo("Asia/Tokyo")
MORNING = datetime.datetime(2026, 11, 2, 9, 0, tzinfo=TOKYO)
NOON = MORNING.replace(hour=12)
EVENING = MORNING.replace(hour=17)


@pytest.fixture
def loan():
    return services.borrow(
        item=ItemFactory(), employee=EmployeeFactory(), door=Door.KIOSK, at=MORNING
    )


def test_a_forgotten_return_closes_the_loan_and_keeps_the_original_events(loan, manager):
    corrected = services.correct_loan(
        loan=loan, by=manager, reason="returned at lunch, nobody tapped", returned_at=NOON
    )

    corrected.refresh_from_db()
    assert (corrected.returned_at, corrected.closed_by, corrected.return_condition) == (
        NOON,
        manager,
        "ok",
    )
    borrow, correction = LoanEvent.objects.filter(loan=loan).order_by("pk")
    assert (borrow.kind, borrow.at) == ("borrow", MORNING)
    assert correction.kind == "correction"
    assert correction.username == "manager"
    assert correction.details == {
        "reason": "returned at lunch, nobody tapped",
        "before": {"returned_at": None},
        "after": {"returned_at": NOON.astimezone(datetime.UTC).isoformat()},
    }


def test_a_recorded_return_time_can_be_moved(loan, manager):
    services.return_loan(loan=loan, door=Door.KIOSK, at=EVENING)
    services.correct_loan(loan=loan, by=manager, reason="clock was wrong", returned_at=NOON)

    loan.refresh_from_db()
    assert loan.returned_at == NOON
    assert LoanEvent.objects.get(kind="return").at == EVENING
    details = LoanEvent.objects.get(kind="correction").details
    assert datetime.datetime.fromisoformat(details["before"]["returned_at"]) == EVENING


def test_only_the_times_that_change_are_recorded(loan, manager):
    services.correct_loan(
        loan=loan,
        by=manager,
        reason="longer job",
        borrowed_at=MORNING,
        due_at=EVENING + datetime.timedelta(days=1),
    )
    details = LoanEvent.objects.get(kind="correction").details
    assert set(details["after"]) == {"due_at"}


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"returned_at": MORNING - datetime.timedelta(hours=1)}, "before the borrow"),
        ({"due_at": MORNING - datetime.timedelta(hours=1)}, "before the borrow"),
        ({"returned_at": datetime.datetime(2999, 1, 1, tzinfo=TOKYO)}, "future"),
        ({"borrowed_at": MORNING}, "Nothing to correct"),
        ({"borrowed_at": datetime.datetime(1880, 11, 2, 9, tzinfo=TOKYO)}, "before 2000"),
        ({"due_at": datetime.datetime(9999, 12, 31, tzinfo=TOKYO)}, "at most 366 days"),
    ],
)
def test_impossible_times_are_refused_and_change_nothing(loan, manager, english, changes, words):
    with pytest.raises(InvalidRequest) as caught:
        services.correct_loan(loan=loan, by=manager, reason="typo", **changes)

    assert words in caught.value.message
    loan.refresh_from_db()
    assert (loan.borrowed_at, loan.returned_at) == (MORNING, None)
    assert not LoanEvent.objects.filter(kind="correction").exists()


def test_a_correction_needs_a_reason(loan, manager, english):
    with pytest.raises(InvalidRequest, match="why"):
        services.correct_loan(loan=loan, by=manager, reason="  ", returned_at=NOON)


def test_a_period_overlapping_another_loan_of_the_same_tool_is_refused(loan, manager, english):
    services.return_loan(loan=loan, door=Door.KIOSK, at=NOON)
    later = services.borrow(
        item=loan.item, employee=EmployeeFactory(), door=Door.KIOSK, at=NOON.replace(hour=13)
    )

    with pytest.raises(InvalidRequest, match=f"overlap loan {loan.pk}"):
        services.correct_loan(
            loan=later, by=manager, reason="typo", borrowed_at=NOON - datetime.timedelta(hours=1)
        )
    with pytest.raises(InvalidRequest, match=f"overlap loan {later.pk}"):
        services.correct_loan(loan=loan, by=manager, reason="typo", returned_at=EVENING)


def test_a_cancelled_loan_cannot_be_corrected(loan, manager):
    services.cancel_loan(loan=loan, door=Door.KIOSK, at=NOON)
    with pytest.raises(LoanNotOpen):
        services.correct_loan(loan=loan, by=manager, reason="typo", returned_at=NOON)
