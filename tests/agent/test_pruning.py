import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from agent.outbox import DELIVERED, PENDING, REJECTED, Outbox, Settlement

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def outbox(tmp_path):
    box = Outbox(tmp_path / "outbox.db")
    yield box
    box.close()


def settled(outbox: Outbox, uid: str, state: str, at: datetime) -> None:
    event = outbox.add(uid, at)
    outbox.settle([Settlement(event.id, state, None, None)], now=at)


def test_prunes_delivered_events_older_than_the_retention(outbox):
    settled(outbox, "01010101", DELIVERED, T0)
    settled(outbox, "02020202", DELIVERED, T0 + timedelta(days=25))

    pruned = outbox.prune(30, now=T0 + timedelta(days=31))

    assert pruned == 1
    assert [e.uid for e in outbox.recent(10)] == ["02020202"]


def test_never_prunes_pending_events_however_old(outbox):
    outbox.add("01010101", T0)

    assert outbox.prune(1, now=T0 + timedelta(days=400)) == 0
    assert outbox.count(PENDING) == 1


def test_keeps_rejected_events_for_a_person_to_see(outbox):
    settled(outbox, "01010101", REJECTED, T0)

    assert outbox.prune(1, now=T0 + timedelta(days=400)) == 0
    assert outbox.count(REJECTED) == 1


def test_retention_counts_from_delivery_not_from_the_tap(outbox):
    event = outbox.add("01010101", T0)  # tapped offline, delivered 40 days later
    outbox.settle([Settlement(event.id, DELIVERED)], now=T0 + timedelta(days=40))

    assert outbox.prune(30, now=T0 + timedelta(days=41)) == 0


def test_sequence_numbers_are_not_reused_after_pruning_the_newest(outbox):
    settled(outbox, "01010101", DELIVERED, T0)
    outbox.prune(1, now=T0 + timedelta(days=2))

    assert outbox.add("02020202", T0).seq == 2


def test_a_failed_prune_deletes_nothing_and_leaves_the_outbox_writable(outbox):
    settled(outbox, "01010101", DELIVERED, T0)
    # A failure in the middle of the delete, as a full disk would give.
    outbox._db.execute(
        "CREATE TRIGGER fail_delete BEFORE DELETE ON events "
        "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
    )

    with pytest.raises(sqlite3.IntegrityError, match="disk full"):
        outbox.prune(1, now=T0 + timedelta(days=400))

    outbox._db.execute("DROP TRIGGER fail_delete")
    outbox.add("02020202", T0)
    assert [e.uid for e in outbox.recent(10)] == ["02020202", "01010101"]
    assert outbox.prune(1, now=T0 + timedelta(days=400)) == 1
