import hashlib
import json
import re

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from inventory.ops.backups.restore import RestoreError, verify_archive
from tests.inventory.ops.archives import backup_from_newer_code, live_stats, make_backup, rewrite

# These tests read the messages' words: in English (the default language is Japanese).
pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture(autouse=True)
def folders(settings, tmp_path):
    settings.BACKUP_DIR = tmp_path / "backups"
    settings.MEDIA_ROOT = tmp_path / "media"
    return tmp_path


def databases_on_the_server():
    """This database's drill copies (`<name>_verify_…`): other test runs sharing the server
    make and drop databases of their own meanwhile."""
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            return set()
        cursor.execute(
            "SELECT datname FROM pg_database WHERE starts_with(datname, %s)",
            [connection.settings_dict["NAME"] + "_verify_"],
        )
        return {name for (name,) in cursor.fetchall()}


def test_a_good_archive_passes_the_drill_without_touching_the_live_data(crib, capsys):
    archive = make_backup(capsys)
    before, databases_before = live_stats(), databases_on_the_server()

    call_command("verify_backup", str(archive))

    assert "restores exactly as recorded" in capsys.readouterr().out
    assert live_stats() == before
    assert databases_on_the_server() == databases_before  # the scratch database is gone


def test_a_tampered_file_fails_the_drill(crib, capsys, folders):
    archive = make_backup(capsys)

    def flip(members):
        name = next(n for n in members if n.startswith("database."))
        data = bytearray(members[name])
        data[-100] ^= 0x01
        members[name] = bytes(data)

    with pytest.raises(CommandError, match="checksum differs"):
        call_command("verify_backup", str(rewrite(archive, folders / "t.tar.gz", files=flip)))


def test_content_that_differs_from_the_manifest_fails_the_drill(crib, capsys, folders):
    """File checksums intact, but the restored rows are not what the manifest recorded."""
    archive = make_backup(capsys)

    def claim_other_content(manifest):
        manifest["tables"]["loans_loanevent"]["sha256"] = "0" * 64

    changed = rewrite(archive, folders / "c.tar.gz", manifest=claim_other_content)
    databases_before = databases_on_the_server()

    with pytest.raises(CommandError, match="loans_loanevent: content differs"):
        call_command("verify_backup", str(changed))
    assert databases_on_the_server() == databases_before


def test_a_user_who_may_not_create_databases_is_told_what_the_drill_needs(
    postgres, crib, capsys, monkeypatch
):
    archive = make_backup(capsys)
    with connection.cursor() as cursor:
        cursor.execute("DROP ROLE IF EXISTS toolcrib_no_createdb")
        cursor.execute("CREATE ROLE toolcrib_no_createdb LOGIN NOCREATEDB")
    monkeypatch.setitem(connection.settings_dict, "USER", "toolcrib_no_createdb")
    try:
        with pytest.raises(CommandError, match="allowed to create databases"):
            call_command("verify_backup", str(archive))
    finally:
        monkeypatch.undo()
        with connection.cursor() as cursor:
            cursor.execute("DROP ROLE toolcrib_no_createdb")


def scratch_line(folders) -> str:
    """Where the drill restores to: a file in a hidden folder beside the backups (SQLite), or a
    database of its own named after the live one (PostgreSQL)."""
    if connection.vendor == "sqlite":
        where = re.escape(str(folders / "backups")) + r"/\.verify-[^/]+/drill\.sqlite3"
    else:
        where = re.escape(connection.settings_dict["NAME"]) + "_verify_[0-9a-f]{8}"
    return rf"Restoring into a scratch database \({where}\)…"


def test_the_drill_tells_the_operator_each_step_and_where_it_restores(crib, capsys, folders):
    archive = make_backup(capsys)

    call_command("verify_backup", str(archive))

    verifying, restoring = capsys.readouterr().err.splitlines()
    assert verifying == f"Verifying the checksums of {archive.name}…"
    assert re.fullmatch(scratch_line(folders), restoring)
    assert [p.name for p in (folders / "backups").iterdir()] == [archive.name]  # scratch gone


def test_verify_archive_refuses_an_unsigned_archive_unless_told_to_trust_it(crib, capsys, folders):
    unsigned = rewrite(make_backup(capsys), folders / "old.tar.gz", signature="drop")

    with pytest.raises(RestoreError, match=r"^old\.tar\.gz is not signed"):
        verify_archive(path=unsigned)

    progress, warnings = [], []
    problems = verify_archive(
        path=unsigned, trust_unsigned=True, progress=progress.append, warn=warnings.append
    )

    assert problems == []
    assert warnings == [
        "WARNING: old.tar.gz is not signed (it was written before backups were signed, or the "
        "signature was removed). Trusting it anyway because of --trust-unsigned."
    ]
    assert progress[0] == "Verifying the checksums of old.tar.gz…"
    assert re.fullmatch(scratch_line(folders), progress[1])
    assert len(progress) == 2


def test_the_drill_also_proves_an_archive_from_newer_code(crib, capsys):
    """Checking an archive needs no code of its version: only a restore does."""
    archive = backup_from_newer_code(capsys, 1)

    call_command("verify_backup", str(archive))

    assert capsys.readouterr().out == f"{archive.name}: restores exactly as recorded.\n"


def not_a_database(members):
    """A signed archive whose database file is not one (written by a broken disk or tool):
    its checksum recomputed, so only reading it can tell."""
    manifest = json.loads(members["manifest.json"])
    name = manifest["database"]["file"]
    members[name] = b"not a database at all " * 200
    manifest["files"][name] = hashlib.sha256(members[name]).hexdigest()
    members["manifest.json"] = json.dumps(manifest).encode()


# What each database says when the file is not a database it can read.
UNREADABLE = {
    "sqlite": "The restored database is corrupt: file is not a database",
    "postgresql": (
        "pg_restore failed: pg_restore: error: input file does not appear to be a valid archive"
    ),
}


def test_an_archive_whose_database_cannot_be_read_fails_the_drill_saying_why(crib, capsys, folders):
    archive = rewrite(make_backup(capsys), folders / "bad.tar.gz", files=not_a_database)

    with pytest.raises(CommandError) as failed:
        call_command("verify_backup", str(archive))

    assert str(failed.value) == (
        f"bad.tar.gz does not restore to what it recorded: {UNREADABLE[connection.vendor]}"
    )
