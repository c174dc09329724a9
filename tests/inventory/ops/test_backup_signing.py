"""An archive is trusted because this installation signed it, not because it is well-formed:
a forged one (changed data, checksums recomputed) and one from another installation are refused
and leave the database as it was; a server given the same key restores its predecessor's."""

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from inventory.loans.models import Loan
from tests.inventory.ops.archives import live_stats, make_backup, read_members, rewrite

pytestmark = pytest.mark.usefixtures("english")

ANOTHER_KEY = "another-installation-backup-signing-key-0123456789"


@pytest.fixture(autouse=True)
def folders(settings, tmp_path):
    settings.BACKUP_DIR = tmp_path / "backups"
    settings.MEDIA_ROOT = tmp_path / "media"
    return tmp_path


def restore(path, *args):
    call_command("restore", str(path), "--no-input", *args)


def forged(capsys, folders):
    """What someone who can write to the backup folder but has no key can make: an archive of
    their own data (an extra superuser), every checksum right, under a genuine signature."""
    genuine = make_backup(capsys)
    User.objects.create_superuser("intruder", password="planted-pass-123")
    planted = make_backup(capsys)
    User.objects.filter(username="intruder").delete()
    signature = read_members(genuine)["manifest.sig"]

    def genuine_signature(members):
        members["manifest.sig"] = signature

    return rewrite(planted, folders / "forged.tar.gz", files=genuine_signature, signature="keep")


def test_a_forged_archive_is_refused_and_the_database_is_unchanged(crib, capsys, folders):
    archive = forged(capsys, folders)
    before = live_stats()

    with pytest.raises(CommandError, match="does not match its signature"):
        restore(archive)

    assert live_stats() == before
    assert not User.objects.filter(username="intruder").exists()


def test_the_drill_refuses_a_forged_archive(crib, capsys, folders):
    archive = forged(capsys, folders)

    with pytest.raises(CommandError, match="does not match its signature"):
        call_command("verify_backup", str(archive))


def test_an_archive_from_another_installation_is_refused_and_changes_nothing(
    crib, capsys, settings
):
    settings.BACKUP_SIGNING_KEY = ANOTHER_KEY
    archive = make_backup(capsys)
    settings.BACKUP_SIGNING_KEY = ""
    before = live_stats()

    with pytest.raises(CommandError, match="signed with another key") as refused:
        restore(archive)
    with pytest.raises(CommandError, match="signed with another key"):
        call_command("verify_backup", str(archive))

    assert "BACKUP_SIGNING_KEY" in str(refused.value)
    assert live_stats() == before


def test_a_server_with_another_secret_key_refuses_the_archive(crib, capsys, settings):
    archive = make_backup(capsys)
    settings.SECRET_KEY = "a-new-server-with-its-own-secret-key-0123456789-abcdefghij"

    with pytest.raises(CommandError, match="signed with another key"):
        call_command("verify_backup", str(archive))


def test_a_recovery_server_given_the_same_signing_key_restores_the_archive(crib, capsys, settings):
    settings.BACKUP_SIGNING_KEY = ANOTHER_KEY
    archive = make_backup(capsys)
    # The new server: another SECRET_KEY, the predecessor's BACKUP_SIGNING_KEY.
    settings.SECRET_KEY = "the-recovery-servers-own-secret-key-0123456789-abcdefghij"
    call_command("flush", "--no-input")

    restore(archive)

    assert Loan.objects.filter(pk=crib["open_loan"].pk).exists()
    assert "Restored" in capsys.readouterr().out


def test_trust_unsigned_restores_another_installations_archive_with_a_warning(
    crib, capsys, settings
):
    settings.BACKUP_SIGNING_KEY = ANOTHER_KEY
    archive = make_backup(capsys)
    settings.BACKUP_SIGNING_KEY = ""
    call_command("flush", "--no-input")

    restore(archive, "--trust-unsigned")

    captured = capsys.readouterr()
    assert "WARNING" in captured.err
    assert "signed with another key" in captured.err
    assert f"Restored {archive.name}" in captured.out


def test_an_archive_from_before_signing_needs_trust_unsigned(crib, capsys, folders):
    archive = rewrite(make_backup(capsys), folders / "old.tar.gz", signature="drop")
    before = live_stats()

    with pytest.raises(CommandError, match="is not signed"):
        restore(archive)
    assert live_stats() == before

    call_command("verify_backup", str(archive), "--trust-unsigned")
    captured = capsys.readouterr()
    assert "is not signed" in captured.err
    assert "restores exactly as recorded" in captured.out


def test_a_table_the_project_does_not_have_is_refused_before_any_sql(crib, capsys, folders):
    def plant(manifest):
        manifest["tables"]['x"; DROP TABLE loans_loan; --'] = {"rows": 0, "sha256": "0" * 64}

    # Signed with the right key: the name check does not rely on the signature.
    archive = rewrite(make_backup(capsys), folders / "tables.tar.gz", manifest=plant)
    before = live_stats()

    with pytest.raises(CommandError, match="lists tables this project does not have"):
        restore(archive)
    with pytest.raises(CommandError, match="lists tables this project does not have"):
        call_command("verify_backup", str(archive))

    assert live_stats() == before


def test_without_a_secret_key_in_the_environment_no_archive_is_signed_with_a_throwaway_one(
    crib, monkeypatch, settings
):
    # The settings make up a random SECRET_KEY per process then: nothing could verify it later.
    monkeypatch.delenv("SECRET_KEY")
    settings.BACKUP_SIGNING_KEY = ""

    with pytest.raises(CommandError, match="SECRET_KEY is not set"):
        call_command("backup")
