import datetime

import factory
from django.utils import timezone

from inventory.employees.models import Employee, HeldQualification, Qualification, Shift
from inventory.items.models import Category, Item, Tag
from inventory.loans import services
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


class QualificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Qualification
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"トルク講習 {n}")


class HeldQualificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HeldQualification

    employee = factory.SubFactory(EmployeeFactory)
    qualification = factory.SubFactory(QualificationFactory)


class CategoryFactory(factory.django.DjangoModelFactory):
    """The crib's rules for the tools of a category (ItemFactory's is "工具", without rules)."""

    class Meta:
        model = Category
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"分類 {n}")


class ShiftFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shift

    name = factory.Sequence(lambda n: f"夜勤 {n}")
    starts_at = datetime.time(22, 0)
    ends_at = datetime.time(6, 0)


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


def take_over_from_holder(*, item, employee, door=Door.KIOSK, at=None):
    """A colleague's tool at a kiosk: the tap returns it from its holder, then the screen's
    button takes it over. (the returned loan, the new loan)"""
    returned = services.return_loan(loan=Loan.objects.open().get(item=item), door=door, at=at)
    return returned, services.take_over(returned=returned, employee=employee, door=door, at=at)
