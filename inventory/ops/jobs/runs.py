"""Bookkeeping shared by the scheduled jobs."""

import datetime
from contextlib import contextmanager

from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from inventory.ops.models import PeriodicRun, RestoreRun


@contextmanager
def periodic_run(job: str):
    """Record the start and the end of a periodic job: /readyz reads the start times to tell
    whether the huey consumer is alive, the admin shows the outcome."""
    started = timezone.now()
    PeriodicRun.objects.update_or_create(
        job=job, defaults={"started_at": started, "finished_at": None, "succeeded": None}
    )
    try:
        yield
    except Exception as error:
        PeriodicRun.objects.filter(job=job).update(
            finished_at=timezone.now(), succeeded=False, error=str(error)[:2000]
        )
        raise
    PeriodicRun.objects.filter(job=job).update(finished_at=timezone.now(), succeeded=True, error="")


def last_restore_at() -> datetime.datetime | None:
    """When the data was last restored: events before it were dealt with on the old data."""
    return RestoreRun.objects.order_by("-restored_at").values_list("restored_at", flat=True).first()


def installed_at() -> datetime.datetime | None:
    """When this app's tables were created: a fresh installation is not yet expected to have a
    backup or a periodic run behind it."""
    return (
        MigrationRecorder.Migration.objects.filter(app="ops", name="0001_initial")
        .values_list("applied", flat=True)
        .first()
    )
