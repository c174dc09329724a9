"""The tap rule table, row by row, with explicit times (session window 30 s)."""

import datetime
import time
import uuid

import pytest
from django.utils import timezone, translation

from inventory.employees.models import Employee
from inventory.items.models import Item
from inventory.loans import services
from inventory.loans.models import Door, Loan, LoanEvent
from kiosk import actions, rules, state
from kiosk.metrics import TAP_SECONDS
from kiosk.models import ScanEvent, Station
from kiosk.scans import Scan, record_scans
from tests.factories import (
    BadgeFactory,
    CategoryFactory,
    EmployeeFactory,
    ItemFactory,
    ToolTagFactory,
)
from tests.kiosk.conftest import T0, seconds

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice():
    return BadgeFactory(uid="04AA000001", employee__name="Alice")


@pytest.fixture
def bob():
    return BadgeFactory(uid="04BB000001", employee__name="Bob")


@pytest.fixture
def wrench():
    return ToolTagFactory(uid="1D00000001", item__name="Wrench")


@pytest.fixture
def gauge():
    return ToolTagFactory(uid="1D00000002", item__name="Gauge")


def open_loan(tag):
    return Loan.objects.open().filter(item=tag.item).first()


def session_of(station):
    station = Station.objects.get(pk=station.pk)
    return station.session_employee, station.session_expires_at


def test_a_badge_opens_a_session_for_thirty_seconds(tap, station, alice, english):
    result = tap(alice.uid, T0)
    assert (result.status, result.outcome, result.message) == (
        "applied",
        "session_started",
        "Hello, Alice.",
    )
    assert session_of(station) == (alice.employee, T0 + seconds(30))


def test_the_same_badge_again_during_the_session_ends_it(tap, station, alice, english):
    tap(alice.uid, T0)
    result = tap(alice.uid, T0 + seconds(10))
    assert (result.outcome, result.message) == ("session_ended", "Goodbye, Alice.")
    assert session_of(station) == (None, None)


def test_the_same_badge_after_the_session_ended_opens_a_new_one(tap, station, alice):
    tap(alice.uid, T0)
    assert tap(alice.uid, T0 + seconds(30)).outcome == "session_started"


def test_another_badge_switches_the_session(tap, station, alice, bob):
    tap(alice.uid, T0)
    assert tap(bob.uid, T0 + seconds(5)).outcome == "session_started"
    assert session_of(station)[0] == bob.employee


@pytest.mark.parametrize("status", ["inactive", "suspended"])
def test_a_badge_of_someone_not_active_is_refused_without_a_session(
    tap, station, alice, english, status
):
    Employee.objects.filter(pk=alice.employee_id).update(status=status)
    result = tap(alice.uid, T0)
    assert result.outcome == "refused"
    assert result.message == f"Alice is {status} and cannot borrow tools. Please ask a manager."
    assert session_of(station) == (None, None)


def test_a_tool_in_a_session_is_borrowed_and_extends_the_session(tap, station, alice, wrench):
    tap(alice.uid, T0)
    result = tap(wrench.uid, T0 + seconds(20))
    assert result.outcome == "borrowed"
    loan = open_loan(wrench)
    assert (loan.employee, loan.borrowed_at, loan.door, loan.station, loan.note) == (
        alice.employee,
        T0 + seconds(20),
        "kiosk",
        station,
        "",
    )
    assert LoanEvent.objects.get(loan=loan).station_name == "Line 3"
    assert session_of(station)[1] == T0 + seconds(50)


def test_the_session_window_edges(tap, station, alice, wrench, gauge):
    tap(alice.uid, T0)
    # 29.999 s after the badge the session is still open ...
    assert tap(wrench.uid, T0 + seconds(29.999)).outcome == "borrowed"
    # ... and extended to 30 s after that tap; at exactly its end it is closed.
    assert tap(gauge.uid, T0 + seconds(59.999)).outcome == "awaiting_badge"


def test_a_tool_the_session_holder_has_is_returned(tap, station, alice, wrench):
    tap(alice.uid, T0)
    tap(wrench.uid, T0 + seconds(5))
    assert tap(wrench.uid, T0 + seconds(10)).outcome == "returned"
    assert open_loan(wrench) is None


