"""The screen's buttons (undo, take over, report damage, done), enrolment by tap, and demo taps:
what people do at or for a kiosk besides tapping."""

import datetime
import uuid

import pytest
from django.test import Client
from django.utils import timezone

from inventory.items.models import Item, Tag
from inventory.loans import services
from inventory.loans.models import Door, Loan, LoanEvent
from kiosk import actions, pairing
from kiosk.models import Station
from kiosk.scans import Scan, record_scans
from tests.factories import BadgeFactory, EmployeeFactory, ItemFactory, ToolTagFactory

pytestmark = pytest.mark.django_db


def live_tap(station, uid, at=None):
    at = at or timezone.now()
    scan = Scan(id=uuid.uuid4(), raw_id="", uid=uid, read_at=at)
    return record_scans(station=station, scans=[scan], sent_at=at, received_at=at)[0]


@pytest.fixture
def paired(station):
    kiosk = Client()
    kiosk.post(pairing.pair_url(station.code))
    return kiosk


def test_undo_cancels_the_stations_last_borrow(paired, station):
    badge, tool = BadgeFactory(), ToolTagFactory()
    live_tap(station, badge.uid)
    live_tap(station, tool.uid)

    loan = Loan.objects.get()
    assert paired.post("/kiosk/undo/", {"loan": loan.pk}).status_code == 204

    loan.refresh_from_db()
    assert loan.cancelled_at is not None
    event = LoanEvent.objects.get(kind="cancel")
    assert (event.door, event.station_name) == ("kiosk", station.name)
    # Undo works once.
    assert paired.post("/kiosk/undo/", {"loan": loan.pk}).status_code == 409
    assert LoanEvent.objects.filter(kind="cancel").count() == 1


def test_undo_from_a_screen_that_was_behind_does_not_cancel_a_later_borrow(
    paired, station, django_capture_on_commit_callbacks
):
    first, second = BadgeFactory(), BadgeFactory()
    wrench, drill = ToolTagFactory(), ToolTagFactory()
    live_tap(station, first.uid)
    live_tap(station, wrench.uid)
    shown = Loan.objects.get()  # the screen still offers "Undo: wrench"...
    live_tap(station, second.uid)
    live_tap(station, drill.uid)  # ...while someone else has borrowed the drill since

    with django_capture_on_commit_callbacks() as pushes:
        answer = paired.post("/kiosk/undo/", {"loan": shown.pk})

    assert answer.status_code == 409
    assert not Loan.objects.filter(cancelled_at__isnull=False).exists()
    assert len(pushes) == 1  # the screen is brought up to date


@pytest.mark.parametrize("value", ["", "x", "1" * 30])
def test_the_buttons_need_the_ids_the_screen_showed(paired, value):
    assert paired.post("/kiosk/undo/", {"loan": value}).status_code == 400
    assert paired.post("/kiosk/damage/", {"loan": value}).status_code == 400
    assert paired.post("/kiosk/take-over/", {"loan": value, "employee": "1"}).status_code == 400
    assert paired.post("/kiosk/take-over/", {"loan": "1", "employee": value}).status_code == 400
    assert paired.post("/kiosk/end/", {"employee": value}).status_code == 400


def test_a_borrow_returned_at_once_can_no_longer_be_cancelled_its_return_is_undone_instead(
    station,
):
    badge, tool = BadgeFactory(), ToolTagFactory()
    now = timezone.now()
    live_tap(station, badge.uid, now)
    live_tap(station, tool.uid, now)
    # Past the 2 s in which a second read of the same tag is a repeat.
    assert live_tap(station, tool.uid, now + datetime.timedelta(seconds=3)).outcome == "returned"

    assert actions.undo_last_change(station=station, loan_id=Loan.objects.get().pk)

    loan = Loan.objects.get()
    assert (loan.cancelled_at, loan.returned_at) == (None, None)
    assert [e.kind for e in LoanEvent.objects.order_by("pk")] == ["borrow", "return", "reopen"]


def test_undo_reopens_the_stations_last_return(paired, station):
    holder, tool = BadgeFactory(), ToolTagFactory()
    services.borrow(item=tool.item, employee=holder.employee, door=Door.API)
    live_tap(station, tool.uid)
    loan = Loan.objects.get()

    assert paired.post("/kiosk/undo/", {"loan": loan.pk}).status_code == 204

    loan.refresh_from_db()
    assert loan.is_open and loan.employee == holder.employee
    event = LoanEvent.objects.get(kind="reopen")
    assert (event.door, event.station_name) == ("kiosk", station.name)
    assert paired.post("/kiosk/undo/", {"loan": loan.pk}).status_code == 409


