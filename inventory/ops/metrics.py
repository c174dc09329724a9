"""Domain metrics, read from the database at scrape time.

Computed per scrape rather than counted in memory, so every daphne process (and host) reports
the same numbers. The tap-processing histogram is the kiosk's (kiosk/metrics.py) and reaches
/metrics through the default registry like django-prometheus' own metrics.
"""

import contextlib
import logging

from django.db import DatabaseError, connection, transaction
from django.db.models import Count
from django.utils import timezone
from prometheus_client import REGISTRY
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from inventory.loans.models import Loan
from inventory.ops.jobs.pruning import outcome_label
from inventory.ops.models import BackupRun, PeriodicRun, PrunedScans
from kiosk.models import ScanEvent, Station

logger = logging.getLogger(__name__)
_registered = False


def register() -> None:
    """Add the collector to the default registry, once per process."""
    global _registered
    if not _registered:
        REGISTRY.register(DomainCollector())
        _registered = True


def _families():
    return {
        "open": GaugeMetricFamily("toolcrib_loans_open", "Loans not yet returned or cancelled."),
        "overdue": GaugeMetricFamily("toolcrib_loans_overdue", "Open loans past their due time."),
        "scans": CounterMetricFamily(
            "toolcrib_scans",
            "Taps received, by outcome (pruned ones included).",
            labels=["outcome"],
        ),
        "heartbeat": GaugeMetricFamily(
            "toolcrib_station_heartbeat_age_seconds",
            "Seconds since the station's last heartbeat (since its creation if it never sent one).",
            labels=["station"],
        ),
        "online": GaugeMetricFamily(
            "toolcrib_station_online",
            "1 when the station was heard from within STATION_OFFLINE_SECONDS.",
            labels=["station"],
        ),
        "outbox": GaugeMetricFamily(
            "toolcrib_station_outbox_depth",
            "Taps waiting on the kiosk to be sent, as last reported.",
            labels=["station"],
        ),
        "reader": GaugeMetricFamily(
            "toolcrib_station_reader_connected",
            "1 when the station's NFC reader is connected, as last reported.",
            labels=["station"],
        ),
        "backup_time": GaugeMetricFamily(
            "toolcrib_backup_last_success_timestamp_seconds",
            "When the last successful backup finished (Unix time).",
        ),
        "backup_size": GaugeMetricFamily(
            "toolcrib_backup_last_success_size_bytes", "Size of the last successful backup."
        ),
        "job_time": GaugeMetricFamily(
            "toolcrib_job_last_start_timestamp_seconds",
            "When each scheduled job last started (Unix time).",
            labels=["job"],
        ),
        "job_ok": GaugeMetricFamily(
            "toolcrib_job_last_succeeded",
            "1 when the job's last finished run succeeded, 0 when it failed.",
            labels=["job"],
        ),
    }


class DomainCollector:
    def describe(self):
        # Given so registering never queries the database (at start-up it may not exist yet).
        return list(_families().values())

    def collect(self):
        families = _families()
        try:
            self._fill(families)
        except DatabaseError:
            logger.exception("Domain metrics unavailable")
            return []
        return list(families.values())

    def _fill(self, f):
        now = timezone.now()
        loans = Loan.objects.counts(now)
        f["open"].add_metric([], loans["open"])
        f["overdue"].add_metric([], loans["overdue"])

        with one_snapshot():
            # A pruning batch moves counts from the scans to PrunedScans in one transaction:
            # read apart, it could be missing from both, and the counter would seem reset.
            scans = dict(PrunedScans.objects.values_list("outcome", "count"))
            rows = list(
                ScanEvent.objects.values("outcome", "status").annotate(n=Count("pk")).order_by()
            )
        for row in rows:
            label = outcome_label(outcome=row["outcome"], status=row["status"])
            scans[label] = scans.get(label, 0) + row["n"]
        for label, count in sorted(scans.items()):
            f["scans"].add_metric([label], count)

        for station in Station.objects.filter(revoked_at__isnull=True):
            age = (now - station.silent_since()).total_seconds()
            f["heartbeat"].add_metric([station.name], age)
            f["online"].add_metric([station.name], int(station.is_online(now)))
            if station.outbox_depth is not None:
                f["outbox"].add_metric([station.name], station.outbox_depth)
            if station.reader_connected is not None:
                f["reader"].add_metric([station.name], int(station.reader_connected))

        backup = BackupRun.objects.last_success()
        if backup is not None:
            f["backup_time"].add_metric([], backup.finished_at.timestamp())
            f["backup_size"].add_metric([], backup.size_bytes or 0)

        for run in PeriodicRun.objects.all():
            f["job_time"].add_metric([run.job], run.started_at.timestamp())
            if run.succeeded is not None:
                f["job_ok"].add_metric([run.job], int(run.succeeded))


@contextlib.contextmanager
def one_snapshot():
    """The reads inside see the database at one moment. PostgreSQL: a repeatable-read
    transaction. SQLite needs nothing (one process writes, and a write transaction here
    would take its lock)."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        connection.cursor().execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield
