"""Twenty kiosks tapping one tool at the same instant, or one answer pressed twenty times, on
PostgreSQL with a connection each."""

import itertools
import threading
import uuid
from collections import Counter

from django.db import connection, transaction
from django.utils import timezone

from inventory.loans.models import Inspection, Loan, LoanEvent
from kiosk import actions
from kiosk.models import Station
from kiosk.scans import Scan, record_scans
from tests.factories import BadgeFactory, CategoryFactory, ToolTagFactory
from tests.inventory.loans.test_concurrency import THREADS, race


def tap(station, uid, at):
    scan = Scan(id=uuid.uuid4(), raw_id="", uid=uid, read_at=at)
    (result,) = record_scans(station=station, scans=[scan], sent_at=at, received_at=at)
    return result


def test_one_tool_tapped_at_twenty_kiosks_at_once_is_lent_and_returned_in_turn(postgres):
    tool = ToolTagFactory()
    stations = [actions.create_station(name=f"Line {i}")[0] for i in range(THREADS)]
    start = timezone.now()
    for station in stations:  # each kiosk has its own person's session open
        tap(station, BadgeFactory().uid, start)
    outcomes = []

    def work(i):
        outcomes.append(tap(stations[i], tool.uid, timezone.now()).outcome)

    assert race(work) == Counter({"ok": THREADS})

    # Whoever came first borrowed it, the next returned it from them, the next borrowed it...:
    # never on loan to two people, never passed to someone else without a step of their own.
    assert Counter(outcomes) == Counter({"borrowed": THREADS // 2, "returned": THREADS // 2})
    loans = list(Loan.objects.filter(item=tool.item).order_by("pk"))  # the order of the locks
    assert len(loans) == THREADS // 2
    assert not any(loan.is_open for loan in loans)
    for before, after in itertools.pairwise(loans):
        assert before.returned_at <= after.borrowed_at
    assert not LoanEvent.objects.filter(kind="handover").exists()


def test_a_batch_that_waited_for_the_station_sees_the_session_the_other_one_opened(postgres):
    # Another batch holds the station's lock and opens a session; ours waits, then must see it.
    station = actions.create_station(name="Line 1")[0]
    badge, tool = BadgeFactory(), ToolTagFactory()
    locked, outcome = threading.Event(), []

    def tool_tap_that_waits():
        try:
            locked.wait()
            outcome.append(tap(station, tool.uid, timezone.now()).outcome)
        finally:
            connection.close()

    waiter = threading.Thread(target=tool_tap_that_waits)
    waiter.start()
    with transaction.atomic():
        Station.objects.select_for_update().get(pk=station.pk)
        locked.set()
        waiter.join(0.5)  # it is now blocked on the lock
        Station.objects.filter(pk=station.pk).update(
            session_employee=badge.employee,
            session_expires_at=timezone.now() + timezone.timedelta(seconds=30),
        )
    waiter.join(10)

    assert outcome == ["borrowed"]
    assert Loan.objects.get().employee == badge.employee


def test_a_check_before_use_answered_twenty_times_at_once_lends_once(postgres):
    # A glove that presses twice, or two browsers paired to one kiosk: one answer is taken.
    station = actions.create_station(name="Line 1")[0]
    CategoryFactory(name="Meggers", checklist="Cable undamaged\nZero checked")
    badge, tool = BadgeFactory(), ToolTagFactory(item__category="Meggers")
    tap(station, badge.uid, timezone.now())
    assert tap(station, tool.uid, timezone.now()).outcome == "checklist"
    taken = []

    def work(i):
        answer = actions.answer_checklist(
            station=station,
            item_id=tool.item_id,
            employee_id=badge.employee_id,
            answers=[True, True],
        )
        taken.append(answer)

    assert race(work) == Counter({"ok": THREADS})

    assert Counter(taken) == Counter({True: 1, False: THREADS - 1})
    assert Loan.objects.get().employee == badge.employee
    assert Inspection.objects.count() == 1