def test_a_tool_someone_else_holds_tapped_in_a_session_is_returned_from_its_holder(
    tap, station, alice, bob, wrench, english
):
    services.borrow(item=wrench.item, employee=alice.employee, door=Door.API, at=T0)
    tap(bob.uid, T0 + seconds(60))
    result = tap(wrench.uid, T0 + seconds(65))
    assert result.outcome == "returned"
    assert "Alice" in result.message and "Bob" not in result.message
    assert open_loan(wrench) is None
    assert not Loan.objects.filter(employee=bob.employee).exists()
    assert ScanEvent.objects.get(uid=wrench.uid).employee == alice.employee
    # Bob's session goes on, from the last tap at the kiosk.
    assert session_of(station) == (bob.employee, T0 + seconds(95))


def test_a_return_in_the_next_persons_session_leaves_that_persons_loans_as_they_were(
    tap, station, alice, bob, wrench, gauge
):
    # Alice borrows the gauge and ends her session; Bob badges in and borrows the wrench; Alice
    # comes back within Bob's 30 s and taps the gauge to return it.
    tap(alice.uid, T0)
    tap(gauge.uid, T0 + seconds(3))
    tap(alice.uid, T0 + seconds(6))
    tap(bob.uid, T0 + seconds(10))
    tap(wrench.uid, T0 + seconds(12))

    assert tap(gauge.uid, T0 + seconds(20)).outcome == "returned"

    open_loans = {(loan.item, loan.employee) for loan in Loan.objects.open()}
    assert open_loans == {(wrench.item, bob.employee)}
    assert not LoanEvent.objects.filter(kind="handover").exists()
    # The screen's next offer is about the gauge: Bob may take it over, Alice undo or report.
    here = Station.objects.get(pk=station.pk)
    returned, taker = state.take_over_offer(here, T0 + seconds(21))
    assert (returned.item, returned.employee, taker) == (gauge.item, alice.employee, bob.employee)


def test_a_tool_returned_in_a_session_and_tapped_again_is_borrowed_by_the_session_person(
    tap, station, alice, bob, wrench
):
    services.borrow(item=wrench.item, employee=alice.employee, door=Door.API, at=T0)
    tap(bob.uid, T0 + seconds(60))
    tap(wrench.uid, T0 + seconds(61))
    assert tap(wrench.uid, T0 + seconds(64)).outcome == "borrowed"
    assert open_loan(wrench).employee == bob.employee
    assert not LoanEvent.objects.filter(kind="handover").exists()


def test_the_holder_tapping_their_tool_in_their_own_session_is_not_asked_to_take_it_over(
    tap, station, alice, wrench
):
    tap(alice.uid, T0)
    tap(wrench.uid, T0 + seconds(3))
    assert tap(wrench.uid, T0 + seconds(6)).outcome == "returned"
    here = Station.objects.get(pk=station.pk)
    assert state.take_over_offer(here, T0 + seconds(7)) is None
    assert state.returned_loan(here, T0 + seconds(7)).item == wrench.item  # undo, damage


def test_a_tool_alone_is_returned_in_one_tap(tap, station, alice, wrench, english):
    services.borrow(item=wrench.item, employee=alice.employee, door=Door.API, at=T0)
    result = tap(wrench.uid, T0 + seconds(3600 * 2 + 60 * 5))
    assert result.outcome == "returned"
    assert "Alice" in result.message and "2 h 5 min" in result.message
    assert open_loan(wrench) is None


def test_a_free_tool_alone_waits_for_a_badge_then_is_borrowed(tap, station, alice, wrench, english):
    waiting = tap(wrench.uid, T0)
    assert (waiting.outcome, waiting.message) == (
        "awaiting_badge",
        "Wrench: now tap your badge to borrow it.",
    )
    assert open_loan(wrench) is None
    result = tap(alice.uid, T0 + seconds(12))
    assert result.outcome == "borrowed"
    assert open_loan(wrench).employee == alice.employee
    # The badge also opened a session for the next tools.
    assert session_of(station)[0] == alice.employee


def test_a_tool_alone_is_judged_on_the_day_it_was_tapped(tap, station, wrench):
    # Calibrated until the day after the tap (T0 is in the past): a late tap waits for a badge.
    Item.objects.filter(pk=wrench.item_id).update(
        calibration_due=T0.date() + datetime.timedelta(days=1)
    )
    assert tap(wrench.uid, T0).outcome == "awaiting_badge"


