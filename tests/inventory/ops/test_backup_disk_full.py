"""A backup that runs out of disk: no archive, partial file or work folder is left behind, and
the managers are told once, not at every retry or every night until a backup succeeds."""

import pytest
from django.core import mail

from inventory.ops import tasks
from inventory.ops.backups.backup import BackupError
from inventory.ops.models import BackupRun


@pytest.fixture
def full_disk(small_disk):
    """Room for almost nothing."""
    return small_disk(16 * 1024)


@pytest.fixture
def managers(settings):
    settings.REMINDER_MANAGER_EMAILS = ["crib-office@example.com"]
    settings.REMINDER_WEBHOOK_URL = ""
    settings.LANGUAGE_CODE = "en"


def test_a_full_disk_leaves_nothing_behind_and_tells_the_managers_once(
    crib, settings, full_disk, managers
):
    settings.BACKUP_DIR = full_disk

    for _ in range(3):  # the night's run, its retry, the next night
        with pytest.raises(BackupError):
            tasks.nightly_backup.call_local()

    assert list(full_disk.iterdir()) == []
    assert [run.succeeded for run in BackupRun.objects.all()] == [False] * 3
    assert "No space left on device" in BackupRun.objects.first().error
    assert [message.subject for message in mail.outbox] == ["Toolcrib: the backup failed"]
    assert "No space left on device" in mail.outbox[0].body


def test_backups_failing_again_after_a_success_are_told_again(
    crib, settings, full_disk, managers, tmp_path
):
    settings.BACKUP_DIR = full_disk
    with pytest.raises(BackupError):
        tasks.nightly_backup.call_local()
    settings.BACKUP_DIR = tmp_path / "roomy"
    tasks.nightly_backup.call_local()
    settings.BACKUP_DIR = full_disk
    with pytest.raises(BackupError):
        tasks.nightly_backup.call_local()

    assert len(mail.outbox) == 2
