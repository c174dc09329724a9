import datetime
import re
import threading

import pytest
from django.db import connection
from django.utils import timezone

from inventory.loans import services
from inventory.loans.models import Door
from inventory.ops.jobs.pruning import prune_scan_events
from inventory.ops.models import BackupRun, PrunedScans
from kiosk.models import ScanEvent, Station
from tests.factories import EmployeeFactory, ItemFactory
from tests.inventory.ops.conftest import make_scan, make_station

pytestmark = pytest.mark.django_db

YEAR = datetime.timedelta(days=365)


def scrape(client, **extra) -> dict[str, float]:
    response = client.get("/metrics", **extra)
    assert response.status_code == 200, response.content
    samples = {}
    for line in response.content.decode().splitlines():
        if line.startswith("toolcrib_"):
            name, value = line.rsplit(" ", 1)
            samples[name] = float(value)
    return samples


def test_loan_and_scan_metrics_follow_a_borrow_and_a_scan(client):
    station = make_station()
    before = scrape(client)

    services.borrow(item=ItemFactory(), employee=EmployeeFactory(), door=Door.API)
    make_scan(station, outcome=ScanEvent.Outcome.BORROWED)
    after = scrape(client)

    assert after["toolcrib_loans_open"] == before["toolcrib_loans_open"] + 1
    assert before.get('toolcrib_scans_total{outcome="borrowed"}', 0) == 0
    assert after['toolcrib_scans_total{outcome="borrowed"}'] == 1


def test_scans_total_counts_pruned_scans_so_it_never_goes_down(client):
    PrunedScans.objects.create(outcome="refused", count=40)
    make_scan(make_station(), outcome=ScanEvent.Outcome.REFUSED)

    assert scrape(client)['toolcrib_scans_total{outcome="refused"}'] == 41


def test_overdue_loans_stations_and_the_last_backup_are_exported(client):
    now = timezone.now()
    loan = services.borrow(item=ItemFactory(), employee=EmployeeFactory(), door=Door.API)
    type(loan).objects.filter(pk=loan.pk).update(
        borrowed_at=now - timezone.timedelta(days=2), due_at=now - timezone.timedelta(days=1)
    )
    make_station(
        name="Crib B",
        last_seen_at=now - timezone.timedelta(seconds=30),
        outbox_depth=3,
        reader_connected=False,
    )
    BackupRun.objects.create(
        trigger="scheduled", started_at=now, finished_at=now, succeeded=True, size_bytes=12345
    )

    samples = scrape(client)

    assert samples["toolcrib_loans_overdue"] == 1
    assert 30 <= samples['toolcrib_station_heartbeat_age_seconds{station="Crib B"}'] < 60
    assert samples['toolcrib_station_outbox_depth{station="Crib B"}'] == 3
    assert samples['toolcrib_station_reader_connected{station="Crib B"}'] == 0
    assert samples['toolcrib_station_online{station="Crib B"}'] == 1
    assert samples["toolcrib_backup_last_success_size_bytes"] == 12345
    assert samples["toolcrib_backup_last_success_timestamp_seconds"] == pytest.approx(
        now.timestamp()
    )


def test_django_prometheus_metrics_are_still_served(client):
    client.get("/healthz")
    body = client.get("/metrics").content.decode()
    assert re.search(r"^django_http_requests_total_by_method_total\{.*\} \d", body, re.M)


def test_metrics_are_refused_from_an_address_not_allowed(client):
    response = client.get("/metrics", REMOTE_ADDR="192.0.2.7")

    assert response.status_code == 403
    assert b"toolcrib_" not in response.content
    assert b"METRICS_ALLOWED_IPS" in response.content


def test_a_bearer_token_opens_metrics_to_any_address(client, settings):
    settings.METRICS_TOKEN = "s3cret-scraper-token"

    assert client.get("/metrics", REMOTE_ADDR="192.0.2.7").status_code == 403
    wrong = client.get("/metrics", REMOTE_ADDR="192.0.2.7", HTTP_AUTHORIZATION="Bearer nope")
    assert wrong.status_code == 403
    assert "toolcrib_loans_open" in scrape(
        client, REMOTE_ADDR="192.0.2.7", HTTP_AUTHORIZATION="Bearer s3cret-scraper-token"
    )


def test_scans_total_holds_still_while_a_prune_commits_between_its_two_reads(
    postgres, client, monkeypatch, settings
):
    station = make_station()
    for _ in range(3):
        make_scan(station, outcome=ScanEvent.Outcome.REFUSED, read_at=timezone.now() - YEAR)
    settings.SCAN_RETENTION_DAYS = 30
    pruned_counts = PrunedScans.objects.values_list

    def then_prune(*fields):
        counts = list(pruned_counts(*fields))  # read before the prune...
        # ...which commits on its own connection before the scans are read.
        worker = threading.Thread(target=prune_in_a_thread)
        worker.start()
        worker.join()
        return counts

    monkeypatch.setattr(PrunedScans.objects, "values_list", then_prune)
    total = scrape(client)['toolcrib_scans_total{outcome="refused"}']

    assert ScanEvent.objects.count() == 0  # the prune did happen in between
    assert total == 3


def prune_in_a_thread():
    try:
        prune_scan_events()
    finally:
        connection.close()


def test_a_station_never_heard_from_shows_offline_with_its_silence_counted_from_creation(client):
    station = make_station(name="Never heard")
    Station.objects.filter(pk=station.pk).update(
        created_at=timezone.now() - timezone.timedelta(minutes=5)
    )

    samples = scrape(client)

    assert 300 <= samples['toolcrib_station_heartbeat_age_seconds{station="Never heard"}'] < 330
    assert samples['toolcrib_station_online{station="Never heard"}'] == 0
