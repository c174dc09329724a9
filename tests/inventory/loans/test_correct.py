import datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from inventory.core.errors import InvalidRequest, LoanNotOpen
from inventory.loans import services
from inventory.loans.models import Door, Loan, LoanEvent
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
    ("changes", "message"),
    [
        (
            {"returned_at": MORNING - datetime.timedelta(hours=1)},
            "The return time must not be before the borrow time.",
        ),
        (
            {"due_at": MORNING - datetime.timedelta(hours=1)},
            "The due time must not be before the borrow time.",
        ),
        (
            {"returned_at": datetime.datetime(2999, 1, 1, tzinfo=TOKYO)},
            "A loan cannot start or end in the future.",
        ),
        ({"borrowed_at": MORNING}, "Nothing to correct: the times are the same."),
        (
            {"borrowed_at": datetime.datetime(1880, 11, 2, 9, tzinfo=TOKYO)},
            "Times before 2000 are not accepted: check the year.",
        ),
        (
            {"due_at": datetime.datetime(9999, 12, 31, tzinfo=TOKYO)},
            "The due time must be at most 366 days after the time of borrowing.",
        ),
    ],
)
def test_impossible_times_are_refused_and_change_nothing(loan, manager, english, changes, message):
    with pytest.raises(InvalidRequest) as caught:
        services.correct_loan(loan=loan, by=manager, reason="typo", **changes)

    assert caught.value.message == message
    loan.refresh_from_db()
    assert (loan.borrowed_at, loan.returned_at) == (MORNING, None)
    assert not LoanEvent.objects.filter(kind="correction").exists()


NOW = datetime.datetime(2026, 11, 2, 18, 0, tzinfo=TOKYO)  # the loan's due time too
EARLIEST = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)


@pytest.mark.parametrize(
    "changes",
    [
        {"returned_at": NOW},  # returned this very moment
        {"borrowed_at": NOW},  # borrowed this very moment, due at once
        {"returned_at": MORNING},  # back the moment it went out
        {"due_at": MORNING},  # due the moment it went out
        {  # the first moment accepted
            "borrowed_at": EARLIEST,
            "due_at": EARLIEST + datetime.timedelta(hours=9),
            "returned_at": EARLIEST + datetime.timedelta(hours=8),
        },
    ],
)
def test_times_at_the_edges_of_what_is_possible_are_accepted(loan, manager, monkeypatch, changes):
    monkeypatch.setattr(timezone, "now", lambda: NOW)

    corrected = services.correct_loan(loan=loan, by=manager, reason="as it was", **changes)

    corrected.refresh_from_db()
    assert {field: getattr(corrected, field) for field in changes} == changes


def test_a_period_overlapping_another_loan_names_it_and_when_it_began(loan, manager, english):
    services.return_loan(loan=loan, door=Door.KIOSK, at=NOON)
    later = services.borrow(
        item=loan.item, employee=EmployeeFactory(), door=Door.KIOSK, at=NOON.replace(hour=13)
    )

    with pytest.raises(InvalidRequest) as caught:
        services.correct_loan(loan=loan, by=manager, reason="typo", returned_at=EVENING)

    assert caught.value.message == (
        f"The corrected times overlap loan {later.pk} of the same tool (from 11/02/2026 13:00)."
    )


@pytest.mark.parametrize(
    "other",
    [
        lambda loan: services.borrow(  # another tool, the same morning
            item=ItemFactory(), employee=EmployeeFactory(), door=Door.API, at=MORNING
        ),
        lambda loan: services.cancel_loan(  # this tool, a loan that never happened
            loan=services.borrow(
                item=loan.item, employee=EmployeeFactory(), door=Door.API, at=NOON.replace(hour=11)
            ),
            door=Door.API,
        ),
        lambda loan: services.borrow(  # this tool, after the corrected return
            item=loan.item, employee=EmployeeFactory(), door=Door.API, at=EVENING
        ),
    ],
)
def test_only_loans_of_the_same_tool_in_the_corrected_period_clash(loan, manager, other):
    services.return_loan(loan=loan, door=Door.KIOSK, at=MORNING + datetime.timedelta(hours=1))
    other(loan)

    services.correct_loan(loan=loan, by=manager, reason="back at noon", returned_at=NOON)

    loan.refresh_from_db()
    assert loan.returned_at == NOON


def test_a_correction_needs_a_reason(loan, manager, english):
    with pytest.raises(InvalidRequest) as caught:
        services.correct_loan(loan=loan, by=manager, reason="  ", returned_at=NOON)
    assert caught.value.message == "Say why the loan is corrected."


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


def test_a_cancelled_loan_cannot_be_corrected(loan, manager, english):
    services.cancel_loan(loan=loan, door=Door.KIOSK, at=NOON)
    with pytest.raises(LoanNotOpen) as caught:
        services.correct_loan(loan=loan, by=manager, reason="typo", returned_at=NOON)
    assert caught.value.message == "This loan was already cancelled; nothing was changed."


def test_a_correction_costs_a_fixed_number_of_queries(loan, manager, django_assert_num_queries):
    # The tool and the loan locked (with its person, whom the history names), the look for a
    # clashing loan, the update, the event, and the savepoint around them.
    loan = Loan.objects.get(pk=loan.pk)
    with django_assert_num_queries(7):
        services.correct_loan(loan=loan, by=manager, reason="typo", returned_at=NOON)
