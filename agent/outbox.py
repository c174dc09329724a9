"""The local SQLite outbox: every tap is committed here before anything touches the network.

One connection guarded by a lock serves the reader, sender and status threads; every statement
takes well under a millisecond except the commit's fsync, so the lock is never held for long.
"""

import os
import pwd
import sqlite3
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from agent import clock
from agent.clock import BootTime

PENDING, DELIVERED, REJECTED = "pending", "delivered", "rejected"

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    -- AUTOINCREMENT: a sequence number is never reused, even after pruning the newest rows.
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    uid TEXT NOT NULL,
    read_at TEXT NOT NULL,
    -- The moment on CLOCK_BOOTTIME and the boot it belongs to (agent.clock).
    boot_id TEXT,
    since_boot REAL,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'rejected')),
    settled_at TEXT,
    outcome TEXT,
    message TEXT
);
CREATE INDEX IF NOT EXISTS events_by_state ON events (state, seq);
-- kept_since: every tap delivered since this moment is still here (pruning moves it on).
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- The server's requests to send delivered taps again after a restore (agent.replay): how far
-- this agent got with each, and when it finished.
CREATE TABLE IF NOT EXISTS replays (
    id TEXT PRIMARY KEY,
    through_seq INTEGER NOT NULL DEFAULT 0,
    finished_at TEXT
);
"""


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Event:
    seq: int
    id: str
    uid: str
    read_at: datetime
    state: str = PENDING
    outcome: str | None = None
    message: str | None = None
    boot: BootTime | None = None

    def wire(self, now: datetime | None = None, now_boot: BootTime | None = None) -> dict:
        """The event as sent; with the moment of sending, dated on that moment's clock."""
        read_at = clock.dated(self.read_at, self.boot, now, now_boot) if now else self.read_at
        return {"id": self.id, "uid": self.uid, "read_at": iso(read_at)}


@dataclass(frozen=True)
class Settlement:
    """The server's answer for one event."""

    event_id: str
    state: str
    outcome: str | None = None
    message: str | None = None


