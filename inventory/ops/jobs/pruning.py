"""Pruning raw taps after SCAN_RETENTION_DAYS. Loans and their history are never pruned: a
scan row is only the record of a tap, and what it did lives on in Loan and LoanEvent."""

import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F
from django.utils import timezone

from inventory.ops.models import PrunedScans
from kiosk.models import ScanEvent


def outcome_label(*, outcome: str, status: str) -> str:
    """The label scans are counted under: the outcome, or the status when there is none."""
    return outcome or status


def prune_scan_events(*, now=None, batch: int = 5000) -> int:
    """Delete scans read before the retention period, in batches so a big first run never holds
    a long lock. Each batch adds its counts to PrunedScans in the same transaction, so the
    scans_total metric stays monotonic. Returns how many were deleted."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=settings.SCAN_RETENTION_DAYS)
    deleted = 0
    while True:
        with transaction.atomic():
            ids = list(
                ScanEvent.objects.filter(read_at__lt=cutoff)
                .order_by("read_at")
                .values_list("pk", flat=True)[:batch]
            )
            if not ids:
                return deleted
            doomed = ScanEvent.objects.filter(pk__in=ids)
            for row in doomed.values("outcome", "status").annotate(n=Count("pk")):
                label = outcome_label(outcome=row["outcome"], status=row["status"])
                tally, _ = PrunedScans.objects.get_or_create(outcome=label)
                PrunedScans.objects.filter(pk=tally.pk).update(count=F("count") + row["n"])
            doomed.delete()
            deleted += len(ids)
