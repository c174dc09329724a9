import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from inventory.core.errors import (
    EmployeeNotActive,
    InvalidRequest,
    ItemNotLoanable,
    ItemOnLoan,
)
from inventory.employees.models import Employee
from inventory.items.models import Item
from inventory.loans import services
from inventory.loans.models import Door, Loan, LoanEvent
from tests.factories import EmployeeFactory, ItemFactory, ShiftFactory

pytestmark = pytest.mark.django_db
TOKYO = ZoneInfo("Asia/Tokyo")
MORNING = datetime.datetime(2026, 11, 24, 9, 30, tzinfo=TOKYO)


def test_borrowing_opens_a_loan_and_records_who_what_and_when():
    item = ItemFactory(code="TO0001", name="トルクレンチ")
    employee = EmployeeFactory(code="E0001", name="山田 太郎")

    loan = services.borrow(item=item, employee=employee, door=Door.KIOSK, at=MORNING)

    assert loan.is_open
    assert (loan.item, loan.employee, loan.borrowed_at, loan.door, loan.note) == (
        item,
        employee,
        MORNING,
        "kiosk",
        "",
    )
    event = LoanEvent.objects.get(loan=loan)
    assert (event.kind, event.at, event.door) == ("borrow", MORNING, "kiosk")
    assert (event.item_code, event.item_name) == ("TO0001", "トルクレンチ")
    assert (event.employee_code, event.employee_name) == ("E0001", "山田 太郎")
    # Lent by no one logged in and at no station: the event says neither.
    assert (event.user, event.username, event.station, event.station_name) == (None, "", None, "")


def test_history_keeps_the_names_of_the_time_after_a_rename():
    employee = EmployeeFactory(name="旧姓 花子")
    services.borrow(item=ItemFactory(), employee=employee, door=Door.API, at=MORNING)
    Employee.objects.filter(pk=employee.pk).update(name="新姓 花子")

    assert LoanEvent.objects.get().employee_name == "旧姓 花子"


def test_records_the_user_when_a_manager_lends(manager):
    loan = services.borrow(
        item=ItemFactory(), employee=EmployeeFactory(), door=Door.ADMIN, by=manager
    )
    assert loan.borrowed_by == manager
    assert LoanEvent.objects.get().username == "manager"


def test_refuses_a_tool_already_on_loan_and_names_the_holder(english):
    item = ItemFactory(code="TO0009", name="Drill")
    holder = EmployeeFactory(name="Holder Person", code="E0009")
    services.borrow(item=item, employee=holder, door=Door.API, at=MORNING)

    with pytest.raises(ItemOnLoan) as caught:
        services.borrow(item=item, employee=EmployeeFactory(), door=Door.API)

    assert caught.value.code == "ITEM_ON_LOAN"
    assert caught.value.message.startswith(
        "Drill (TO0009) is already on loan to Holder Person (E0009) since 11/24/2026 09:30."
    )
    assert Loan.objects.count() == 1


@pytest.mark.parametrize(
    ("status", "why"),
    [(Item.Status.MAINTENANCE, "it is in maintenance."), (Item.Status.RETIRED, "it is retired.")],
)
def test_refuses_a_tool_that_is_not_loanable_and_says_why(english, status, why):
    item = ItemFactory(status=status, code="TO0009", name="Drill")
    with pytest.raises(ItemNotLoanable) as caught:
        services.borrow(item=item, employee=EmployeeFactory(), door=Door.API)
    assert caught.value.code == "ITEM_NOT_LOANABLE"
    assert caught.value.message == f"Drill (TO0009) cannot be borrowed: {why}"
    assert not Loan.objects.exists()


def test_refuses_a_tool_past_its_calibration_date(english):
    item = ItemFactory(calibration_due=datetime.date(2026, 11, 23), code="TO0009", name="Drill")
    with pytest.raises(ItemNotLoanable) as caught:
        services.borrow(item=item, employee=EmployeeFactory(), door=Door.API, at=MORNING)
    assert caught.value.message.startswith(
        "Drill (TO0009) cannot be borrowed: its calibration was due on 11/23/2026."
    )


def test_lends_a_tool_on_its_calibration_day():
    item = ItemFactory(calibration_due=datetime.date(2026, 11, 24))
    assert services.borrow(item=item, employee=EmployeeFactory(), door=Door.API, at=MORNING)


