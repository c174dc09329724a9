"""Tap times on a Raspberry Pi, which has no real-time clock.

Its wall clock starts where fake-hwclock left it at the last shutdown and is stepped when NTP
reaches a server, which may be long after the first taps of the day (the network is down).
So each tap also keeps its moment on CLOCK_BOOTTIME (never stepped, counts suspend) with the
id of the boot. A tap sent during the boot it was read in is dated by how long ago it was
read, counted back from the wall clock at the moment of sending: the clock the batch's
`sent_at` comes from, which the server corrects when it is off. A tap from an earlier boot
keeps the wall time it was read at.
"""

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


@dataclass(frozen=True)
class BootTime:
    boot_id: str
    seconds: float


def now() -> tuple[datetime, BootTime | None]:
    """The wall clock, and the time since boot when the system says which boot this is."""
    wall = datetime.now(UTC)
    boot_id = _boot_id()
    return wall, BootTime(boot_id, time.clock_gettime(time.CLOCK_BOOTTIME)) if boot_id else None


def dated(
    read_at: datetime, read_boot: BootTime | None, now: datetime, now_boot: BootTime | None
) -> datetime:
    """When a tap stamped (read_at, read_boot) was read, on the wall clock that reads `now`."""
    if read_boot is None or now_boot is None or read_boot.boot_id != now_boot.boot_id:
        return read_at
    return now - timedelta(seconds=now_boot.seconds - read_boot.seconds)


@cache
def _boot_id() -> str | None:
    try:
        return BOOT_ID.read_text().strip() or None
    except OSError:
        return None  # not Linux: the wall clock alone
