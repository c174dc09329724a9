import datetime

import factory
from django.utils import timezone

from inventory.employees.models import Employee
from inventory.items.models import Item, Tag
from inventory.loans.models import Door, Loan


class EmployeeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Employee

    code = factory.Sequence(lambda n: f"E{n + 10000}")
    name = factory.Sequence(lambda n: f"社員 {n}")
    reading = factory.Sequence(lambda n: f"しゃいん {n}")
    department = "製造一課"


class ItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Item

    code = factory.Sequence(lambda n: f"TO{n + 10000}")
    name = factory.Sequence(lambda n: f"トルクレンチ {n}")
    category = "工具"
    location = "A-1"


class BadgeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag

    uid = factory.Sequence(lambda n: f"04{n:012X}")
    employee = factory.SubFactory(EmployeeFactory)


class ToolTagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag

    uid = factory.Sequence(lambda n: f"1D{n:012X}")
    item = factory.SubFactory(ItemFactory)


class LoanFactory(factory.django.DjangoModelFactory):
    """A loan written directly, for tests that need history to exist (not for testing rules)."""

    class Meta:
        model = Loan

    item = factory.SubFactory(ItemFactory)
    employee = factory.SubFactory(EmployeeFactory)
    borrowed_at = factory.LazyFunction(timezone.now)
    due_at = factory.LazyAttribute(lambda loan: loan.borrowed_at + datetime.timedelta(hours=8))
    door = Door.API


def overdue_loan(hours_late: float, **employee) -> Loan:
    """An open loan, through the services, that became due `hours_late` hours ago."""
    from inventory.loans import services

    now = timezone.now()
    return services.borrow(
        item=ItemFactory(),
        employee=EmployeeFactory(**employee),
        door=Door.KIOSK,
        at=now - datetime.timedelta(hours=hours_late + 1),
        due_at=now - datetime.timedelta(hours=hours_late),
    )
