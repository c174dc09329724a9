"""Undo, end, enrolment by tap, and demo taps: what people do at or for a kiosk."""

import datetime
import uuid

import pytest
from django.utils import timezone

from inventory.items.models import Tag
from inventory.loans.models import Loan, LoanEvent
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
def paired(client, station):
    client.post(pairing.pair_url(station.code))
    return client


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
def test_undo_and_done_need_the_id_the_screen_showed(paired, value):
    assert paired.post("/kiosk/undo/", {"loan": value}).status_code == 400
    assert paired.post("/kiosk/end/", {"employee": value}).status_code == 400


def test_a_borrow_returned_at_once_is_no_longer_offered_for_undo(station):
    badge, tool = BadgeFactory(), ToolTagFactory()
    now = timezone.now()
    live_tap(station, badge.uid, now)
    live_tap(station, tool.uid, now)
    assert Station.objects.get(pk=station.pk).undoable_loan is not None

    # Past the 2 s in which a second read of the same tag is a repeat.
    assert live_tap(station, tool.uid, now + datetime.timedelta(seconds=3)).outcome == "returned"

    station = Station.objects.get(pk=station.pk)
    assert (station.undoable_loan, station.undo_expires_at) == (None, None)
    assert not actions.undo_last_borrow(station=station, loan_id=Loan.objects.get().pk)
    assert Loan.objects.get().returned_at is not None


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
    assert not actions.undo_last_borrow(station=station, loan_id=Loan.objects.get().pk)
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
    assert not actions.undo_last_borrow(station=station, loan_id=Loan.objects.get().pk)


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
