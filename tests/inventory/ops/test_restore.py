import builtins
import datetime
import hashlib
import sqlite3
from types import SimpleNamespace

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import translation

from inventory.items.models import Item
from inventory.loans.models import Loan
from inventory.ops.backups import databases
from inventory.ops.models import RestoreRun
from kiosk import replays
from tests.factories import ItemFactory
from tests.inventory.ops.archives import (
    live_stats,
    make_backup,
    manifest_of,
    rewrite,
    without_the_restores_writes,
)

# These tests read the messages' words: in English (the default language is Japanese).
pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture(autouse=True)
def folders(settings, tmp_path):
    settings.BACKUP_DIR = tmp_path / "backups"
    settings.MEDIA_ROOT = tmp_path / "media"
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "manual.pdf").write_bytes(b"%PDF-1.7 calibration manual")
    return tmp_path


def restore(path, *args):
    call_command("restore", str(path), "--no-input", *args)


def test_backup_wipe_restore_gives_back_every_table_exactly(crib, capsys, folders):
    archive = make_backup(capsys)
    call_command("flush", "--no-input")
    (folders / "media" / "manual.pdf").unlink()
    assert Loan.objects.count() == 0

    restore(archive)

    restored = live_stats()
    expected = manifest_of(archive)["tables"]
    assert restored["ops_restorerun"]["rows"] == restored["kiosk_replay"]["rows"] == 1
    assert without_the_restores_writes(restored) == without_the_restores_writes(expected)
    assert Loan.objects.get(pk=crib["open_loan"].pk).returned_at is None
    assert (folders / "media" / "manual.pdf").read_bytes() == b"%PDF-1.7 calibration manual"
    out = capsys.readouterr().out
    assert f"Restored {archive.name}" in out
    assert "toolcrib-pre-restore-" in out


def test_a_safety_backup_of_the_current_data_is_taken_first(crib, capsys, folders):
    archive = make_backup(capsys)
    ItemFactory(code="AFTER-BACKUP")

    restore(archive)

    assert not Item.objects.filter(code="AFTER-BACKUP").exists()
    (safety,) = (folders / "backups").glob("toolcrib-pre-restore-*.tar.gz")
    assert manifest_of(safety)["tables"]["items_item"]["rows"] == Item.objects.count() + 1
    assert RestoreRun.objects.get().safety_backup == str(safety)


def flip_a_byte(members):
    name = next(n for n in members if n.startswith("database."))
    data = bytearray(members[name])
    data[len(data) // 2] ^= 0xFF
    members[name] = bytes(data)


def truncated(archive, tmp_path):
    dest = tmp_path / "truncated.tar.gz"
    dest.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    return dest


def tampered(archive, tmp_path):
    return rewrite(archive, tmp_path / "tampered.tar.gz", files=flip_a_byte)


def other_vendor(archive, tmp_path):
    def swap(manifest):
        vendor = manifest["database"]["vendor"]
        manifest["database"]["vendor"] = "postgresql" if vendor == "sqlite" else "sqlite"

    return rewrite(archive, tmp_path / "vendor.tar.gz", manifest=swap)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (truncated, "damaged or incomplete"),
        (tampered, "checksum differs"),
        (other_vendor, "moving between database vendors is not a restore"),
    ],
)
def test_a_bad_archive_is_refused_before_anything_is_touched(
    crib, capsys, folders, damage, message
):
    archive = damage(make_backup(capsys), folders)
    before = live_stats()

    with pytest.raises(CommandError, match=message):
        restore(archive)

    assert live_stats() == before
    assert not list((folders / "backups").glob("toolcrib-pre-restore-*"))
    assert (folders / "media" / "manual.pdf").exists()


def test_a_refusal_is_said_in_the_servers_language_japanese_by_default(crib, capsys, folders):
    archive = truncated(make_backup(capsys), folders)

    with translation.override("ja"), pytest.raises(CommandError, match="壊れているか不完全です"):
        restore(archive)


def test_an_archive_from_newer_code_is_refused_before_anything_is_touched(crib, capsys, folders):
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO django_migrations (app, name, applied) "
            "VALUES ('loans', '9999_from_the_future', CURRENT_TIMESTAMP)"
        )
    archive = make_backup(capsys)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM django_migrations WHERE name = '9999_from_the_future'")
    before = live_stats()

    with pytest.raises(CommandError, match=r"newer version .* loans\.9999_from_the_future"):
        restore(archive)

    assert live_stats() == before
    assert not list((folders / "backups").glob("toolcrib-pre-restore-*"))


def test_saying_no_at_the_prompt_changes_nothing(crib, capsys, monkeypatch):
    archive = make_backup(capsys)
    ItemFactory()
    before = live_stats()
    monkeypatch.setattr(builtins, "input", lambda prompt: "no")

    with pytest.raises(CommandError, match="cancelled"):
        call_command("restore", str(archive))

    assert live_stats() == before
    assert "replaces ALL current data" in capsys.readouterr().out


def test_without_a_terminal_to_answer_on_the_restore_is_cancelled(crib, capsys, monkeypatch):
    archive = make_backup(capsys)
    before = live_stats()

    def no_terminal(prompt):
        raise EOFError

    monkeypatch.setattr(builtins, "input", no_terminal)

    with pytest.raises(CommandError, match="cancelled"):
        call_command("restore", str(archive))

    assert live_stats() == before
    assert "--no-input" in capsys.readouterr().err