def test_a_badge_after_the_waiting_window_only_opens_a_session(tap, station, alice, wrench):
    tap(wrench.uid, T0)
    assert tap(alice.uid, T0 + seconds(30)).outcome == "session_started"
    assert open_loan(wrench) is None


def test_tools_tapped_before_a_badge_are_all_borrowed_in_the_order_tapped(
    tap, station, alice, wrench, gauge
):
    drill = ToolTagFactory(item__name="Drill")
    for n, tool in enumerate([gauge, wrench, drill]):
        assert tap(tool.uid, T0 + seconds(5 * n)).outcome == "awaiting_badge"
    assert Station.objects.get(pk=station.pk).waiting_items == [
        gauge.item_id,
        wrench.item_id,
        drill.item_id,
    ]

    result = tap(alice.uid, T0 + seconds(20))

    assert result.outcome == "borrowed"
    loans = list(Loan.objects.order_by("pk"))
    assert [(loan.item, loan.employee) for loan in loans] == [
        (gauge.item, alice.employee),
        (wrench.item, alice.employee),
        (drill.item, alice.employee),
    ]
    assert Station.objects.get(pk=station.pk).waiting_items == []
    assert session_of(station)[0] == alice.employee


def test_a_tray_waits_a_session_window_after_its_last_tool(tap, station, alice, wrench, gauge):
    tap(wrench.uid, T0)
    tap(gauge.uid, T0 + seconds(25))
    tap(alice.uid, T0 + seconds(50))
    assert Loan.objects.open().count() == 2


def test_a_tool_tapped_twice_before_the_badge_waits_once(tap, station, alice, wrench):
    tap(wrench.uid, T0)
    tap(wrench.uid, T0 + seconds(5))
    assert tap(alice.uid, T0 + seconds(8)).outcome == "borrowed"
    assert Loan.objects.get().item == wrench.item


def test_a_tray_tool_that_can_no_longer_be_lent_is_refused_and_the_others_are_lent(
    tap, station, alice, wrench, gauge, english
):
    drill = ToolTagFactory(item__name="Drill")
    for n, tool in enumerate([wrench, gauge, drill]):
        tap(tool.uid, T0 + seconds(5 * n))
    # Sent to maintenance in the admin while it waited on the tray.
    Item.objects.filter(pk=gauge.item_id).update(status="maintenance")

    result = tap(alice.uid, T0 + seconds(15))

    assert result.outcome == "borrowed"
    # One line a tool, in the order tapped.
    assert result.message == (
        "Alice borrowed Wrench, due 11/24 18:00."
        f" Gauge ({gauge.item.code}) cannot be borrowed: it is in maintenance."
        " Alice borrowed Drill, due 11/24 18:00."
    )
    assert {loan.item for loan in Loan.objects.open()} == {wrench.item, drill.item}


def test_a_tray_none_of_which_can_be_lent_is_refused_tool_by_tool(
    tap, station, alice, wrench, gauge, english
):
    tap(wrench.uid, T0)
    tap(gauge.uid, T0 + seconds(5))
    Item.objects.filter(pk__in=[wrench.item_id, gauge.item_id]).update(status="retired")

    result = tap(alice.uid, T0 + seconds(10))

    assert result.outcome == "refused"
    assert f"Wrench ({wrench.item.code}) cannot be borrowed" in result.message
    assert f"Gauge ({gauge.item.code}) cannot be borrowed" in result.message
    assert not Loan.objects.exists()
    assert session_of(station)[0] == alice.employee
    assert ScanEvent.objects.get(id=result.id).item == gauge.item  # the last tool the badge met


def test_a_live_borrow_or_return_is_the_change_the_screen_offers_to_undo(
    tap, station, alice, wrench
):
    tap(alice.uid, T0)
    tap(wrench.uid, T0 + seconds(3))
    here = Station.objects.get(pk=station.pk)
    assert state.last_change(here, T0 + seconds(4)) == ("borrow", open_loan(wrench))
    tap(wrench.uid, T0 + seconds(6))
    here = Station.objects.get(pk=station.pk)
    assert state.last_change(here, T0 + seconds(7)) == ("return", Loan.objects.get())
    assert state.last_change(here, T0 + seconds(66)) is None  # a minute later


