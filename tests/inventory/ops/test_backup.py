import json
import os
import sqlite3
import stat
import tarfile
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from inventory.ops.backups import databases
from inventory.ops.backups import stats as dbstats
from inventory.ops.models import BackupRun

# These tests read the messages' words: in English (the default language is Japanese).
pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture(autouse=True)
def folders(settings, tmp_path):
    settings.BACKUP_DIR = tmp_path / "backups"
    settings.MEDIA_ROOT = tmp_path / "media"
    (tmp_path / "media" / "photos").mkdir(parents=True)
    (tmp_path / "media" / "photos" / "wrench.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    return tmp_path


def backup(capsys, *args):
    call_command("backup", *args)
    return capsys.readouterr().out.strip().splitlines()


def test_the_archive_holds_database_media_and_a_manifest_of_everything(crib, capsys, folders):
    path = backup(capsys)[-1]

    with tarfile.open(path) as tar:
        names = tar.getnames()
        manifest = json.load(tar.extractfile("manifest.json"))
    database = databases.for_connection(connection)
    assert names[:2] == ["manifest.json", "manifest.sig"]
    assert sorted(names[2:]) == sorted([database.filename, "media/photos/wrench.jpg"])
    assert set(manifest["files"]) == {database.filename, "media/photos/wrench.jpg"}
    assert manifest["database"]["vendor"] == connection.vendor
    assert ["loans", "0001_initial"] in manifest["migrations"]
    assert manifest["tables"]["loans_loan"]["rows"] == 2
    assert manifest["tables"]["loans_loanevent"]["rows"] == 3
    assert manifest["tables"]["kiosk_scanevent"]["rows"] == 2
    live = database.live_stats()
    del live["ops_backuprun"]  # this run's own record is written after the dump
    assert {t: s for t, s in manifest["tables"].items() if t != "ops_backuprun"} == live
    assert manifest["app_version"].startswith("1.")
    assert manifest["created_at"]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_the_path_is_the_only_line_printed_and_the_run_is_recorded(crib, capsys, folders):
    lines = backup(capsys)

    assert len(lines) == 1
    assert lines[0].startswith(str(folders / "backups" / "toolcrib-backup-"))
    run = BackupRun.objects.get()
    assert (run.trigger, run.succeeded, run.path) == ("command", True, lines[0])
    assert run.size_bytes == os.path.getsize(lines[0])


def test_progress_is_shown_when_asked_and_the_path_stays_last(crib, capsys):
    call_command("backup", verbosity=2)
    captured = capsys.readouterr()

    path = captured.out.strip().splitlines()[-1]
    assert path.endswith(".tar.gz")
    assert captured.err.splitlines() == [
        f"Dumping the {connection.vendor} database…",
        "Counting rows…",
        f"Writing {path} (1 media files)…",
    ]


def test_retention_keeps_exactly_n_archives_and_never_safety_backups(crib, capsys, folders):
    out = folders / "elsewhere"
    out.mkdir()
    (out / "toolcrib-pre-restore-20200101-000000-000000.tar.gz").write_bytes(b"keep me")
    paths = [backup(capsys, "--output-dir", str(out), "--keep", "2")[-1] for _ in range(4)]

    remaining = sorted(p.name for p in out.iterdir())
    assert remaining == sorted(
        [os.path.basename(p) for p in paths[-2:]]
        + ["toolcrib-pre-restore-20200101-000000-000000.tar.gz"]
    )


def test_an_old_archive_that_cannot_be_removed_does_not_fail_the_backup(
    crib, capsys, folders, monkeypatch
):
    (old,) = backup(capsys, "--keep", "1")
    unlink = Path.unlink

    def refuse_the_old_one(path, missing_ok=False):
        if str(path) == old:
            raise PermissionError(13, "Permission denied", str(path))
        unlink(path, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", refuse_the_old_one)
    (new,) = backup(capsys, "--keep", "1")

    assert os.path.exists(new) and os.path.exists(old)
    assert [run.succeeded for run in BackupRun.objects.all()] == [True, True]


def test_a_backup_whose_record_cannot_be_saved_still_prints_its_archive(
    crib, capsys, folders, monkeypatch
):
    from django.db import DatabaseError

    def database_gone(**fields):
        raise DatabaseError("the server closed the connection")

    monkeypatch.setattr(BackupRun.objects, "create", database_gone)
    (path,) = backup(capsys)

    assert os.path.exists(path) and path.endswith(".tar.gz")


def test_a_failure_exits_non_zero_with_a_message_and_is_recorded(crib, folders):
    blocked = folders / "not-a-folder"
    blocked.write_text("a file where the folder should be")

    with pytest.raises(CommandError, match="Backup failed"):
        call_command("backup", "--output-dir", str(blocked))
    run = BackupRun.objects.get()
    assert not run.succeeded
    assert "not-a-folder" in run.error
    assert not list(folders.glob("**/*.tar.gz"))


def test_a_database_error_while_dumping_is_recorded_too(crib, folders, monkeypatch):
    import psycopg

    driver_error = sqlite3.OperationalError if connection.vendor == "sqlite" else psycopg.Error

    def full_disk(*args):
        raise driver_error("database or disk is full")

    monkeypatch.setattr(dbstats, "table_stats", full_disk)  # inside the dump's snapshot

    with pytest.raises(CommandError, match="disk is full"):
        call_command("backup")
    run = BackupRun.objects.get()
    assert not run.succeeded
    assert run.error == "The backup stopped: database or disk is full"


def test_keep_must_be_positive(db):
    with pytest.raises(CommandError, match="at least 1"):
        call_command("backup", "--keep", "0")


def test_an_old_pg_dump_is_refused_with_what_to_install(postgres, crib, tmp_path, monkeypatch):
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "pg_dump").write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 9.6.24'\n")
    (fake / "pg_dump").chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake}:{os.environ['PATH']}")

    with pytest.raises(CommandError, match=r"pg_dump is version 9 .* install postgresql-client-"):
        call_command("backup")


def test_a_database_other_than_sqlite_or_postgresql_is_refused_naming_it():
    mysql = SimpleNamespace(vendor="mysql", settings_dict={})

    with pytest.raises(databases.DatabaseError) as refused:
        databases.for_connection(mysql)

    assert str(refused.value) == "Backups support SQLite and PostgreSQL, not mysql."
