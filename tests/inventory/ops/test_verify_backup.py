import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from tests.inventory.ops.archives import live_stats, make_backup, rewrite

# These tests read the messages' words: in English (the default language is Japanese).
pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture(autouse=True)
def folders(settings, tmp_path):
    settings.BACKUP_DIR = tmp_path / "backups"
    settings.MEDIA_ROOT = tmp_path / "media"
    return tmp_path


def databases_on_the_server():
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            return set()
        cursor.execute("SELECT datname FROM pg_database")
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