def test_a_new_session_withdraws_the_offers_of_the_last_change(tap, station, alice, bob, wrench):
    tap(alice.uid, T0)
    tap(wrench.uid, T0 + seconds(3))
    tap(bob.uid, T0 + seconds(10))
    here = Station.objects.get(pk=station.pk)
    assert state.last_change(here, T0 + seconds(11)) is None


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"status": "maintenance"}, "maintenance"),
        ({"status": "retired"}, "retired"),
        ({"calibration_due": T0.date().replace(day=1)}, "calibration"),
    ],
)
def test_a_tool_that_may_not_be_lent_is_refused_with_the_reason(
    tap, station, alice, wrench, english, change, words
):
    Item.objects.filter(pk=wrench.item_id).update(**change)
    assert tap(wrench.uid, T0).outcome == "refused"
    tap(alice.uid, T0 + seconds(40))
    result = tap(wrench.uid, T0 + seconds(45))
    assert result.outcome == "refused"
    assert words in result.message
    assert open_loan(wrench) is None


def test_returning_a_tool_in_maintenance_is_always_allowed(tap, station, alice, wrench):
    services.borrow(item=wrench.item, employee=alice.employee, door=Door.API, at=T0)
    Item.objects.filter(pk=wrench.item_id).update(status="maintenance")
    assert tap(wrench.uid, T0 + seconds(60)).outcome == "returned"


def test_an_unknown_uid_is_recorded_with_the_uid(tap, station, english):
    result = tap("DEADBEEF01", T0)
    assert result.outcome == "unknown_tag"
    assert result.message == "Tag DEADBEEF01 is not registered. Ask a manager to enrol it."
    event = ScanEvent.objects.get(uid="DEADBEEF01")
    assert (event.outcome, event.read_at, event.received_at) == ("unknown_tag", T0, T0)


def test_the_same_uid_within_two_seconds_is_ignored(tap, station, alice, english):
    tap(alice.uid, T0)
    repeat = tap(alice.uid, T0 + seconds(1.9))
    assert (repeat.outcome, repeat.message) == ("ignored_repeat", "Same tag read again; ignored.")
    assert session_of(station)[0] == alice.employee
    assert tap(alice.uid, T0 + seconds(4)).outcome == "session_ended"


def test_the_same_uid_exactly_two_seconds_later_is_a_new_tap(tap, station, alice):
    tap(alice.uid, T0)
    assert tap(alice.uid, T0 + seconds(2)).outcome == "session_ended"


def test_a_card_left_on_the_reader_stays_ignored_however_long_it_lies_there(tap, station, alice):
    # Each repeat read moves the window on: a badge lying on the reader, read every 1.5 s,
    # must not end the session it opened 3 s earlier.
    tap(alice.uid, T0)
    assert tap(alice.uid, T0 + seconds(1.5)).outcome == "ignored_repeat"
    assert tap(alice.uid, T0 + seconds(3)).outcome == "ignored_repeat"
    assert tap(alice.uid, T0 + seconds(4.5)).outcome == "ignored_repeat"
    assert session_of(station)[0] == alice.employee
    assert tap(alice.uid, T0 + seconds(6.5)).outcome == "session_ended"


def test_another_uid_between_two_reads_of_a_card_makes_the_second_a_new_tap(
    tap, station, alice, wrench
):
    tap(alice.uid, T0)
    tap(wrench.uid, T0 + seconds(0.5))
    assert tap(alice.uid, T0 + seconds(1)).outcome == "session_ended"


def test_sessions_are_per_station(tap, station, alice, wrench, db):
    from kiosk import actions

    other, _, _ = actions.create_station(name="Line 4")
    tap(alice.uid, T0)
    assert tap(wrench.uid, T0 + seconds(1), on=other).outcome == "awaiting_badge"


def test_a_refused_tap_is_stored_like_every_other(tap, station, alice, english):
    Employee.objects.filter(pk=alice.employee_id).update(status="suspended")
    tap(alice.uid, T0)
    event = ScanEvent.objects.get()
    assert (event.outcome, event.employee_id) == ("refused", alice.employee_id)


