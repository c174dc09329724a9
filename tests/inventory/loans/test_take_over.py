"""Taking over a colleague's tool: it was returned from its holder first (a kiosk tap), then lent
to the taker as a handover from that holder (an explicit step, the kiosk's button)."""

import datetime
from zoneinfo import ZoneInfo

import pytest

from inventory.core.errors import (
    EmployeeNotActive,
    InvalidRequest,
    ItemNotLoanable,
    ToolLentSince,
)
from inventory.employees.models import Employee
from inventory.items.models import Item
from inventory.loans import services
from inventory.loans.models import Door, Loan, LoanEvent
from tests.factories import EmployeeFactory, ItemFactory

pytestmark = pytest.mark.django_db
TOKYO = ZoneInfo("Asia/Tokyo")
MORNING = datetime.datetime(2026, 11, 24, 9, 30, tzinfo=TOKYO)
NOON = MORNING.replace(hour=12)
LATER = NOON + datetime.timedelta(seconds=20)


@pytest.fixture
def returned():
    """Sato's loan of the morning, returned at noon."""
    loan = services.borrow(
        item=ItemFactory(), employee=EmployeeFactory(code="E0001"), door=Door.KIOSK, at=MORNING
    )
    return services.return_loan(loan=loan, door=Door.KIOSK, at=NOON)


def test_lends_the_returned_tool_to_the_taker_as_a_handover_from_its_holder(returned):
    taker = EmployeeFactory(code="E0002")

    loan = services.take_over(returned=returned, employee=taker, door=Door.KIOSK, at=LATER)

    assert (loan.employee, loan.borrowed_at, loan.is_open, loan.note) == (taker, LATER, True, "")
    assert Loan.objects.open().get().pk == loan.pk
    kinds = list(LoanEvent.objects.order_by("pk").values_list("kind", "employee_code", "details"))
    assert kinds == [
        ("borrow", "E0001", {}),
        ("return", "E0001", {"condition": "ok"}),
        ("handover", "E0002", {"from": "E0001", "from_name": returned.employee.name}),
    ]


def test_a_take_over_timed_before_the_return_happens_at_the_return(returned):
    loan = services.take_over(
        returned=returned,
        employee=EmployeeFactory(),
        door=Door.KIOSK,
        at=NOON - datetime.timedelta(minutes=1),
    )

    assert loan.borrowed_at == NOON


def test_a_tool_lent_again_since_its_return_cannot_be_taken_over(returned, english):
    services.borrow(item=returned.item, employee=EmployeeFactory(), door=Door.API, at=NOON)

    with pytest.raises(ToolLentSince) as caught:
        services.take_over(returned=returned, employee=EmployeeFactory(), door=Door.KIOSK)

    assert returned.item.name in caught.value.message
    assert Loan.objects.count() == 2


def test_a_take_over_by_a_manager_records_who_and_the_note(returned, manager):
    services.take_over(
        returned=returned,
        employee=EmployeeFactory(),
        door=Door.ADMIN,
        by=manager,
        at=LATER,
        note="night shift",
    )

    handover = LoanEvent.objects.get(kind="handover")
    assert (handover.username, handover.user) == ("manager", manager)
    assert Loan.objects.open().get().note == "night shift"


def test_the_holder_cannot_take_over_their_own_return(returned, english):
    with pytest.raises(InvalidRequest) as caught:
        services.take_over(returned=returned, employee=returned.employee, door=Door.KIOSK)

    assert caught.value.message == (
        "The tool was returned from this person; undo the return instead."
    )

    assert not Loan.objects.open().exists()


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (
            lambda item, taker: Item.objects.filter(pk=item.pk).update(status="maintenance"),
            ItemNotLoanable,
        ),
        (
            lambda item, taker: Employee.objects.filter(pk=taker.pk).update(status="suspended"),
            EmployeeNotActive,
        ),
    ],
)
def test_a_refused_take_over_changes_nothing(returned, change, error):
    taker = EmployeeFactory()
    change(returned.item, taker)

    with pytest.raises(error):
        services.take_over(returned=returned, employee=taker, door=Door.KIOSK, at=LATER)

    assert not Loan.objects.open().exists()
    assert LoanEvent.objects.count() == 2
