"""The readiness checks behind /readyz. Each returns (ok, detail); `run_checks` times them."""

import asyncio
import contextlib
import functools
import shutil
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from inventory.ops.jobs.runs import installed_at
from inventory.ops.models import BackupRun, PeriodicRun

# A probe must answer: a check that waits longer than this (a table a restore has locked, a
# Redis that does not reply) has failed.
CHECK_SECONDS = 2
# The checks run side by side, each in a thread of its own, and the probe waits for them this
# long at most: a check stuck on a database whose packets are held (no error, no answer) is
# reported as such while its thread waits on. Bounded, so a long outage probed every few
# seconds cannot pile up threads or take every pooled connection.
_checkers = ThreadPoolExecutor(max_workers=10, thread_name_prefix="readyz")


def run_checks(names: list[str] | None = None) -> dict[str, dict]:
    """Every check (or those named), each {"ok", "detail", "ms"}, within about CHECK_SECONDS."""
    started = time.perf_counter()
    deadline = time.monotonic() + CHECK_SECONDS + 0.5
    chosen = {name: CHECKS[name] for name in names or CHECKS}
    running = {name: _checkers.submit(_timed, check) for name, check in chosen.items()}
    results = {}
    for name, future in running.items():
        try:
            results[name] = future.result(timeout=max(0, deadline - time.monotonic()))
        except FutureTimeout:
            results[name] = {
                "ok": False,
                "detail": f"no answer within {CHECK_SECONDS} s",
                "ms": round((time.perf_counter() - started) * 1000, 1),
            }
    return results


def _timed(check) -> dict:
    started = time.perf_counter()
    try:
        ok, detail = check()
    except Exception as error:  # a check that cannot run has failed; say why
        ok, detail = False, f"{type(error).__name__}: {error}"
    finally:
        # This thread's connection goes back to the pool (or is closed) at once: the thread
        # lives on for the next probe, which must not find a connection broken meanwhile.
        connection.close()
    return {"ok": ok, "detail": detail, "ms": round((time.perf_counter() - started) * 1000, 1)}


def _time_limited(check):
    """PostgreSQL: the check's queries give up after CHECK_SECONDS, waiting for a lock or not."""

    @functools.wraps(check)
    def limited():
        if connection.vendor != "postgresql":
            return check()
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT set_config('statement_timeout', %s, true), "
                    "set_config('lock_timeout', %s, true)",
                    [f"{CHECK_SECONDS * 1000}"] * 2,
                )
            return check()

    return limited


@_time_limited
def check_database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return True, connection.vendor


def check_channel_layer():
    layer = get_channel_layer()
    if layer is None:
        return False, "no channel layer configured"
    async_to_sync(_round_trip)(layer)
    return True, type(layer).__name__


async def _round_trip(layer):
    async with asyncio.timeout(CHECK_SECONDS):  # connecting and sending too, not only receiving
        channel = await layer.new_channel("readyz.")
        token = uuid.uuid4().hex
        await layer.send(channel, {"type": "readyz.ping", "token": token})
        message = await layer.receive(channel)
    if message.get("token") != token:
        raise RuntimeError("the channel layer returned another message")
    # A receive that is cancelled is the only way the layers let go of a channel (Redis
    # pub/sub stays subscribed otherwise): end it so every probe does not leak one.
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(layer.receive(channel), timeout=0.01)


@_time_limited
def check_huey():
    last = PeriodicRun.objects.order_by("-started_at").first()
    limit = settings.READY_HUEY_MAX_AGE_SECONDS
    if last is None:
        return _grace("no periodic job has run yet", limit)
    age = (timezone.now() - last.started_at).total_seconds()
    ok = age <= limit
    return ok, f"last periodic job {last.job} started {age:.0f} s ago (limit {limit} s)"


def check_disk():
    path = Path(settings.BACKUP_DIR)
    while not path.exists():  # not created before the first backup: measure where it will be
        path = path.parent
    usage = shutil.disk_usage(path)
    free = 100 * usage.free / usage.total
    ok = free >= settings.READY_MIN_FREE_DISK_PERCENT
    return ok, (
        f"{usage.free / 2**30:.1f} GiB ({free:.0f} %) free at {path} "
        f"(minimum {settings.READY_MIN_FREE_DISK_PERCENT} %)"
    )


@_time_limited
def check_backup():
    last = BackupRun.objects.last_success()
    if last is None:
        return _grace("no successful backup yet", settings.BACKUP_MAX_AGE_HOURS * 3600)
    age = (timezone.now() - last.finished_at).total_seconds()
    return not BackupRun.objects.is_late(), (
        f"last successful backup {age / 3600:.1f} h ago: {last.path}"
    )


def _grace(what: str, limit: float):
    """Nothing yet is fine on a fresh installation, for as long as it would be fine later."""
    installed = installed_at()
    young = installed is not None and (timezone.now() - installed).total_seconds() <= limit
    return young, f"{what} ({'fresh installation' if young else 'installed long ago'})"


CHECKS = {
    "database": check_database,
    "channel_layer": check_channel_layer,
    "huey": check_huey,
    "disk": check_disk,
    "backup": check_backup,
}
