"""Taps that arrive late (replayed after an outage) follow the rules on their own times."""

import uuid

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer

from inventory.loans import services
from inventory.loans.models import Door, Loan
from kiosk import broadcast
from kiosk.broadcast import group_name
from kiosk.models import ScanEvent, Station
from kiosk.scans import Scan, record_scans
from tests.factories import BadgeFactory, ToolTagFactory
from tests.kiosk.conftest import T0, seconds

pytestmark = pytest.mark.django_db


def scan(uid, at):
    return Scan(id=uuid.uuid4(), raw_id=str(uuid.uuid4()), uid=uid, read_at=at)


def replay_badge_then_tool(station, badge, tool):
    """A badge at T0 and a tool 5 s later, delivered ten minutes later when back online."""
    back_online = T0 + seconds(600)
    return record_scans(
        station=station,
        scans=[scan(badge.uid, T0), scan(tool.uid, T0 + seconds(5))],
        sent_at=back_online,
        received_at=back_online,
    )


def test_a_replayed_badge_and_tool_borrow_at_the_time_they_were_tapped(station):
    badge, tool = BadgeFactory(), ToolTagFactory()

    results = replay_badge_then_tool(station, badge, tool)

    assert [r.outcome for r in results] == ["session_started", "borrowed"]
    loan = Loan.objects.get()
    assert (loan.employee, loan.borrowed_at) == (badge.employee, T0 + seconds(5))
    assert not ScanEvent.objects.filter(live=True).exists()


def test_the_screen_gets_one_offline_notice_instead_of_live_results(
    station, django_capture_on_commit_callbacks, english
):
    badge, tool = BadgeFactory(), ToolTagFactory()
    broadcast.screen_opened(station.pk, "en")  # its pushes are rendered in English too

    def replay():
        with django_capture_on_commit_callbacks(execute=True):
            replay_badge_then_tool(station, badge, tool)

    # One event loop for the listener: channel layers keep their connections per loop.
    async def listen():
        layer = get_channel_layer()
        channel = await layer.new_channel()
        await layer.group_add(group_name(station.pk, "en"), channel)
        await sync_to_async(replay)()
        return (await layer.receive(channel))["html"]

    html = async_to_sync(listen)()
    assert "2 taps made while offline were recorded" in html
    assert 'id="kiosk-result"' not in html


def test_replaying_a_batch_applies_it_once_and_answers_the_same(station):
    badge, tool = BadgeFactory(), ToolTagFactory()
    batch = [scan(badge.uid, T0), scan(tool.uid, T0 + seconds(5))]

    first = record_scans(station=station, scans=batch, sent_at=T0, received_at=T0 + seconds(6))
    again = record_scans(station=station, scans=batch, sent_at=T0, received_at=T0 + seconds(60))

    assert [r.status for r in again] == ["duplicate", "duplicate"]
    assert [r.outcome for r in again] == [r.outcome for r in first]
    assert Loan.objects.count() == 1
    assert ScanEvent.objects.count() == 2


def test_taps_apply_in_the_agents_order_even_when_its_clock_stepped_back_between_them(station):
    holder, taker, tool = BadgeFactory(), BadgeFactory(), ToolTagFactory()
    services.borrow(item=tool.item, employee=holder.employee, door=Door.API, at=T0 - seconds(600))
    back_online = T0 + seconds(600)

    results = record_scans(
        station=station,
        scans=[
            scan(tool.uid, T0 + seconds(120)),  # returned...
            # ...then the Pi's clock was stepped two minutes back (NTP) before these:
            scan(taker.uid, T0 + seconds(2)),
            scan(tool.uid, T0 + seconds(5)),
        ],
        sent_at=back_online,
        received_at=back_online,
    )

    assert [r.outcome for r in results] == ["returned", "session_started", "borrowed"]
    assert Loan.objects.open().get().employee == taker.employee


def test_a_tap_read_in_the_future_is_dated_when_it_arrived(station):
    # The Pi's clock ran an hour ahead and NTP put it right before the batch was sent, so
    # sent_at is right and there is no shift to apply.
    badge, tool = BadgeFactory(), ToolTagFactory()

    record_scans(
        station=station,
        scans=[scan(badge.uid, T0 + seconds(3600)), scan(tool.uid, T0 + seconds(3605))],
        sent_at=T0,
        received_at=T0,
    )

    assert Loan.objects.get().borrowed_at == T0
    event = ScanEvent.objects.get(uid=tool.uid)
    assert (event.read_at_raw, event.read_at) == (T0 + seconds(3605), T0)


def test_a_replayed_tap_older_than_the_loan_open_now_is_refused_and_changes_nothing(station):
    # While this kiosk was offline, Bob borrowed the tool at the desk; Alice's taps from before
    # that arrive afterwards. Ending Bob's loan would book his tool as back in the crib.
    alice, bob, tool = BadgeFactory(), BadgeFactory(), ToolTagFactory()
    bobs = services.borrow(
        item=tool.item, employee=bob.employee, door=Door.API, at=T0 + seconds(60)
    )

    results = replay_badge_then_tool(station, alice, tool)

    assert [r.outcome for r in results] == ["session_started", "refused"]
    assert Loan.objects.open().get() == bobs
    assert ScanEvent.objects.get(uid=tool.uid).outcome == "refused"


def test_a_replayed_tap_older_than_the_loan_says_who_has_the_tool_since_when(station, english):
    alice, bob = BadgeFactory(), BadgeFactory(employee__name="Bob")
    tool = ToolTagFactory(item__name="Wrench")
    services.borrow(item=tool.item, employee=bob.employee, door=Door.API, at=T0 + seconds(60))

    results = replay_badge_then_tool(station, alice, tool)

    assert results[1].message == (
        "This tap was read before Wrench was lent to Bob (11/24 09:01) elsewhere, so it was not "
        "applied. If the tool changed hands in between, record that in the admin."
    )


def test_a_replayed_tap_read_the_moment_the_loan_began_is_not_older_and_returns_it(station):
    # The rule is "read before the loan": the same instant is not before it.
    bob, tool = BadgeFactory(), ToolTagFactory()
    services.borrow(item=tool.item, employee=bob.employee, door=Door.API, at=T0)

    (result,) = record_scans(
        station=station, scans=[scan(tool.uid, T0)], sent_at=T0, received_at=T0, replayed=True
    )

    assert result.outcome == "returned"
    assert not Loan.objects.open().exists()


def test_a_replayed_return_of_the_tool_the_screen_offers_to_undo_withdraws_that_offer_only(
    station,
):
    alice, bob, wrench, gauge = BadgeFactory(), BadgeFactory(), ToolTagFactory(), ToolTagFactory()
    services.borrow(item=gauge.item, employee=bob.employee, door=Door.API, at=T0)
    live = [scan(alice.uid, T0 + seconds(10)), scan(wrench.uid, T0 + seconds(13))]
    record_scans(
        station=station, scans=live, sent_at=T0 + seconds(13), received_at=T0 + seconds(13)
    )
    offered = Loan.objects.open().get(item=wrench.item)

    def replay(tool, at):
        record_scans(
            station=station, scans=[scan(tool.uid, at)], sent_at=at, received_at=at, replayed=True
        )
        return Station.objects.get(pk=station.pk).undoable_loan

    # Another tool's late return leaves the offer; the offered tool's own late return ends it
    # (undoing that borrow would now cancel a loan already returned).
    assert replay(gauge, T0 + seconds(15)) == offered
    assert replay(wrench, T0 + seconds(16)) is None