def test_undo_of_a_return_is_refused_when_the_tool_was_lent_since(paired, station):
    tool = ToolTagFactory()
    services.borrow(item=tool.item, employee=EmployeeFactory(), door=Door.API)
    live_tap(station, tool.uid)
    returned = Loan.objects.get()
    services.borrow(item=tool.item, employee=EmployeeFactory(), door=Door.API)  # the admin

    assert paired.post("/kiosk/undo/", {"loan": returned.pk}).status_code == 409

    returned.refresh_from_db()
    assert returned.returned_at is not None
    assert Loan.objects.open().count() == 1


def test_undo_is_refused_after_a_minute(station):
    badge, tool = BadgeFactory(), ToolTagFactory()
    long_ago = timezone.now() - datetime.timedelta(seconds=61)
    live_tap(station, badge.uid, long_ago)
    record_scans(
        station=station,
        scans=[Scan(id=uuid.uuid4(), raw_id="", uid=tool.uid, read_at=long_ago)],
        sent_at=long_ago,
        received_at=long_ago,
    )
    assert not actions.undo_last_change(station=station, loan_id=Loan.objects.get().pk)
    assert Loan.objects.get().is_open


def test_a_late_borrow_cannot_be_undone(station):
    badge, tool = BadgeFactory(), ToolTagFactory()
    earlier = timezone.now() - datetime.timedelta(minutes=5)
    record_scans(
        station=station,
        scans=[
            Scan(id=uuid.uuid4(), raw_id="1", uid=badge.uid, read_at=earlier),
            Scan(id=uuid.uuid4(), raw_id="2", uid=tool.uid, read_at=earlier),
        ],
        sent_at=timezone.now(),
        received_at=timezone.now(),
    )
    assert not actions.undo_last_change(station=station, loan_id=Loan.objects.get().pk)


def test_take_over_lends_a_tool_returned_in_a_session_to_that_person_as_a_handover(paired, station):
    holder, taker, tool = BadgeFactory(), BadgeFactory(), ToolTagFactory()
    services.borrow(item=tool.item, employee=holder.employee, door=Door.API)
    live_tap(station, taker.uid)
    live_tap(station, tool.uid)  # returned from the holder
    returned = Loan.objects.get()

    answer = paired.post("/kiosk/take-over/", {"loan": returned.pk, "employee": taker.employee_id})

    assert answer.status_code == 204
    taken = Loan.objects.open().get()
    assert taken.employee == taker.employee
    event = LoanEvent.objects.get(loan=taken)
    assert (event.kind, event.details["from"], event.station_name) == (
        "handover",
        holder.employee.code,
        station.name,
    )
    # The take-over is now the change the screen offers to undo: undone, the tool is in the crib.
    assert paired.post("/kiosk/undo/", {"loan": taken.pk}).status_code == 204
    assert not Loan.objects.open().exists()


def test_take_over_from_a_screen_that_was_behind_lends_nothing(paired, station):
    holder, taker, next_one, tool = BadgeFactory(), BadgeFactory(), BadgeFactory(), ToolTagFactory()
    services.borrow(item=tool.item, employee=holder.employee, door=Door.API)
    live_tap(station, taker.uid)
    live_tap(station, tool.uid)
    returned = Loan.objects.get()
    live_tap(station, next_one.uid)  # the next person in the queue badged in meanwhile

    for employee in (taker, next_one):
        answer = paired.post(
            "/kiosk/take-over/", {"loan": returned.pk, "employee": employee.employee_id}
        )
        assert answer.status_code == 409
    assert not Loan.objects.open().exists()


def test_take_over_is_not_offered_for_a_return_without_a_session(paired, station):
    holder, someone, tool = BadgeFactory(), BadgeFactory(), ToolTagFactory()
    services.borrow(item=tool.item, employee=holder.employee, door=Door.API)
    live_tap(station, tool.uid)

    answer = paired.post(
        "/kiosk/take-over/", {"loan": Loan.objects.get().pk, "employee": someone.employee_id}
    )

    assert answer.status_code == 409
    assert not Loan.objects.open().exists()


