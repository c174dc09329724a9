import datetime
from zoneinfo import ZoneInfo

import pytest

from inventory.core.errors import EmployeeNotActive, ItemNotLoanable, LoanNotOpen
from inventory.employees.models import Employee
from inventory.items.models import Item
from inventory.loans import services
from inventory.loans.models import Door, Loan, LoanEvent
from tests.factories import EmployeeFactory, ItemFactory, handover

pytestmark = pytest.mark.django_db
TOKYO = ZoneInfo("Asia/Tokyo")
MORNING = datetime.datetime(2026, 11, 24, 9, 30, tzinfo=TOKYO)
NOON = MORNING.replace(hour=12)


@pytest.fixture
def first_loan():
    return services.borrow(
        item=ItemFactory(), employee=EmployeeFactory(code="E0001"), door=Door.KIOSK, at=MORNING
    )


def test_hands_the_tool_over_in_one_step(first_loan):
    taker = EmployeeFactory(code="E0002")

    previous, loan = handover(item=first_loan.item, employee=taker, door=Door.KIOSK, at=NOON)

    assert previous.pk == first_loan.pk and previous.returned_at == NOON
    assert loan.employee == taker and loan.borrowed_at == NOON and loan.is_open
    assert Loan.objects.open().get().pk == loan.pk
    kinds = list(LoanEvent.objects.order_by("pk").values_list("kind", "employee_code", "details"))
    assert kinds[1:] == [
        ("return", "E0001", {"handover_to": "E0002"}),
        ("handover", "E0002", {"from": "E0001", "from_name": first_loan.employee.name}),
    ]


def test_a_handover_timed_before_the_loan_it_ends_happens_when_that_loan_began(first_loan):
    # A tap replayed from a kiosk whose clock was an hour behind.
    previous, loan = handover(
        item=first_loan.item,
        employee=EmployeeFactory(),
        door=Door.KIOSK,
        at=MORNING - datetime.timedelta(hours=1),
    )

    assert previous.returned_at == loan.borrowed_at == MORNING


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
def test_a_refused_handover_changes_nothing(first_loan, change, error):
    taker = EmployeeFactory()
    change(first_loan.item, taker)

    with pytest.raises(error):
        handover(item=first_loan.item, employee=taker, door=Door.KIOSK, at=NOON)

    first_loan.refresh_from_db()
    assert first_loan.is_open
    assert Loan.objects.count() == 1
    assert LoanEvent.objects.count() == 1


def test_a_handover_needs_an_open_loan():
    with pytest.raises(LoanNotOpen):
        handover(item=ItemFactory(), employee=EmployeeFactory(), door=Door.KIOSK)