def test_a_tap_that_hits_a_bug_is_rejected_and_leaves_the_station_as_it_was(
    station, tap, monkeypatch
):
    badge, tool = BadgeFactory(), ToolTagFactory()
    tap(badge.uid, T0)
    before = Station.objects.get(pk=station.pk)

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(services, "lock_tool", broken)
    with translation.override("en"):
        failed = tap(tool.uid, T0 + seconds(5))
    monkeypatch.undo()

    assert (failed.status, failed.outcome) == ("rejected", None)
    assert ScanEvent.objects.get(id=failed.id).item == tool.item  # which tool, for the crib
    assert failed.message == (
        "This tap could not be recorded. Tap again; if it fails again, tell the tool crib "
        "(the error was logged)."
    )
    after = Station.objects.get(pk=station.pk)
    # Neither the session's end nor the repeat guard moved for the tap that failed...
    assert after.session_expires_at == before.session_expires_at
    assert (after.last_uid, after.last_uid_at) == (badge.uid, T0)
    # ...so tapping the tool again at once is a borrow, not an ignored repeat.
    assert tap(tool.uid, T0 + seconds(6)).outcome == "borrowed"
    assert Loan.objects.get().item == tool.item


def test_a_bug_in_one_tap_of_a_batch_leaves_the_taps_around_it_applied(
    station, monkeypatch, caplog
):
    badge, broken_tool, tool = BadgeFactory(), ToolTagFactory(), ToolTagFactory()
    lend_to = services.LockedTool.lend_to

    def lend_unless_broken(self, employee, **how):
        if self.item.pk == broken_tool.item_id:
            raise RuntimeError("a bug")
        return lend_to(self, employee, **how)

    monkeypatch.setattr(services.LockedTool, "lend_to", lend_unless_broken)
    scans = [
        Scan(id=uuid.uuid4(), raw_id=str(n), uid=uid, read_at=T0 + seconds(3 * n))
        for n, uid in enumerate([badge.uid, broken_tool.uid, tool.uid])
    ]

    sent = T0 + seconds(6)
    measured = tap_count()
    results = record_scans(station=station, scans=scans, sent_at=sent, received_at=sent)

    assert [(r.status, r.outcome) for r in results] == [
        ("applied", "session_started"),
        ("rejected", None),
        ("applied", "borrowed"),
    ]
    assert [loan.item for loan in Loan.objects.all()] == [tool.item]
    assert ScanEvent.objects.count() == 3
    # The first failure is logged too, with its station and its traceback.
    (first,) = [r for r in caplog.records if "applying the batch tap by tap" in r.getMessage()]
    assert first.getMessage() == (
        f"a tap of a batch from station {station.pk} failed; applying the batch tap by tap"
    )
    assert first.exc_info[0] is RuntimeError
    # The operator finds the tap that failed from its log line ...
    (failed,) = [r for r in caplog.records if "could not be applied" in r.getMessage()]
    assert failed.getMessage() == f"tap {scans[1].id} on station {station.pk} could not be applied"
    # ... and the agent, sending it again (its answer lost), hears it is still rejected.
    (again,) = record_scans(station=station, scans=scans[1:2], sent_at=sent, received_at=sent)
    assert (again.status, again.message) == ("rejected", results[1].message)
    # The batch ran twice; the processing-time histogram counts each tap once.
    assert tap_count() - measured == 3


@pytest.mark.parametrize(("read_before", "live"), [(30, True), (30.000001, False)])
def test_a_tap_read_up_to_a_session_window_before_it_arrived_is_live(
    station, alice, read_before, live
):
    """Live: the person may still stand at the screen (it may ask them something); late: not."""
    arrived = T0 + seconds(60)
    scan = Scan(id=uuid.uuid4(), raw_id="", uid=alice.uid, read_at=arrived - seconds(read_before))
    record_scans(station=station, scans=[scan], sent_at=arrived, received_at=arrived)
    assert ScanEvent.objects.get(id=scan.id).live is live


def test_a_batch_records_when_it_arrived_on_its_events_and_its_station(station, alice):
    """The station's last contact (the reader is called silent without it) and each event's."""
    arrived = T0 + seconds(60)
    scans = [
        Scan(id=uuid.uuid4(), raw_id="", uid=alice.uid, read_at=T0),
        Scan(id=uuid.uuid4(), raw_id="", uid="bad", read_at=T0, problem="uid: not a UID"),
    ]
    record_scans(station=station, scans=scans, sent_at=arrived, received_at=arrived)
    assert Station.objects.get(pk=station.pk).last_seen_at == arrived
    assert [e.received_at for e in ScanEvent.objects.order_by("status")] == [arrived, arrived]


def test_the_time_a_tap_took_is_measured_once_and_is_less_than_the_whole_batch(station, alice):
    scan = Scan(id=uuid.uuid4(), raw_id="", uid=alice.uid, read_at=T0)
    count, total = tap_count(), tap_seconds()
    started = time.perf_counter()
    record_scans(station=station, scans=[scan], sent_at=T0, received_at=T0)
    elapsed = time.perf_counter() - started
    assert tap_count() - count == 1
    assert 0 < tap_seconds() - total <= elapsed


