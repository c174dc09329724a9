import datetime
import subprocess
import sys
import time

import pytest
from django.utils import timezone

from inventory.ops import tasks
from inventory.ops.backups import backup
from inventory.ops.backups.backup import BackupError
from inventory.ops.models import BackupRun, PeriodicRun
from tests.processes import ROOT, manage, sqlite_env


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


# Runs inside `manage.py shell -c`: an installation two days old whose last backup is as old.
_TWO_DAYS_OLD = """
import datetime
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone
from inventory.ops.models import BackupRun
then = timezone.now() - datetime.timedelta(days=2)
MigrationRecorder.Migration.objects.filter(app="ops").update(applied=then)
BackupRun.objects.create(trigger="scheduled", started_at=then, finished_at=then, succeeded=True)
"""
_SCHEDULED_RUNS = """
from inventory.ops.models import BackupRun
print([run.succeeded for run in BackupRun.objects.filter(trigger="scheduled").order_by("pk")])
"""


def test_a_backup_missed_while_the_server_was_off_runs_when_the_job_runner_starts(tmp_path):
    missed = timezone.localtime() - datetime.timedelta(hours=1)
    env = sqlite_env(tmp_path, BACKUP_TIME=f"{missed:%H:%M}", HUEY_IMMEDIATE="0")
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "shell", "-c", _TWO_DAYS_OLD)

    # Two workers, as in production: each runs the start-up hooks.
    consumer = subprocess.Popen(
        [sys.executable, "manage.py", "run_huey", "--workers", "2", "--worker-type", "thread"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while (runs := manage(env, "shell", "-v0", "-c", _SCHEDULED_RUNS).strip()) == "[True]":
            assert time.monotonic() < deadline, "no backup after the job runner started"
            time.sleep(1)
        time.sleep(3)  # a second one (one per worker) would be there by now
        runs = manage(env, "shell", "-v0", "-c", _SCHEDULED_RUNS).strip()
    finally:
        consumer.terminate()
        consumer.wait(30)

    assert runs == "[True, True]"
    assert len(list((tmp_path / "var" / "backups").glob("toolcrib-backup-*"))) == 1


def test_no_backup_is_missed_before_the_installation_existed(db, settings):
    settings.BACKUP_TIME = (timezone.localtime() - datetime.timedelta(hours=1)).timetuple()[3:5]

    assert not backup.nightly_missed()  # installed by this test run, after that time
    assert backup.nightly_missed(timezone.now() + datetime.timedelta(days=1))
