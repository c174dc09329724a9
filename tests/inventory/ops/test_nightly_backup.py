import datetime

import pytest
from django.utils import timezone

from inventory.ops import tasks
from inventory.ops.backups.backup import BackupError
from inventory.ops.models import BackupRun, PeriodicRun


def test_the_nightly_job_records_its_success_and_keeps_backup_keep_archives(
    crib, settings, tmp_path
):
    settings.BACKUP_DIR = tmp_path
    settings.BACKUP_KEEP = 2

    for _ in range(3):
        tasks.nightly_backup()

    runs = BackupRun.objects.order_by("finished_at")
    assert [(r.trigger, r.succeeded) for r in runs] == [("scheduled", True)] * 3
    assert sorted(p.name for p in tmp_path.glob("toolcrib-backup-*")) == sorted(
        r.path.rsplit("/", 1)[1] for r in runs[1:]
    )
    assert runs.last().size_bytes > 0
    job = PeriodicRun.objects.get(job="nightly_backup")
    assert job.succeeded and job.finished_at >= job.started_at


def test_the_nightly_job_records_a_failure_with_its_reason(crib, settings, tmp_path):
    settings.BACKUP_DIR = tmp_path / "a-file"
    settings.BACKUP_DIR.write_text("not a folder")

    with pytest.raises(BackupError):
        tasks.nightly_backup.call_local()

    run = BackupRun.objects.get()
    assert not run.succeeded and "a-file" in run.error and run.path == ""
    job = PeriodicRun.objects.get(job="nightly_backup")
    assert job.succeeded is False and "a-file" in job.error


@pytest.mark.parametrize(
    ("utc", "fires"),
    [
        ("2026-06-01 17:30", True),  # 02:30 in Tokyo the next day
        ("2026-06-01 02:30", False),  # 02:30 UTC is 11:30 in Tokyo
        ("2026-06-01 17:31", False),
    ],
)
def test_daily_jobs_fire_at_the_local_time_from_settings(utc, fires):
    naive_utc = datetime.datetime.fromisoformat(utc)  # what huey passes with utc=True

    with timezone.override("Asia/Tokyo"):
        assert tasks.daily_at((2, 30))(naive_utc) is fires