@pytest.mark.parametrize("status", [Employee.Status.INACTIVE, Employee.Status.SUSPENDED])
def test_refuses_an_employee_who_is_not_active(english, status):
    employee = EmployeeFactory(status=status)
    with pytest.raises(EmployeeNotActive) as caught:
        services.borrow(item=ItemFactory(), employee=employee, door=Door.API)
    assert caught.value.code == "EMPLOYEE_NOT_ACTIVE"
    assert caught.value.message.startswith(
        f"{employee} is {employee.get_status_display().lower()} and cannot borrow tools."
    )


def test_an_explicit_due_time_wins():
    due = MORNING + datetime.timedelta(days=3)
    loan = services.borrow(
        item=ItemFactory(), employee=EmployeeFactory(), door=Door.API, at=MORNING, due_at=due
    )
    assert loan.due_at == due


@pytest.mark.parametrize("before", [datetime.timedelta(minutes=1), datetime.timedelta(0)])
def test_refuses_a_due_time_not_after_the_borrow(english, before):
    with pytest.raises(InvalidRequest) as caught:
        services.borrow(
            item=ItemFactory(),
            employee=EmployeeFactory(),
            door=Door.API,
            at=MORNING,
            due_at=MORNING - before,
        )
    assert caught.value.message == "The due time must be later than the time of borrowing."
    assert not Loan.objects.exists()


def test_refuses_a_due_time_beyond_the_longest_loan_period(english):
    with pytest.raises(InvalidRequest, match="at most 366 days"):
        services.borrow(
            item=ItemFactory(),
            employee=EmployeeFactory(),
            door=Door.API,
            at=MORNING,
            due_at=MORNING + datetime.timedelta(days=367),
        )
    assert not Loan.objects.exists()


def test_the_database_itself_refuses_a_second_open_loan_for_a_tool():
    item = ItemFactory()
    services.borrow(item=item, employee=EmployeeFactory(), door=Door.API, at=MORNING)
    with pytest.raises(IntegrityError), transaction.atomic():
        Loan.objects.create(
            item=item,
            employee=EmployeeFactory(),
            borrowed_at=MORNING,
            due_at=MORNING + datetime.timedelta(hours=1),
            door=Door.API,
        )


def test_the_database_refuses_a_loan_both_returned_and_cancelled_or_returned_too_early():
    item, employee = ItemFactory(), EmployeeFactory()
    base = {"item": item, "employee": employee, "borrowed_at": MORNING, "door": Door.API}
    due = MORNING + datetime.timedelta(hours=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Loan.objects.create(**base, due_at=due, returned_at=due, cancelled_at=due)
    with pytest.raises(IntegrityError), transaction.atomic():
        Loan.objects.create(**base, due_at=due, returned_at=MORNING - datetime.timedelta(1))


def test_a_borrow_timed_before_the_tools_last_return_starts_at_that_return():
    # Another kiosk recorded a loan from 10:30 to 11:30; a kiosk that was offline then sends a
    # borrow it read at 9:30 (before that loan, so the tool cannot have been with its borrower
    # through it): the borrow is recorded from the return, and loans never overlap.
    item = ItemFactory()
    earlier = services.borrow(
        item=item, employee=EmployeeFactory(), door=Door.KIOSK, at=MORNING.replace(hour=10)
    )
    services.return_loan(loan=earlier, door=Door.KIOSK, at=MORNING.replace(hour=11))

    late = services.borrow(item=item, employee=EmployeeFactory(), door=Door.KIOSK, at=MORNING)

    assert late.borrowed_at == MORNING.replace(hour=11)
    assert LoanEvent.objects.get(loan=late).at == late.borrowed_at


def test_the_persons_shift_is_read_with_the_person():
    """The due time follows the shift: it comes in the same query as the locked person."""
    counts = []
    for shift in (None, ShiftFactory()):
        employee = EmployeeFactory(shift=shift)
        with CaptureQueriesContext(connection) as queries:
            services.borrow(item=ItemFactory(), employee=employee, door=Door.API, at=MORNING)
        counts.append(len(queries))
    assert counts[0] == counts[1]
