"""Scheduled jobs (huey). Each is a thin wrapper over one use case in this app.

db_periodic_task is djhuey's periodic_task that also closes stale database connections.
Daily jobs take their time from settings in the server's TIME_ZONE: huey's crontab would read
them in UTC (huey runs with utc=True), so they use `daily_at` instead.
"""

import datetime
import logging
import threading

from django.conf import settings
from django.db import DatabaseError, close_old_connections
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, on_startup

from inventory.ops.backups import backup
from inventory.ops.jobs import credentials, pruning, reminders
from inventory.ops.jobs.runs import periodic_run
from inventory.ops.models import BackupRun
from inventory.ops.station_watch import watch_stations
from kiosk import replays

logger = logging.getLogger(__name__)


def daily_at(hour_minute: tuple[int, int]):
    """A huey schedule that fires once a day at this local wall-clock time."""
    hour, minute = hour_minute

    def due(timestamp: datetime.datetime) -> bool:
        if timestamp.tzinfo is None:  # huey hands over naive UTC
            timestamp = timestamp.replace(tzinfo=datetime.UTC)
        local = timezone.localtime(timestamp)
        return (local.hour, local.minute) == (hour, minute)

    return due


@db_periodic_task(crontab(minute="*"))
def station_watch():
    with periodic_run("station_watch"):
        watch_stations()


# After a restore: the kiosks' held taps are applied when the wait for their answers is over,
# also when no kiosk sends a heartbeat any more to notice it.
@db_periodic_task(crontab(minute="*"))
def tap_replay():
    with periodic_run("tap_replay"):
        replays.apply_ready()


@db_periodic_task(daily_at(settings.BACKUP_TIME), retries=1, retry_delay=900)
def nightly_backup():
    with periodic_run("nightly_backup"):
        backup.run_backup(trigger=BackupRun.Trigger.SCHEDULED, keep=settings.BACKUP_KEEP)


# Every worker thread runs the start-up hooks: one of them looks, once per consumer process.
_catch_up = threading.Lock()
_caught_up = False


@on_startup()
def catch_up_missed_backup():
    """A nightly backup missed because the server was off at BACKUP_TIME runs when the job
    runner starts, instead of a day later."""
    global _caught_up
    with _catch_up:
        if _caught_up:
            return
        _caught_up = True
    try:
        missed = backup.nightly_missed()
    except DatabaseError:
        logger.exception("Could not tell whether a nightly backup was missed")
        return
    finally:
        close_old_connections()
    if missed:
        logger.warning("The last nightly backup was missed (the server was off): running it now")
        nightly_backup()


@db_periodic_task(daily_at(settings.REMINDER_TIME), retries=3, retry_delay=300)
def overdue_reminders():
    with periodic_run("overdue_reminders"):
        reminders.send_overdue_reminders()


@db_periodic_task(crontab(minute="*"), retries=3, retry_delay=60)
def due_soon_reminders():
    if settings.REMINDER_BEFORE_DUE_MINUTES:
        with periodic_run("due_soon_reminders"):
            reminders.send_due_soon_reminders()


# Expired sessions and refresh tokens (never in an archive anyway, see backups/private.py).
@db_periodic_task(daily_at((4, 5)))
def clear_expired_credentials():
    with periodic_run("clear_expired_credentials"):
        credentials.clear_expired_credentials()


# After the nightly backup, so the last archive still holds what is pruned.
@db_periodic_task(daily_at((4, 15)))
def prune_scans():
    with periodic_run("prune_scans"):
        pruning.prune_scan_events()
