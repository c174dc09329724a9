"""Undoing a return (a mis-tap at the kiosk): the loan is open again, and the history says so."""

import datetime
from zoneinfo import ZoneInfo

import pytest

from inventory.core.errors import ToolLentSince
from inventory.loans import services
from inventory.loans.models import Door, Loan, LoanEvent
from tests.factories import EmployeeFactory, ItemFactory

pytestmark = pytest.mark.django_db
TOKYO = ZoneInfo("Asia/Tokyo")
MORNING = datetime.datetime(2026, 11, 24, 9, 30, tzinfo=TOKYO)
NOON = MORNING.replace(hour=12)


@pytest.fixture
def returned():
    loan = services.borrow(
        item=ItemFactory(), employee=EmployeeFactory(), door=Door.KIOSK, at=MORNING
    )
    return services.return_loan(loan=loan, door=Door.KIOSK, at=NOON)


def test_reopening_a_return_leaves_the_loan_open_as_before_and_records_it(returned):
    due = returned.due_at

    loan = services.reopen_loan(
        loan=returned, door=Door.KIOSK, reason="Undone at the kiosk", at=NOON
    )

    loan.refresh_from_db()
    assert (loan.returned_at, loan.return_condition, loan.due_at, loan.is_open) == (
        None,
        "",
        due,
        True,
    )
    event = LoanEvent.objects.get(kind="reopen")
    assert event.details == {
        "reason": "Undone at the kiosk",
        "returned_at": NOON.astimezone(datetime.UTC).isoformat(),
    }
    assert [e.kind for e in LoanEvent.objects.order_by("pk")] == ["borrow", "return", "reopen"]


def test_a_return_undone_by_a_manager_records_who_and_no_reason_when_none_was_given(
    returned, manager
):
    services.reopen_loan(loan=returned, door=Door.ADMIN, by=manager, at=NOON)

    event = LoanEvent.objects.get(kind="reopen")
    assert (event.username, event.user, event.door) == ("manager", manager, "admin")
    assert event.details["reason"] == ""
    with services.lock_tool(returned.item_id) as tool:
        assert tool.open_loan == returned  # the tool is out again, to the same person


def test_a_cancelled_loan_has_no_return_to_undo():
    loan = services.borrow(item=ItemFactory(), employee=EmployeeFactory(), door=Door.KIOSK)
    services.cancel_loan(loan=loan, door=Door.KIOSK)

    with pytest.raises(ToolLentSince):
        services.reopen_loan(loan=loan, door=Door.KIOSK)

    assert not LoanEvent.objects.filter(kind="reopen").exists()


def test_a_return_followed_by_a_new_loan_cannot_be_reopened(returned):
    services.borrow(item=returned.item, employee=EmployeeFactory(), door=Door.API, at=NOON)

    with pytest.raises(ToolLentSince):
        services.reopen_loan(loan=returned, door=Door.KIOSK)

    returned.refresh_from_db()
    assert returned.returned_at == NOON
    assert not LoanEvent.objects.filter(kind="reopen").exists()


def test_a_return_reopened_once_cannot_be_reopened_again(returned):
    services.reopen_loan(loan=returned, door=Door.KIOSK)

    with pytest.raises(ToolLentSince):
        services.reopen_loan(loan=returned, door=Door.KIOSK)

    assert Loan.objects.open().count() == 1