def test_report_damage_sends_the_tool_just_returned_to_maintenance_and_says_who(
    paired, station, staff, client
):
    holder, tool = BadgeFactory(employee__code="E0777"), ToolTagFactory(item__name="Caliper")
    services.borrow(item=tool.item, employee=holder.employee, door=Door.API)
    live_tap(station, tool.uid)
    returned = Loan.objects.get()

    assert paired.post("/kiosk/damage/", {"loan": returned.pk}).status_code == 204

    returned.refresh_from_db()
    assert returned.return_condition == "damaged"
    event = LoanEvent.objects.get(kind="damage")
    assert (event.details["reported_by"], event.station_name) == ("E0777", station.name)
    # Once is enough: the return stands as damaged, and there is nothing left to undo.
    assert paired.post("/kiosk/damage/", {"loan": returned.pk}).status_code == 409
    assert paired.post("/kiosk/undo/", {"loan": returned.pk}).status_code == 409
    # The crib finds it in the admin's tool list, filtered to maintenance.
    listed = client.get("/admin/items/item/", {"status__exact": "maintenance"})
    assert "Caliper" in listed.content.decode()


def test_report_damage_in_a_session_records_that_persons_name(paired, station):
    person, tool = BadgeFactory(employee__code="E0888"), ToolTagFactory()
    live_tap(station, person.uid)
    live_tap(station, tool.uid)
    live_tap(station, tool.uid, timezone.now() + datetime.timedelta(seconds=3))

    assert paired.post("/kiosk/damage/", {"loan": Loan.objects.get().pk}).status_code == 204

    assert LoanEvent.objects.get(kind="damage").details["reported_by"] == "E0888"


def test_damage_is_offered_only_for_a_return(paired, station):
    badge, tool = BadgeFactory(), ToolTagFactory()
    live_tap(station, badge.uid)
    live_tap(station, tool.uid)

    assert paired.post("/kiosk/damage/", {"loan": Loan.objects.get().pk}).status_code == 409

    assert Loan.objects.get().is_open
    assert Item.objects.get(pk=tool.item_id).status == "available"


def test_end_closes_the_session(paired, station):
    badge = BadgeFactory()
    live_tap(station, badge.uid)
    assert paired.post("/kiosk/end/", {"employee": badge.employee.pk}).status_code == 204
    assert Station.objects.get(pk=station.pk).session_employee is None


def test_done_from_a_screen_that_was_behind_leaves_the_next_persons_session_open(paired, station):
    first, second = BadgeFactory(), BadgeFactory()
    live_tap(station, first.uid)
    live_tap(station, second.uid)

    assert paired.post("/kiosk/end/", {"employee": first.employee.pk}).status_code == 409
    assert Station.objects.get(pk=station.pk).session_employee == second.employee


def test_enrolment_binds_the_next_tap_instead_of_lending(station):
    employee = EmployeeFactory()
    old = BadgeFactory(employee=employee)
    actions.start_enrolment(station=station, employee=employee, replace=True)

    result = live_tap(station, "04:CA:FE:00:01")

    assert result.outcome == "enrolled"
    assert Tag.objects.get(uid="04CAFE0001", active=True).employee == employee
    old.refresh_from_db()
    assert not old.active and old.deactivated_at is not None
    # The next tap of the new badge is an ordinary badge tap.
    later = timezone.now() + datetime.timedelta(seconds=3)
    assert live_tap(station, "04CAFE0001", later).outcome == "session_started"


def test_enrolling_a_tag_that_belongs_to_someone_else_is_refused(station, english):
    taken = ToolTagFactory(uid="1DAA000001")
    actions.start_enrolment(station=station, item=ItemFactory())
    result = live_tap(station, taken.uid)
    assert result.outcome == "refused"
    assert "already enrolled" in result.message
    assert Tag.objects.filter(uid="1DAA000001").count() == 1


def test_enrolment_expires_after_a_minute(station):
    actions.start_enrolment(station=station, employee=EmployeeFactory())
    later = timezone.now() + datetime.timedelta(seconds=61)
    assert live_tap(station, "04CAFE0002", later).outcome == "unknown_tag"


def test_demo_taps_go_through_the_scan_path_only_in_demo_mode(paired, station, settings):
    tool = ToolTagFactory()
    settings.KIOSK_DEMO = False
    assert paired.post("/kiosk/demo-tap/", {"uid": tool.uid}).status_code == 403
    settings.KIOSK_DEMO = True
    assert paired.post("/kiosk/demo-tap/", {"uid": tool.uid}).status_code == 204
    assert station.scans.get().outcome == "awaiting_badge"
    assert paired.post("/kiosk/demo-tap/", {"uid": "zz"}).status_code == 400
