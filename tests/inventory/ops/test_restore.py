import builtins
import datetime
import hashlib
import io
import sqlite3
from contextlib import closing
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.utils import translation

from inventory.items.models import Item
from inventory.loans.models import Loan
from inventory.ops.backups import databases
from inventory.ops.backups.restore import RestoreError, record_restore, restore_archive
from inventory.ops.models import RestoreRun
from kiosk import replays
from tests.factories import ItemFactory
from tests.inventory.ops.archives import (
    backup_from_newer_code,
    live_stats,
    make_backup,
    manifest_of,
    read_members,
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


def progress_of_restore(path) -> list[str]:
    """The progress lines the command writes to its own stderr (not the log's)."""
    err = io.StringIO()
    call_command("restore", str(path), "--no-input", stderr=err)
    return err.getvalue().splitlines()


def refused(archive) -> str:
    with pytest.raises(CommandError) as refusal:
        restore(archive)
    return str(refusal.value)


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
    out = capsys.readouterr().out.splitlines()
    rows = sum(table["rows"] for table in expected.values())
    assert out[0] == (
        f"Restored {archive.name} (taken {manifest_of(archive)['created_at']}): "
        f"{len(expected)} tables, {rows} rows, 1 media files."
    )
    assert out[1].startswith("The data from before the restore is in ")
    assert "toolcrib-pre-restore-" in out[1]


def test_a_safety_backup_of_the_current_data_is_taken_first(crib, capsys, folders):
    archive = make_backup(capsys)
    ItemFactory(code="AFTER-BACKUP")

    restore(archive)

    assert not Item.objects.filter(code="AFTER-BACKUP").exists()
    (safety,) = (folders / "backups").glob("toolcrib-pre-restore-*.tar.gz")
    assert manifest_of(safety)["tables"]["items_item"]["rows"] == Item.objects.count() + 1
    run = RestoreRun.objects.get()
    assert (run.archive, run.safety_backup, run.restored_by) == (
        str(archive),
        str(safety),
        "manage.py restore",
    )


# What each database does between the safety backup and the comparison (databases.py).
SWITCHING = {
    "sqlite": [
        "Checking the restored database before switching to it…",
        "Switching the live database to the restored copy…",
    ],
    "postgresql": ["Converting the dump to SQL…", "Restoring in one transaction…"],
}


def test_a_restore_tells_the_operator_each_step_as_it_goes(crib, capsys):
    archive = make_backup(capsys)

    assert progress_of_restore(archive) == [
        f"Verifying {archive.name}…",
        "Taking a safety backup of the current database…",
        *SWITCHING[connection.vendor],
        "Comparing the restored tables with the manifest…",
    ]


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


def test_an_archive_from_newer_code_is_refused_naming_five_of_its_migrations(crib, capsys, folders):
    archive = backup_from_newer_code(capsys, 6)
    before = live_stats()

    assert refused(archive) == (
        f"{archive.name} was written by a newer version of Toolcrib (migrations this code does "
        "not have: loans.991_from_the_future, loans.992_from_the_future, "
        "loans.993_from_the_future, loans.994_from_the_future, loans.995_from_the_future…). "
        "Upgrade this installation to that version first, then restore."
    )
    assert live_stats() == before
    assert not list((folders / "backups").glob("toolcrib-pre-restore-*"))


def test_an_archive_from_five_migrations_ahead_names_them_all_without_an_ellipsis(crib, capsys):
    archive = backup_from_newer_code(capsys, 5)

    assert (
        "(migrations this code does not have: loans.991_from_the_future, "
        "loans.992_from_the_future, loans.993_from_the_future, loans.994_from_the_future, "
        "loans.995_from_the_future). "
    ) in refused(archive)


def test_an_archive_from_another_database_vendor_is_refused_saying_what_to_do(
    crib, capsys, folders
):
    archive = other_vendor(make_backup(capsys), folders)
    here = connection.vendor
    there = "postgresql" if here == "sqlite" else "sqlite"

    assert refused(archive) == (
        f"vendor.tar.gz holds a {there} database but this server runs on {here}. Restore it on "
        "a server configured like the one it came from (DATABASE_URL); moving between database "
        "vendors is not a restore."
    )


def test_an_archive_whose_manifest_names_a_database_file_it_lacks_is_refused(crib, capsys, folders):
    def elsewhere(manifest):
        manifest["database"]["file"] = "database.elsewhere"

    archive = rewrite(make_backup(capsys), folders / "nodb.tar.gz", manifest=elsewhere)
    before = live_stats()

    assert refused(archive) == "nodb.tar.gz has no database file."
    assert live_stats() == before


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
    """The manifest is not covered by its own checksums: claim one more loan and one more tool
    than the dump holds. SQLite refuses the file before switching; PostgreSQL restores, counts
    inside the transaction and rolls it all back."""
    archive = make_backup(capsys)
    items = manifest_of(archive)["tables"]["items_item"]["rows"]

    def one_more_loan_and_tool(manifest):
        manifest["tables"]["loans_loan"]["rows"] += 1
        manifest["tables"]["items_item"]["rows"] += 1

    lying = rewrite(archive, folders / "lying.tar.gz", manifest=one_more_loan_and_tool)
    ItemFactory(code="ONLY-IN-THE-LIVE-DATA")
    before = live_stats()

    message = refused(lying)

    if connection.vendor == "sqlite":
        assert message == (
            f"The archived database does not match its manifest: items_item: {items} rows, "
            f"expected {items + 1}; loans_loan: 2 rows, expected 3. The previous data is still "
            "in place."
        )
    else:  # the first count that differs stops the transaction
        assert f"table items_item: {items} rows restored, the archive says {items + 1}" in message
        assert message.endswith(". The previous data is still in place.")
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
    with pytest.raises(databases.DatabaseError, match=r"^The restore stopped: disk unplugged$"):
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


def test_a_restore_refused_for_foreign_tables_names_at_most_five_and_restores_nothing(
    crib, capsys, folders
):
    def plant(manifest):
        for name in ["zz_a" + "x" * 70, *(f"zz_foreign_{n}" for n in range(1, 6))]:
            manifest["tables"][name] = {"rows": 0, "sha256": "0" * 64}

    archive = rewrite(make_backup(capsys), folders / "foreign.tar.gz", manifest=plant)
    before = live_stats()

    assert refused(archive) == (
        "foreign.tar.gz lists tables this project does not have ('zz_a" + "x" * 60 + "', "
        "'zz_foreign_1', 'zz_foreign_2', 'zz_foreign_3', 'zz_foreign_4'): refusing it. "
        "Nothing was restored."
    )
    assert live_stats() == before
    assert not list((folders / "backups").glob("toolcrib-pre-restore-*"))


def a_list(manifest):
    manifest["tables"] = sorted(manifest["tables"])


def a_number_for_a_table(manifest):
    manifest["tables"]["loans_loan"] = 2


def rows_in_words(manifest):
    manifest["tables"]["loans_loan"]["rows"] = "2"


@pytest.mark.parametrize("malformed", [a_list, a_number_for_a_table, rows_in_words])
def test_a_manifest_whose_table_list_is_malformed_is_refused_before_anything_is_touched(
    crib, capsys, folders, malformed
):
    archive = rewrite(make_backup(capsys), folders / "odd.tar.gz", manifest=malformed)
    before = live_stats()

    assert refused(archive) == "odd.tar.gz: its manifest's table list is malformed."
    assert live_stats() == before
    assert not list((folders / "backups").glob("toolcrib-pre-restore-*"))


def files_under(root) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


MANUAL = {"manual.pdf": b"%PDF-1.7 calibration manual"}


def test_a_new_server_gets_the_media_folder_its_subfolders_and_their_files(
    crib, capsys, folders, settings
):
    photo = folders / "media" / "items" / "2026" / "photo.jpg"
    photo.parent.mkdir(parents=True)
    photo.write_bytes(b"a photo")
    archive = make_backup(capsys)
    # The new server's data folder is not there yet either.
    settings.MEDIA_ROOT = folders / "new-server" / "data" / "media"

    restore(archive)

    assert files_under(settings.MEDIA_ROOT) == {**MANUAL, "items/2026/photo.jpg": b"a photo"}
    assert [p.name for p in settings.MEDIA_ROOT.parent.iterdir()] == ["media"]
    assert "2 media files" in capsys.readouterr().out


def test_what_an_interrupted_restore_left_beside_the_media_folder_is_cleared(crib, capsys, folders):
    archive = make_backup(capsys)
    staged, previous = folders / ".media-restoring", folders / ".media-previous"
    for leftover in staged, previous:
        leftover.mkdir()
        (leftover / "half-moved.jpg").write_bytes(b"from the interrupted restore")

    restore(archive)

    assert files_under(folders / "media") == MANUAL
    assert not staged.exists()
    assert not previous.exists()


def test_an_archive_without_media_files_leaves_the_media_folder_empty(crib, capsys, folders):
    (folders / "media" / "manual.pdf").unlink()
    archive = make_backup(capsys)
    (folders / "media" / "uploaded-after-the-backup.jpg").write_bytes(b"a newer photo")

    restore(archive)

    assert files_under(folders / "media") == {}
    assert (folders / "media").is_dir()
    assert not (folders / ".media-previous").exists()


def drop_every_table():
    """What a new server's database is before its first `migrate`."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
            return
        cursor.execute("PRAGMA foreign_keys = OFF")
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'DROP TABLE "{table}"')
        cursor.execute("PRAGMA foreign_keys = ON")


@pytest.fixture
def tables_back():
    """Should the restore fail, the next tests still find the tables."""
    yield
    if "django_migrations" not in connection.introspection.table_names():
        call_command("migrate", verbosity=0)


def test_a_new_servers_empty_database_is_restored_without_a_safety_backup(
    crib, capsys, folders, tables_back
):
    archive = make_backup(capsys)
    drop_every_table()

    progress = progress_of_restore(archive)

    restored = live_stats()
    expected = manifest_of(archive)["tables"]
    assert without_the_restores_writes(restored) == without_the_restores_writes(expected)
    assert RestoreRun.objects.get().safety_backup == ""
    assert not list((folders / "backups").glob("toolcrib-pre-restore-*"))
    assert progress == [
        f"Verifying {archive.name}…",
        "The current database is empty: no safety backup needed.",
        *SWITCHING[connection.vendor],
        "Comparing the restored tables with the manifest…",
    ]
    assert "The data from before the restore is in" not in capsys.readouterr().out


def test_a_safety_backup_that_runs_out_of_disk_stops_the_restore_before_it_starts(
    crib, capsys, folders, settings, small_disk
):
    archive = make_backup(capsys)
    database = len(read_members(archive)[manifest_of(archive)["database"]["file"]])
    # Room to unpack the archive, not for a second copy of the database beside it.
    settings.BACKUP_DIR = small_disk(database * 3 // 2 + 16 * 1024)
    ItemFactory(code="ONLY-IN-THE-LIVE-DATA")
    before = live_stats()

    message = refused(archive)

    assert message.startswith("The safety backup failed, so nothing was restored: ")
    assert "disk is full" in message or "No space left on device" in message
    after = live_stats()
    assert after.pop("ops_backuprun")["rows"] == before.pop("ops_backuprun")["rows"] + 1  # failed
    assert after == before
    assert list(settings.BACKUP_DIR.iterdir()) == []
    assert files_under(folders / "media") == MANUAL


def unapplied_migrations() -> int:
    loader = MigrationLoader(connection)
    return len(set(loader.disk_migrations) - set(loader.applied_migrations))


def test_an_archive_from_older_code_is_restored_then_brought_up_to_this_code(crib, capsys):
    call_command("migrate", "kiosk", "0005", verbosity=0)  # the release before tap replays
    older = unapplied_migrations()
    archive = make_backup(capsys)
    call_command("migrate", verbosity=0)

    restore(archive)

    assert unapplied_migrations() == 0
    assert RestoreRun.objects.get().replay.state == "gathering"
    captured = capsys.readouterr()
    # No comparison: the migrated tables rightly differ from the manifest.
    assert captured.err.splitlines() == [
        f"Verifying {archive.name}…",
        "Taking a safety backup of the current database…",
        *SWITCHING[connection.vendor],
        f"The archive is older than this code: applying {older} migrations…",
    ]
    # migrate itself says nothing: the operator reads the restore's own lines.
    assert captured.out.splitlines()[2:] == [
        f"The archive was older than this code: {older} migrations were applied.",
        "The kiosks are asked, at their next heartbeat, for the taps they delivered since the "
        "archive was taken; the admin's restore report shows what came back.",
    ]


def test_the_archive_is_unpacked_in_a_hidden_folder_beside_the_backups_and_removed_after(
    crib, capsys, settings
):
    archive = make_backup(capsys)
    backups = Path(settings.BACKUP_DIR)
    seen = []

    def look(manifest):
        seen.extend(p.name for p in backups.iterdir() if p.is_dir())
        return True

    restore_archive(path=archive, confirm=look)

    assert len(seen) == 1
    assert seen[0].startswith(".restore-")
    assert not (backups / seen[0]).exists()


def test_restore_archive_refuses_an_unsigned_archive_unless_told_to_trust_it(crib, capsys, folders):
    unsigned = rewrite(make_backup(capsys), folders / "old.tar.gz", signature="drop")
    before = live_stats()

    with pytest.raises(RestoreError, match=r"^old\.tar\.gz is not signed"):
        restore_archive(path=unsigned)
    assert live_stats() == before

    progress, warnings = [], []
    restore_archive(
        path=unsigned, trust_unsigned=True, progress=progress.append, warn=warnings.append
    )

    assert warnings == [
        "WARNING: old.tar.gz is not signed (it was written before backups were signed, or the "
        "signature was removed). Trusting it anyway because of --trust-unsigned."
    ]
    assert progress[0] == "Verifying old.tar.gz…"
    assert not [line for line in progress if "WARNING" in line]
    assert RestoreRun.objects.get().restored_by == ""  # no operator named


def test_sqlite_refuses_a_corrupt_database_file_naming_what_its_check_found(tmp_path):
    """Runs on any test database: the live database here is a file of its own. The archived
    file opens and reads, but an index no longer matches its table (as a bad sector leaves it):
    only SQLite's integrity check tells."""
    live_path, corrupt_path = tmp_path / "live.sqlite3", tmp_path / "corrupt.sqlite3"
    with closing(sqlite3.connect(live_path)) as live:
        live.execute("CREATE TABLE t (x TEXT)")
        live.execute("INSERT INTO t VALUES ('old')")
        live.commit()
    with closing(sqlite3.connect(corrupt_path)) as corrupt:
        corrupt.executescript(
            "CREATE TABLE t (x TEXT); CREATE INDEX t_x ON t (x);"
            "INSERT INTO t VALUES ('a'), ('b'), ('c');"
            "PRAGMA writable_schema = ON;"
            "UPDATE sqlite_master SET sql = 'CREATE INDEX t_x ON t (x DESC)' WHERE name = 't_x';"
        )
    database = databases.Sqlite(SimpleNamespace(settings_dict={"NAME": live_path}))

    with pytest.raises(databases.DatabaseError) as drilled:
        database.drill(corrupt_path, tmp_path, progress=print)
    with pytest.raises(databases.DatabaseError) as restored:
        database.restore(corrupt_path, {"t": {"rows": 3, "sha256": None}}, progress=print)

    found = "row 1 missing from index t_x"
    assert str(drilled.value) == f"The restored database is corrupt: {found}"
    assert str(restored.value) == f"The archived database is corrupt: {found}"
    with closing(sqlite3.connect(live_path)) as live:
        assert live.execute("SELECT x FROM t").fetchall() == [("old",)]


def test_a_restore_recorded_by_hand_names_no_safety_backup_and_no_operator_unless_given(db):
    """The admin lists each restore's safety backup: after a point-in-time restore made with
    other tools (manage.py record_restore) there is none to show."""
    taken = datetime.datetime(2026, 11, 24, 7, 59, tzinfo=datetime.UTC)

    run = record_restore(archive="point-in-time restore", taken_at=taken)

    assert (run.archive, run.archive_created_at) == ("point-in-time restore", taken)
    assert (run.safety_backup, run.restored_by) == ("", "")
