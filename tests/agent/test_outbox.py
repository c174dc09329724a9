import sqlite3
import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from agent.clock import BootTime
from agent.outbox import DELIVERED, PENDING, REJECTED, Outbox, Settlement

T0 = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)


@pytest.fixture
def outbox(tmp_path):
    box = Outbox(tmp_path / "state" / "outbox.db")
    yield box
    box.close()


def test_a_saved_event_has_a_uuid_a_sequence_number_and_is_pending(outbox):
    event = outbox.add("04A1B2C3", T0)

    assert uuid.UUID(event.id).version == 4
    assert event.seq == 1
    assert outbox.pending(10) == [event]
    assert outbox.depth() == 1


def test_the_database_is_in_wal_mode_with_full_sync(outbox):
    db = sqlite3.connect(outbox.path)

    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert outbox._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_pending_events_come_oldest_first_by_sequence(outbox):
    uids = [f"0{n}0{n}0{n}0{n}" for n in range(5)]
    for uid in uids:
        outbox.add(uid, T0)  # same read time: only the sequence orders them

    assert [e.uid for e in outbox.pending(3)] == uids[:3]
    assert [e.seq for e in outbox.pending(10)] == [1, 2, 3, 4, 5]


def test_taps_keep_the_order_they_were_read_in_when_the_clock_steps_back_between_them(outbox):
    # The Pi has no real-time clock: NTP can step it back between two taps. The outbox order
    # is the order of reading, never the order of the (wrong) wall times.
    read_at = [T0, T0 + timedelta(minutes=5), T0 - timedelta(hours=2), T0 - timedelta(hours=1)]
    uids = [outbox.add(f"0{n}0{n}0{n}0{n}", moment).uid for n, moment in enumerate(read_at)]

    assert [e.uid for e in outbox.pending(10)] == uids
    assert [e.uid for e in outbox.recent(10)] == uids[::-1]
    # The oldest waiting tap is the first one read, though later ones carry earlier times.
    assert outbox.oldest_pending_seconds(T0 + timedelta(minutes=10)) == 600.0


def test_read_at_survives_the_round_trip_in_utc(outbox):
    event = outbox.add("04A1B2C3", T0.replace(microsecond=123456))

    [stored] = outbox.pending(1)

    assert stored.read_at == T0.replace(microsecond=123456)
    assert stored.wire() == {
        "id": event.id,
        "uid": "04A1B2C3",
        "read_at": "2026-11-23T07:00:00.123456Z",
    }


def test_settled_events_leave_the_queue_and_keep_the_servers_answer(outbox):
    first, second = outbox.add("01020304", T0), outbox.add("0A0B0C0D", T0)

    changed = outbox.settle(
        [
            Settlement(first.id, DELIVERED, "borrowed", "ok"),
            Settlement(second.id, REJECTED, None, "unreadable uid"),
        ]
    )

    assert changed == 2
    assert outbox.pending(10) == []
    recent = {e.id: e for e in outbox.recent(10)}
    assert (recent[first.id].state, recent[first.id].outcome) == (DELIVERED, "borrowed")
    assert (recent[second.id].state, recent[second.id].message) == (REJECTED, "unreadable uid")


def test_a_settled_event_is_never_settled_again(outbox):
    event = outbox.add("01020304", T0)
    outbox.settle([Settlement(event.id, REJECTED, None, "bad")])

    assert outbox.settle([Settlement(event.id, DELIVERED, "borrowed", "ok")]) == 0
    assert outbox.recent(10)[0].state == REJECTED


def test_recent_reads_are_newest_first(outbox):
    for uid in ("01020304", "0A0B0C0D", "0E0F1011"):
        outbox.add(uid, T0)

    assert [e.uid for e in outbox.recent(2)] == ["0E0F1011", "0A0B0C0D"]


def test_the_age_of_the_oldest_pending_event(outbox):
    assert outbox.oldest_pending_seconds(T0) is None
    first = outbox.add("01020304", T0)
    outbox.add("0A0B0C0D", T0 + timedelta(seconds=30))

    assert outbox.oldest_pending_seconds(T0 + timedelta(seconds=90)) == 90.0
    outbox.settle([Settlement(first.id, DELIVERED)])
    assert outbox.oldest_pending_seconds(T0 + timedelta(seconds=90)) == 60.0
    # A clock stepped back (the Pi has no RTC) shows zero, not a negative age.
    assert outbox.oldest_pending_seconds(T0) == 0.0