def tap_seconds() -> float:
    samples = TAP_SECONDS.collect()[0].samples
    return next(sample.value for sample in samples if sample.name.endswith("_sum"))


def tap_count() -> float:
    """How many taps the processing-time histogram has measured so far."""
    samples = TAP_SECONDS.collect()[0].samples
    return next(sample.value for sample in samples if sample.name.endswith("_count"))


def test_taps_after_an_enrolment_in_the_same_batch_see_the_new_tag_and_not_the_old(station):
    old = BadgeFactory()
    actions.start_enrolment(station=station, employee=old.employee, replace=True)
    new_uid = "04E0E0E0E0"
    scans = [
        Scan(id=uuid.uuid4(), raw_id="", uid=uid, read_at=T0 + seconds(n))
        for n, uid in [(0, new_uid), (3, new_uid), (6, old.uid)]
    ]

    sent = T0 + seconds(6)
    results = record_scans(station=station, scans=scans, sent_at=sent, received_at=sent)

    assert [r.outcome for r in results] == ["enrolled", "session_started", "unknown_tag"]


# A tool whose category has a check before use is not lent by a tap: the screen asks its checks.


@pytest.fixture
def megger():
    CategoryFactory(name="Meggers", checklist="Cable undamaged\nZero checked")
    return ToolTagFactory(uid="1D00000003", item__name="Megger", item__category="Meggers")


def question(station, at):
    return state.checklist(Station.objects.get(pk=station.pk), at)


def test_a_tool_with_a_checklist_tapped_in_a_session_is_asked_not_lent(tap, station, alice, megger):
    tap(alice.uid, T0)
    result = tap(megger.uid, T0 + seconds(5))
    assert result.outcome == "checklist"
    assert not Loan.objects.exists()
    asked = question(station, T0 + seconds(6))
    assert (asked.item, asked.employee, asked.checks) == (
        megger.item,
        alice.employee,
        ["Cable undamaged", "Zero checked"],
    )
    # Asked for a session window from the tap, which the tap extended as any other does.
    assert question(station, T0 + seconds(34.999)) is not None
    assert question(station, T0 + seconds(35)) is None
    assert session_of(station)[1] == T0 + seconds(35)


def test_a_tool_with_a_checklist_on_the_tray_is_asked_when_the_badge_comes_the_others_lent(
    tap, station, alice, wrench, megger, gauge
):
    for n, tool in enumerate([wrench, megger, gauge]):
        tap(tool.uid, T0 + seconds(3 * n))

    result = tap(alice.uid, T0 + seconds(10))

    assert result.outcome == "borrowed"
    assert {loan.item for loan in Loan.objects.open()} == {wrench.item, gauge.item}
    assert question(station, T0 + seconds(11)).item == megger.item


def test_a_tray_of_only_a_tool_with_a_checklist_is_just_the_question(tap, station, alice, megger):
    assert tap(megger.uid, T0).outcome == "awaiting_badge"
    assert tap(alice.uid, T0 + seconds(3)).outcome == "checklist"
    assert question(station, T0 + seconds(4)).employee == alice.employee
    assert not Loan.objects.exists()


def test_of_two_tools_with_a_checklist_on_the_tray_the_first_is_asked(tap, station, alice, megger):
    second = ToolTagFactory(item__category="Meggers")
    tap(megger.uid, T0)
    tap(second.uid, T0 + seconds(3))
    assert tap(alice.uid, T0 + seconds(6)).outcome == "refused"  # neither could be lent
    assert question(station, T0 + seconds(7)).item == megger.item


def test_a_late_tap_of_a_tool_with_a_checklist_is_refused_without_asking(station, alice, megger):
    # Read while the kiosk was offline: nobody stands at the screen to answer now.
    earlier = T0 - seconds(300)
    scans = [
        Scan(id=uuid.uuid4(), raw_id=str(n), uid=uid, read_at=earlier + seconds(3 * n))
        for n, uid in enumerate([alice.uid, megger.uid])
    ]
    results = record_scans(station=station, scans=scans, sent_at=T0, received_at=T0)
    assert [r.outcome for r in results] == ["session_started", "refused"]
    assert Station.objects.get(pk=station.pk).checklist_item is None


