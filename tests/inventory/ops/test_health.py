import datetime
import json
import time

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from inventory.ops import health
from inventory.ops.models import BackupRun, PeriodicRun

# The checks run in threads of their own, which see only committed rows.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def healthy(settings, tmp_path):
    settings.BACKUP_DIR = tmp_path
    settings.READY_MIN_FREE_DISK_PERCENT = 0
    now = timezone.now()
    PeriodicRun.objects.create(job="station_watch", started_at=now, finished_at=now, succeeded=True)
    BackupRun.objects.create(
        trigger="scheduled", started_at=now, finished_at=now, succeeded=True, path="x", size_bytes=1
    )


def test_liveness_answers_without_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200


def test_liveness_answers_while_the_database_is_down(client, unreachable_database):
    assert client.get("/healthz").status_code == 200


def test_ready_lists_every_check_with_its_time(client, healthy):
    response = client.get("/readyz")

    body = response.json()
    assert response.status_code == 200, body
    assert (body["status"], body["failed"]) == ("ok", [])
    assert set(body["checks"]) == {"database", "channel_layer", "huey", "disk", "backup"}
    assert all(check["ok"] and check["ms"] >= 0 for check in body["checks"].values())


def test_ready_tells_a_client_on_the_lan_only_the_status(client, healthy):
    response = client.get("/readyz", REMOTE_ADDR="192.0.2.10")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}  # no paths, disk space or jobs


def test_ready_tells_the_details_to_whoever_has_the_metrics_token(client, healthy, settings):
    settings.METRICS_TOKEN = "scrape-secret"
    wrong = client.get("/readyz", REMOTE_ADDR="192.0.2.10", HTTP_AUTHORIZATION="Bearer nope")
    assert wrong.json() == {"status": "ok"}
    right = client.get(
        "/readyz", REMOTE_ADDR="192.0.2.10", HTTP_AUTHORIZATION="Bearer scrape-secret"
    )
    assert set(right.json()["checks"]) == {"database", "channel_layer", "huey", "disk", "backup"}


def test_ready_is_503_naming_the_database_when_it_is_unreachable(client, unreachable_database):
    response = client.get("/readyz")

    body = response.json()
    assert response.status_code == 503
    assert "database" in body["failed"]
    assert body["checks"]["database"]["detail"]
    assert body["checks"]["channel_layer"]["ok"]


def test_ready_is_503_naming_a_stale_backup_and_a_silent_consumer(client, healthy, settings):
    long_ago = timezone.now() - datetime.timedelta(hours=27)
    BackupRun.objects.update(finished_at=long_ago)
    PeriodicRun.objects.update(started_at=long_ago)

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["failed"] == ["huey", "backup"]


def test_ready_is_503_when_the_backup_disk_is_nearly_full(client, healthy, settings):
    settings.READY_MIN_FREE_DISK_PERCENT = 101

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["failed"] == ["disk"]


def test_a_fresh_installation_is_ready_before_its_first_backup_and_job(client, settings, tmp_path):
    settings.BACKUP_DIR = tmp_path / "not-yet-created"
    settings.READY_MIN_FREE_DISK_PERCENT = 0
    # Installed a moment ago, whenever this run's test database was made.
    MigrationRecorder.Migration.objects.filter(app="ops").update(applied=timezone.now())

    response = client.get("/readyz")

    assert response.status_code == 200, response.json()
    assert "fresh installation" in response.json()["checks"]["backup"]["detail"]


def test_a_check_waiting_on_a_locked_table_fails_within_seconds(postgres, client, healthy):
    import psycopg

    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    # What a restore holds while it rewrites the backup records.
    with psycopg.connect(**params) as restore:
        restore.execute("LOCK TABLE ops_backuprun IN ACCESS EXCLUSIVE MODE")
        started = time.monotonic()
        response = client.get("/readyz")
        waited = time.monotonic() - started

    assert response.status_code == 503
    assert response.json()["failed"] == ["backup"]
    assert "timeout" in response.json()["checks"]["backup"]["detail"]
    assert waited < health.CHECK_SECONDS + 2


def test_the_health_command_runs_the_named_checks_and_fails_when_one_does(healthy, capsys):
    call_command("health", "database", "huey")
    assert set(json.loads(capsys.readouterr().out)) == {"database", "huey"}

    PeriodicRun.objects.update(started_at=timezone.now() - datetime.timedelta(hours=1))
    with pytest.raises(CommandError, match="failed: huey"):
        call_command("health", "database", "huey")