def test_a_heartbeat_right_after_the_commit_is_reported_and_the_restore_still_recorded(
    crib, capsys, folders, monkeypatch
):
    archive = make_backup(capsys)
    (folders / "media" / "manual.pdf").unlink()
    vendor = type(databases.for_connection(connection))
    restore_data = vendor.restore

    def restore_then_a_heartbeat(self, *args, **kwargs):
        restore_data(self, *args, **kwargs)
        with connection.cursor() as cursor:  # what a running server's heartbeat does
            cursor.execute("UPDATE kiosk_station SET last_seen_at = CURRENT_TIMESTAMP")

    monkeypatch.setattr(vendor, "restore", restore_then_a_heartbeat)

    restore(archive)

    assert RestoreRun.objects.count() == 1
    assert (folders / "media" / "manual.pdf").exists()
    out = capsys.readouterr().out
    assert f"Restored {archive.name}" in out
    assert "differ from the archive: kiosk_station: content differs." in out


def test_a_restore_that_fails_its_row_count_check_leaves_the_previous_data(crib, capsys, folders):
    """The manifest is not covered by its own checksums: claim one more loan than the dump
    holds. SQLite refuses the file before switching; PostgreSQL restores, counts inside the
    transaction and rolls it all back."""
    archive = make_backup(capsys)

    def one_more_loan(manifest):
        manifest["tables"]["loans_loan"]["rows"] += 1

    lying = rewrite(archive, folders / "lying.tar.gz", manifest=one_more_loan)
    ItemFactory(code="ONLY-IN-THE-LIVE-DATA")
    before = live_stats()

    with pytest.raises(
        CommandError, match=r"loans_loan: 2 rows(, expected| restored, the archive says) 3"
    ):
        restore(lying)

    after = live_stats()
    assert after.pop("ops_backuprun")["rows"] == before.pop("ops_backuprun")["rows"] + 1  # safety
    assert after == before
    assert Item.objects.filter(code="ONLY-IN-THE-LIVE-DATA").exists()


def test_sqlite_keeps_the_old_data_when_the_copy_fails_midway(tmp_path, monkeypatch):
    """Runs on any test database: the live database here is a file of its own."""
    live_path, new_path = tmp_path / "live #1.sqlite3", tmp_path / "new?.sqlite3"
    with sqlite3.connect(live_path) as live:
        live.execute("PRAGMA journal_mode=WAL")
        live.execute("CREATE TABLE t (x TEXT)")
        live.executemany("INSERT INTO t VALUES (?)", [("old",)] * 10)
    with sqlite3.connect(new_path) as new:
        new.execute("CREATE TABLE t (x TEXT)")
        new.executemany("INSERT INTO t VALUES (?)", [("new" * 300,)] * 2000)
    database = databases.Sqlite(SimpleNamespace(settings_dict={"NAME": live_path}))
    expected = {"t": {"rows": 2000, "sha256": None}}
    steps = []

    def fail_on_the_third_step(self, status, remaining, total):
        steps.append(remaining)
        if len(steps) == 3:
            raise OSError("disk unplugged")

    monkeypatch.setattr(databases.Sqlite, "pages_per_step", 4)
    monkeypatch.setattr(databases.Sqlite, "_copied", fail_on_the_third_step)
    with pytest.raises(databases.DatabaseError, match="disk unplugged"):
        database.restore(new_path, expected, progress=print)

    assert steps[-1] > 0  # it really stopped halfway
    reader = sqlite3.connect(live_path)
    assert reader.execute("SELECT x, count(*) FROM t GROUP BY x").fetchall() == [("old", 10)]
    assert reader.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    monkeypatch.undo()
    database.restore(new_path, expected, progress=print)
    assert reader.execute("SELECT count(*) FROM t").fetchone() == (2000,)


def test_checksums_change_when_content_changes_but_not_when_row_order_does(tmp_path):
    from inventory.ops.backups.stats import table_stats

    def stats(rows):
        conn = sqlite3.connect(":memory:")
        conn.execute("CREATE TABLE t (a, b)")
        conn.executemany("INSERT INTO t VALUES (?, ?)", rows)
        return table_stats(conn, "sqlite")["t"]

    assert stats([(1, "x"), (2, "y")]) == stats([(2, "y"), (1, "x")])
    assert stats([(1, "x"), (2, "y")])["sha256"] != stats([(1, "x"), (2, "z")])["sha256"]
    assert hashlib.sha256(b"").hexdigest() != stats([])["sha256"]


def test_a_restore_asks_the_kiosks_in_use_for_their_taps_since_the_archive(crib, capsys):
    archive = make_backup(capsys)
    taken = datetime.datetime.fromisoformat(manifest_of(archive)["created_at"])

    restore(archive)

    replay = RestoreRun.objects.get().replay
    assert (replay.archive_taken_at, replay.since) == (taken, taken - replays.MARGIN)
    assert [part.station for part in replay.stations.filter(expected=True)] == [crib["station"]]
    assert "asked, at their next heartbeat, for the taps" in capsys.readouterr().out
