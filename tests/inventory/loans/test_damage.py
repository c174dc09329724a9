"""Damage said right after a return (at the kiosk that took the tool back)."""

import datetime
from zoneinfo import ZoneInfo

import pytest

from inventory.core.errors import ToolLentSince
from inventory.items.models import Item
from inventory.loans import services
from inventory.loans.models import Door, LoanEvent
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


def test_damage_marks_the_return_sends_the_tool_to_maintenance_and_records_who_said_so(
    returned,
):
    reporter = EmployeeFactory(code="E0042", name="Yamada")

    services.report_damage(loan=returned, door=Door.KIOSK, reported_by=reporter)

    returned.refresh_from_db()
    assert returned.return_condition == "damaged"
    assert Item.objects.get(pk=returned.item_id).status == "maintenance"
    event = LoanEvent.objects.get(kind="damage")
    assert event.details == {"reported_by": "E0042", "reported_by_name": "Yamada"}
    assert event.employee_code == returned.employee.code  # whose loan it was


def test_damage_recorded_by_a_manager_in_the_admin_names_the_manager(returned, manager):
    services.report_damage(loan=returned, door=Door.ADMIN, by=manager, at=NOON)

    event = LoanEvent.objects.get(kind="damage")
    assert (event.username, event.door, event.at, event.details) == ("manager", "admin", NOON, {})


def test_a_retired_tool_reported_damaged_stays_retired(returned):
    Item.objects.filter(pk=returned.item_id).update(status="retired")

    services.report_damage(loan=returned, door=Door.KIOSK)

    assert Item.objects.get(pk=returned.item_id).status == "retired"


def test_damage_cannot_be_reported_on_a_return_once_the_tool_was_lent_again(returned):
    services.borrow(item=returned.item, employee=EmployeeFactory(), door=Door.API, at=NOON)

    with pytest.raises(ToolLentSince):
        services.report_damage(loan=returned, door=Door.KIOSK)

    returned.refresh_from_db()
    assert returned.return_condition == "ok"
    assert Item.objects.get(pk=returned.item_id).status == "available"