def test_events_survive_reopening_and_numbering_continues(tmp_path):
    path = tmp_path / "outbox.db"
    box = Outbox(path)
    box.add("01020304", T0)
    box.close()

    box = Outbox(path)
    second = box.add("0A0B0C0D", T0)

    assert [e.uid for e in box.pending(10)] == ["01020304", "0A0B0C0D"]
    assert second.seq == 2
    box.close()


def test_counts_by_state(outbox):
    event = outbox.add("01020304", T0)
    outbox.add("0A0B0C0D", T0)
    outbox.settle([Settlement(event.id, REJECTED, None, "bad")])

    assert (outbox.count(PENDING), outbox.count(REJECTED), outbox.count(DELIVERED)) == (1, 1, 0)
    assert [e.id for e in outbox.rejected(10)] == [event.id]


def test_a_read_only_view_sees_the_events_and_cannot_write(tmp_path):
    writer = Outbox(tmp_path / "outbox.db")
    writer.add("01020304", T0)

    reader = Outbox(tmp_path / "outbox.db", read_only=True)

    assert reader.depth() == 1
    with pytest.raises(sqlite3.OperationalError):
        reader.add("0A0B0C0D", T0)
    reader.close()
    writer.close()


def test_an_outbox_from_before_boot_times_keeps_its_waiting_taps(tmp_path):
    path = tmp_path / "outbox.db"
    old = sqlite3.connect(path)
    old.executescript(
        "CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, "
        "uid TEXT NOT NULL, read_at TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'pending', "
        "settled_at TEXT, outcome TEXT, message TEXT);"
        "INSERT INTO events (id, uid, read_at) VALUES ('e1', '01020304', '2026-11-23T07:00:00Z');"
    )
    old.close()
    # The operator's `status` may look before the upgraded agent has opened it.
    assert Outbox(path, read_only=True).pending(10)[0].boot is None

    box = Outbox(path)
    [waiting] = box.pending(10)
    box.add("0A0B0C0D", T0)

    assert (waiting.id, waiting.read_at, waiting.boot) == ("e1", T0, None)
    assert [e.uid for e in box.pending(10)] == ["01020304", "0A0B0C0D"]
    box.close()


def test_the_outbox_creates_its_missing_directories(tmp_path):
    path = tmp_path / "var" / "lib" / "toolcrib-agent" / "outbox.db"

    box = Outbox(path)
    box.add("01020304", T0)

    assert path.exists()
    box.close()


def test_a_read_only_view_can_be_read_from_another_thread(tmp_path):
    writer = Outbox(tmp_path / "outbox.db")
    writer.add("01020304", T0)
    reader = Outbox(tmp_path / "outbox.db", read_only=True)
    depths = []

    thread = threading.Thread(target=lambda: depths.append(reader.depth()))
    thread.start()
    thread.join(5)

    assert depths == [1]
    reader.close()
    writer.close()


def test_a_failed_upgrade_changes_nothing_and_leaves_the_outbox_unlocked(tmp_path):
    path = tmp_path / "outbox.db"
    odd = sqlite3.connect(path)
    # Half an upgrade made by hand: boot_id is added, then since_boot is refused.
    odd.executescript(
        "CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, "
        "uid TEXT NOT NULL, read_at TEXT NOT NULL, since_boot REAL, "
        "state TEXT NOT NULL DEFAULT 'pending', settled_at TEXT, outcome TEXT, message TEXT);"
    )
    odd.close()

    with pytest.raises(sqlite3.OperationalError, match="duplicate column name: since_boot"):
        Outbox(path)

    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # would fail with "database is locked"
    columns = {row[1] for row in other.execute("PRAGMA table_info(events)")}
    other.execute("ROLLBACK")
    other.close()
    assert "boot_id" not in columns


def test_a_failed_settle_records_no_answer_and_leaves_the_outbox_writable(outbox):
    first, second = outbox.add("01020304", T0), outbox.add("0A0B0C0D", T0)
    # The second answer fails to be written, as a full disk would make it.
    outbox._db.execute(
        f"CREATE TRIGGER fail_settle BEFORE UPDATE ON events WHEN old.id = '{second.id}' "
        "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
    )
    answers = [Settlement(first.id, DELIVERED), Settlement(second.id, DELIVERED)]

    with pytest.raises(sqlite3.IntegrityError, match="disk full"):
        outbox.settle(answers)

    assert outbox.depth() == 2  # the first answer is not recorded alone
    outbox._db.execute("DROP TRIGGER fail_settle")
    assert outbox.settle(answers) == 2


def test_a_saved_tap_is_returned_as_it_reads_back_with_its_boot_time(outbox):
    event = outbox.add("04A1B2C3", T0, BootTime("boot-1", 20.5))

    assert outbox.pending(1) == [event]
    assert event.boot == BootTime("boot-1", 20.5)
