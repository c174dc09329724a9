import datetime

import pytest
from django.utils import timezone

from inventory.loans.models import Loan, LoanEvent
from inventory.ops.jobs.pruning import prune_scan_events
from inventory.ops.metrics import DomainCollector
from inventory.ops.models import PrunedScans
from kiosk.models import ScanEvent
from tests.inventory.ops.conftest import make_scan

pytestmark = pytest.mark.django_db


def scans_total() -> dict[str, float]:
    (family,) = [f for f in DomainCollector().collect() if f.name == "toolcrib_scans"]
    return {s.labels["outcome"]: s.value for s in family.samples if s.name.endswith("_total")}


def test_old_scans_go_and_loans_history_and_the_scan_counter_stay(crib, settings):
    settings.SCAN_RETENTION_DAYS = 30
    old = timezone.now() - datetime.timedelta(days=31)
    for outcome in ["borrowed", "borrowed", "refused"]:
        make_scan(crib["station"], outcome=outcome, read_at=old, loan=crib["open_loan"])
    loans, events, counted = Loan.objects.count(), LoanEvent.objects.count(), scans_total()

    assert prune_scan_events(batch=2) == 3

    assert ScanEvent.objects.count() == 2  # the fixture's recent ones
    assert ScanEvent.objects.filter(read_at__lt=old + datetime.timedelta(days=1)).count() == 0
    assert (Loan.objects.count(), LoanEvent.objects.count()) == (loans, events)
    assert dict(PrunedScans.objects.values_list("outcome", "count")) == {
        "borrowed": 2,
        "refused": 1,
    }
    assert scans_total() == counted


def test_nothing_to_prune_is_fine(crib):
    assert prune_scan_events() == 0