@pytest.mark.parametrize("next_badge", ["bob", "alice"])
def test_the_next_badge_withdraws_the_question(tap, station, alice, bob, megger, next_badge):
    tap(alice.uid, T0)
    tap(megger.uid, T0 + seconds(3))
    tap({"alice": alice, "bob": bob}[next_badge].uid, T0 + seconds(6))  # a new session, or Done
    assert question(station, T0 + seconds(7)) is None
    assert Station.objects.get(pk=station.pk).checklist_item is None


def test_another_tool_with_a_checklist_replaces_the_question(tap, station, alice, megger):
    other = ToolTagFactory(item__name="Other megger", item__category="Meggers")
    tap(alice.uid, T0)
    tap(megger.uid, T0 + seconds(3))
    tap(other.uid, T0 + seconds(6))
    assert question(station, T0 + seconds(7)).item == other.item


def test_a_return_while_the_question_is_asked_leaves_it_asked(tap, station, alice, bob, megger):
    tool = ToolTagFactory()
    services.borrow(item=tool.item, employee=bob.employee, door=Door.API, at=T0)
    tap(alice.uid, T0 + seconds(60))
    tap(megger.uid, T0 + seconds(63))
    assert tap(tool.uid, T0 + seconds(66)).outcome == "returned"
    assert question(station, T0 + seconds(67)).item == megger.item


# What a tap answers, word for word: the agent keeps the line and the screen shows it.


def test_a_borrow_says_who_took_what_and_when_it_is_due(tap, station, alice, wrench, english):
    tap(alice.uid, T0)
    assert tap(wrench.uid, T0 + seconds(5)).message == "Alice borrowed Wrench, due 11/24 18:00."


def test_a_borrow_of_a_tool_nearly_due_for_calibration_says_so_after_the_due_time(
    tap, station, alice, english, settings
):
    settings.CALIBRATION_WARN_DAYS = 14
    caliper = ToolTagFactory(
        item__name="Caliper", item__calibration_due=T0.date() + datetime.timedelta(days=2)
    )
    tap(alice.uid, T0)
    assert tap(caliper.uid, T0 + seconds(5)).message == (
        "Alice borrowed Caliper, due 11/24 18:00."
        " Caliper is due for calibration on 11/26/2026: bring it back to the tool crib by then."
    )


def test_a_return_says_from_whom_and_for_how_long_and_is_recorded_against_its_loan(
    tap, station, alice, wrench, english
):
    tap(alice.uid, T0)
    tap(wrench.uid, T0 + seconds(5))
    loan = open_loan(wrench)

    result = tap(wrench.uid, T0 + seconds(5 + 7 * 60))

    assert result.message == "Wrench returned from Alice after 7 min."
    assert ScanEvent.objects.get(id=result.id).loan == loan
    assert LoanEvent.objects.get(kind="return").details == {"condition": "ok"}


@pytest.mark.parametrize(
    ("out_for", "text"),
    [
        (datetime.timedelta(seconds=-3), "0 min"),  # the clocks of two doors disagreeing
        (datetime.timedelta(seconds=59), "0 min"),
        (datetime.timedelta(minutes=59, seconds=59), "59 min"),
        (datetime.timedelta(minutes=60), "1 h 0 min"),
        (datetime.timedelta(hours=47, minutes=59), "47 h 59 min"),
        (datetime.timedelta(hours=48), "2 days"),
        (datetime.timedelta(hours=95, minutes=59), "3 days"),
    ],
)
def test_how_long_a_tool_was_out_is_said_in_minutes_then_hours_then_days(out_for, text, english):
    assert rules.duration_text(out_for) == text


@pytest.mark.parametrize("owner", ["employee", "item"])
def test_an_enrolment_says_whose_tag_it_now_is_and_leaves_no_enrolment_behind(
    station, tap, english, owner
):
    target = {"employee": EmployeeFactory(name="Carol"), "item": ItemFactory(name="Wrench")}
    actions.start_enrolment(station=station, replace=True, **{owner: target[owner]})

    result = tap("04CAFE0001", timezone.now())

    assert result.message == f"Tag 04CAFE0001 is now enrolled to {target[owner]}."
    station = Station.objects.get(pk=station.pk)
    assert (station.enrol_employee, station.enrol_item, station.enrol_expires_at) == (None,) * 3
    assert station.enrol_replace is False
