import datetime
from zoneinfo import ZoneInfo

import pytest

from inventory.core.errors import LoanNotOpen
from inventory.items.models import Item
from inventory.loans import services
from inventory.loans.models import Door, Loan, LoanEvent
from kiosk import actions
from tests.factories import EmployeeFactory, ItemFactory

pytestmark = pytest.mark.django_db
TOKYO = ZoneInfo("Asia/Tokyo")
MORNING = datetime.datetime(2026, 11, 24, 9, 30, tzinfo=TOKYO)
NOON = MORNING.replace(hour=12)


@pytest.fixture
def loan():
    return services.borrow(
        item=ItemFactory(), employee=EmployeeFactory(), door=Door.KIOSK, at=MORNING
    )


def test_returning_closes_the_loan_and_records_it(loan, manager):
    returned = services.return_loan(loan=loan, door=Door.ADMIN, by=manager, at=NOON)

    assert not returned.is_open
    assert (returned.returned_at, returned.closed_by, returned.return_condition) == (
        NOON,
        manager,
        "ok",
    )
    event = LoanEvent.objects.get(loan=loan, kind="return")
    assert (event.at, event.door, event.username) == (NOON, "admin", "manager")


def test_a_return_at_a_kiosk_with_a_note_records_both(loan):
    station, _token, _code = actions.create_station(name="Crib 2")

    services.return_loan(loan=loan, door=Door.KIOSK, station=station, at=NOON, note="oily")

    event = LoanEvent.objects.get(kind="return")
    assert (event.station, event.station_name) == (station, "Crib 2")
    assert event.details == {"condition": "ok", "note": "oily"}


def test_taking_back_a_tool_that_is_not_out_is_refused(loan, english):
    services.return_loan(loan=loan, door=Door.KIOSK, at=NOON)

    with services.lock_tool(loan.item_id) as tool, pytest.raises(LoanNotOpen) as caught:
        tool.take_back(door=Door.KIOSK)

    assert caught.value.message == "This loan was already returned; nothing was changed."


def test_a_returned_tool_can_be_borrowed_again(loan):
    services.return_loan(loan=loan, door=Door.KIOSK, at=NOON)
    again = services.borrow(item=loan.item, employee=EmployeeFactory(), door=Door.KIOSK, at=NOON)
    assert again.is_open


def test_a_tools_later_loans_are_returned_like_its_first(loan):
    services.return_loan(loan=loan, door=Door.KIOSK, at=NOON)
    for hour in (13, 15):
        again = services.borrow(
            item=loan.item, employee=EmployeeFactory(), door=Door.KIOSK, at=NOON.replace(hour=hour)
        )
        with services.lock_tool(loan.item_id) as tool:
            assert tool.open_loan == again
        returned = services.return_loan(
            loan=again, door=Door.KIOSK, at=NOON.replace(hour=hour, minute=30)
        )
        with services.lock_tool(loan.item_id) as tool:
            assert (tool.open_loan, tool.returned_at) == (None, returned.returned_at)
    assert Loan.objects.filter(item=loan.item).open().count() == 0
    assert Loan.objects.filter(item=loan.item).returned().count() == 3


def test_returning_twice_is_refused_and_changes_nothing(loan, english):
    services.return_loan(loan=loan, door=Door.KIOSK, at=NOON)
    with pytest.raises(LoanNotOpen) as caught:
        services.return_loan(loan=loan, door=Door.KIOSK, at=NOON + datetime.timedelta(hours=1))
    assert caught.value.code == "LOAN_NOT_OPEN"
    assert caught.value.message == "This loan was already returned; nothing was changed."
    loan.refresh_from_db()
    assert loan.returned_at == NOON
    assert LoanEvent.objects.filter(kind="return").count() == 1


@pytest.mark.parametrize("status", [Item.Status.MAINTENANCE, Item.Status.RETIRED])
def test_a_return_is_accepted_whatever_the_tools_status(loan, status):
    Item.objects.filter(pk=loan.item_id).update(status=status)
    assert not services.return_loan(loan=loan, door=Door.KIOSK, at=NOON).is_open


def test_a_damaged_return_sends_the_tool_to_maintenance(loan):
    services.return_loan(loan=loan, door=Door.KIOSK, at=NOON, condition=Loan.Condition.DAMAGED)
    loan.item.refresh_from_db()
    assert loan.item.status == Item.Status.MAINTENANCE
    assert LoanEvent.objects.get(kind="return").details["condition"] == "damaged"


def test_a_return_timed_before_the_borrow_is_recorded_at_the_borrow(loan):
    returned = services.return_loan(
        loan=loan, door=Door.KIOSK, at=MORNING - datetime.timedelta(minutes=5)
    )
    assert returned.returned_at == MORNING


def test_cancelling_ends_the_loan_without_a_return_and_keeps_the_reason(loan, manager):
    cancelled = services.cancel_loan(
        loan=loan, door=Door.ADMIN, by=manager, reason="mis-tap", at=NOON
    )

    cancelled.refresh_from_db()
    assert (cancelled.cancelled_at, cancelled.returned_at, cancelled.closed_by) == (
        NOON,
        None,
        manager,
    )
    event = LoanEvent.objects.get(kind="cancel")
    assert (event.details, event.username, event.at) == ({"reason": "mis-tap"}, "manager", NOON)
    assert Loan.objects.open().count() == 0


def test_a_returned_loan_cannot_be_cancelled(loan, english):
    services.return_loan(loan=loan, door=Door.KIOSK, at=NOON)

    with pytest.raises(LoanNotOpen) as caught:
        services.cancel_loan(loan=loan, door=Door.ADMIN)

    assert caught.value.message == "This loan was already returned; nothing was changed."
    assert Loan.objects.get(pk=loan.pk).cancelled_at is None


def test_a_cancel_without_a_reason_records_none(loan):
    services.cancel_loan(loan=loan, door=Door.KIOSK)
    assert LoanEvent.objects.get(kind="cancel").details == {"reason": ""}


def test_a_return_refused_says_how_that_loan_ended_whatever_other_loans_did(loan, english):
    """A loan returned before is "returned", though another loan was cancelled since."""
    services.return_loan(loan=loan, door=Door.KIOSK, at=NOON)
    other = services.borrow(item=ItemFactory(), employee=EmployeeFactory(), door=Door.API)
    services.cancel_loan(loan=other, door=Door.API)

    with pytest.raises(LoanNotOpen) as caught:
        services.return_loan(loan=loan, door=Door.KIOSK)

    assert caught.value.message == "This loan was already returned; nothing was changed."


def test_a_cancelled_loan_cannot_be_returned_or_cancelled_again(loan, english):
    services.cancel_loan(loan=loan, door=Door.ADMIN)
    for use_case in (services.return_loan, services.cancel_loan):
        with pytest.raises(LoanNotOpen) as caught:
            use_case(loan=loan, door=Door.ADMIN)
        assert caught.value.message == "This loan was already cancelled; nothing was changed."


def test_a_cancel_costs_a_fixed_number_of_queries(loan, manager, django_assert_num_queries):
    # The tool and the loan locked (with its person, whom the history names), the update, the
    # event, and the savepoint around them.
    loan = Loan.objects.get(pk=loan.pk)
    with django_assert_num_queries(6):
        services.cancel_loan(loan=loan, door=Door.ADMIN, by=manager)