class Outbox:
    def __init__(self, path: Path, *, read_only: bool = False):
        self.path = Path(path)
        if read_only:
            uri = f"{self.path.resolve().as_uri()}?mode=ro"
            self._db = sqlite3.connect(uri, uri=True, check_same_thread=False)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: statements commit as they run; multi-statement changes use an
            # explicit BEGIN IMMEDIATE so they take the write lock before reading.
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._lock = threading.Lock()
        self._db.row_factory = sqlite3.Row
        # Another process (the durability test, `status`) may hold the lock for a moment.
        self._db.execute("PRAGMA busy_timeout = 5000")
        if not read_only:
            self._db.execute("PRAGMA journal_mode = WAL")
            # FULL, not NORMAL: in WAL mode NORMAL may lose the last commits on power loss, and a
            # tap acknowledged to the reader loop must survive a power cut.
            self._db.execute("PRAGMA synchronous = FULL")
            self._db.executescript(SCHEMA)
            self._add_boot_columns()
            self._note_kept_since()

    def _add_boot_columns(self) -> None:
        """An outbox made before taps kept their boot time keeps its waiting taps."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            columns = {row["name"] for row in self._db.execute("PRAGMA table_info(events)")}
            if "boot_id" not in columns:
                self._db.execute("ALTER TABLE events ADD COLUMN boot_id TEXT")
                self._db.execute("ALTER TABLE events ADD COLUMN since_boot REAL")
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def _note_kept_since(self) -> None:
        """A new outbox holds everything from now on; one made before this was noted holds
        everything since its oldest tap (pruning drops the oldest first)."""
        self._db.execute(
            "INSERT OR IGNORE INTO meta (key, value) "
            "SELECT 'kept_since', coalesce(min(read_at), ?) FROM events",
            (iso(utc_now()),),
        )

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def add(self, uid: str, read_at: datetime, boot: BootTime | None = None) -> Event:
        """Store one tap; when this returns the event is on disk."""
        event_id = str(uuid.uuid4())
        boot_id, since_boot = (boot.boot_id, boot.seconds) if boot else (None, None)
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO events (id, uid, read_at, boot_id, since_boot) VALUES (?, ?, ?, ?, ?)",
                (event_id, uid, iso(read_at), boot_id, since_boot),
            )
        return Event(seq=cursor.lastrowid, id=event_id, uid=uid, read_at=read_at, boot=boot)

    def pending(self, limit: int) -> list[Event]:
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM events WHERE state = 'pending' ORDER BY seq LIMIT ?", (limit,)
            ).fetchall()
        return [_event(row) for row in rows]

    def settle(self, settlements: Iterable[Settlement], now: datetime | None = None) -> int:
        """Record the server's answers in one transaction; returns how many changed."""
        settled_at = iso(now or utc_now())
        rows = [(s.state, settled_at, s.outcome, s.message, s.event_id) for s in settlements]
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                cursor = self._db.executemany(
                    "UPDATE events SET state = ?, settled_at = ?, outcome = ?, message = ? "
                    "WHERE id = ? AND state = 'pending'",
                    rows,
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return cursor.rowcount

    def depth(self) -> int:
        with self._lock:
            return self._db.execute(
                "SELECT count(*) FROM events WHERE state = 'pending'"
            ).fetchone()[0]

    def oldest_pending_seconds(
        self, now: datetime | None = None, now_boot: BootTime | None = None
    ) -> float | None:
        with self._lock:
            row = self._db.execute(
                "SELECT * FROM events WHERE state = 'pending' ORDER BY seq LIMIT 1"
            ).fetchone()
        if row is None:
            return None
        if now is None:
            now, now_boot = clock.now()
        event = _event(row)
        # A tap from an earlier boot is dated by the wall clock, which NTP may have stepped
        # back since: never a negative age.
        age = now - clock.dated(event.read_at, event.boot, now, now_boot)
        return max(0.0, age.total_seconds())

    def recent(self, limit: int) -> list[Event]:
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM events ORDER BY seq DESC LIMIT ?", (limit,)
            ).fetchall()
        return [_event(row) for row in rows]

    def rejected(self, limit: int) -> list[Event]:
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM events WHERE state = 'rejected' ORDER BY seq DESC LIMIT ?", (limit,)
            ).fetchall()
        return [_event(row) for row in rows]

    def count(self, state: str) -> int:
        with self._lock:
            return self._db.execute(
                "SELECT count(*) FROM events WHERE state = ?", (state,)
            ).fetchone()[0]

    def prune(self, retention_days: int, now: datetime | None = None) -> int:
        """Forget delivered events older than the retention; pending and rejected stay."""
        cutoff = iso((now or utc_now()) - timedelta(days=retention_days))
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                cursor = self._db.execute(
                    "DELETE FROM events WHERE state = 'delivered' AND settled_at < ?", (cutoff,)
                )
                if cursor.rowcount:
                    self._db.execute(
                        "UPDATE meta SET value = max(value, ?) WHERE key = 'kept_since'", (cutoff,)
                    )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return cursor.rowcount

    def kept_since(self) -> datetime | None:
        """How far back this kiosk can send its taps again: every tap it delivered since then
        is still here. None for an outbox the agent has not opened since it started noting it."""
        try:
            with self._lock:
                row = self._db.execute("SELECT value FROM meta WHERE key = 'kept_since'").fetchone()
        except sqlite3.OperationalError:  # no meta table: read-only view of an older outbox
            return None
        return datetime.fromisoformat(row["value"]) if row else None

    def delivered_since(self, since: datetime, after_seq: int, limit: int) -> list[Event]:
        """Delivered taps read or delivered at or after `since`, in outbox order from after_seq.

        Delivered, not read: a tap read offline before an archive but delivered after it is not
        in the archive either."""
        moment = iso(since)
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM events WHERE state = 'delivered' AND seq > ? "
                "AND (settled_at >= ? OR read_at >= ?) ORDER BY seq LIMIT ?",
                (after_seq, moment, moment, limit),
            ).fetchall()
        return [_event(row) for row in rows]

    def replay_position(self, replay_id: str) -> tuple[int, bool]:
        """(the last seq sent again for this replay, whether it is finished)."""
        with self._lock:
            row = self._db.execute(
                "SELECT through_seq, finished_at FROM replays WHERE id = ?", (replay_id,)
            ).fetchone()
        return (row["through_seq"], row["finished_at"] is not None) if row else (0, False)

    def replay_sent(self, replay_id: str, through_seq: int) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO replays (id, through_seq) VALUES (?, ?) "
                "ON CONFLICT (id) DO UPDATE SET through_seq = excluded.through_seq",
                (replay_id, through_seq),
            )

    def replay_finished(self, replay_id: str, now: datetime | None = None) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO replays (id, finished_at) VALUES (?, ?) "
                "ON CONFLICT (id) DO UPDATE SET finished_at = excluded.finished_at",
                (replay_id, iso(now or utc_now())),
            )

    def last_finished_replay(self) -> str | None:
        try:
            with self._lock:
                row = self._db.execute(
                    "SELECT id FROM replays WHERE finished_at IS NOT NULL "
                    "ORDER BY finished_at DESC LIMIT 1"
                ).fetchone()
        except sqlite3.OperationalError:  # no replays table: read-only view of an older outbox
            return None
        return row["id"] if row else None


def foreign_owner(path: Path, euid: int | None = None) -> str | None:
    """Why root must not open this outbox, or None.

    SQLite creates the -wal and -shm files even for a read-only connection. Made by root in the
    service's state directory, they would leave the service user unable to write its own outbox
    after someone ran `sudo python -m agent status` to look at it.
    """
    if (os.geteuid() if euid is None else euid) != 0:
        return None
    for candidate in (path, path.parent):
        if candidate.exists():
            owner = candidate.stat().st_uid
            if owner != 0:
                name = pwd.getpwuid(owner).pw_name if _known_uid(owner) else str(owner)
                return f"{candidate} belongs to {name}; run this as that user (sudo -u {name} ...)"
            return None
    return None


def _known_uid(uid: int) -> bool:
    try:
        pwd.getpwuid(uid)
    except KeyError:
        return False
    return True


def _event(row: sqlite3.Row) -> Event:
    # A read-only view of an outbox the agent has not opened since its upgrade has no boot_id.
    # (`in row` would look among the values: sqlite3.Row is a sequence.)
    boot_id = row["boot_id"] if "boot_id" in row.keys() else None  # noqa: SIM118
    return Event(
        seq=row["seq"],
        id=row["id"],
        uid=row["uid"],
        read_at=datetime.fromisoformat(row["read_at"]),
        state=row["state"],
        outcome=row["outcome"],
        message=row["message"],
        boot=BootTime(boot_id, row["since_boot"]) if boot_id else None,
    )
