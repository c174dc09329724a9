"""Tap times on a Pi without a real-time clock: dated by the boot clock, not the stepped one."""

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from agent import clock
from agent.clock import BootTime
from agent.sender import Sender
from agent.state import AgentState
from tests.agent.fake_transport import FakeTransport

# Where fake-hwclock left the clock at the last shutdown, and the real time once NTP answers.
STALE = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
REAL = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def sent(outbox, now):
    transport = FakeTransport()
    Sender(outbox, transport, AgentState(), now=lambda: now).send_once()
    [(_path, payload)] = transport.posts
    return payload


def test_a_tap_read_before_the_clock_was_stepped_is_dated_by_how_long_ago_it_was_read(outbox):
    # Read 20 s after boot on the stale clock; sent 80 s after boot, once NTP stepped it.
    outbox.add("04A1B2C3", STALE, BootTime("boot-1", 20.0))

    payload = sent(outbox, (REAL, BootTime("boot-1", 80.0)))

    assert payload["sent_at"] == "2026-11-27T09:00:00.000000Z"
    assert payload["events"][0]["read_at"] == "2026-11-27T08:59:00.000000Z"


def test_a_tap_from_an_earlier_boot_keeps_the_wall_time_it_was_read_at(outbox):
    outbox.add("04A1B2C3", STALE, BootTime("boot-1", 20.0))

    payload = sent(outbox, (REAL, BootTime("boot-2", 5.0)))

    assert payload["events"][0]["read_at"] == "2026-03-01T08:00:00.000000Z"


def test_a_tap_without_a_boot_time_then_or_now_keeps_its_wall_time():
    """A tap stored by an agent without a boot id, or sent by one that lost it."""
    boot = BootTime("boot-1", 20.0)
    assert clock.dated(STALE, None, REAL, boot) == STALE
    assert clock.dated(STALE, boot, REAL, None) == STALE


def test_the_age_of_a_waiting_tap_does_not_jump_with_the_clock(outbox):
    outbox.add("04A1B2C3", STALE, BootTime("boot-1", 20.0))

    assert outbox.oldest_pending_seconds(REAL, BootTime("boot-1", 80.0)) == 60.0


def test_on_linux_the_clock_names_this_boot_and_counts_from_it():
    wall, boot = clock.now()
    time.sleep(0.05)
    later_wall, later = clock.now()

    assert boot.boot_id == Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    assert later.boot_id == boot.boot_id
    assert 0.04 < later.seconds - boot.seconds < 1
    uptime = float(Path("/proc/uptime").read_text().split()[0])
    assert abs(later.seconds - uptime) < 1
    # Dated on the later reading's clock, the first reading lands where it was.
    assert abs(clock.dated(wall, boot, later_wall, later) - wall) < timedelta(milliseconds=20)


def test_without_a_boot_id_taps_are_dated_by_the_wall_clock_alone(monkeypatch):
    monkeypatch.setattr(clock, "_boot_id", lambda: None)  # not Linux

    wall, boot = clock.now()

    assert boot is None
    assert abs(wall - datetime.now(UTC)) < timedelta(seconds=1)
