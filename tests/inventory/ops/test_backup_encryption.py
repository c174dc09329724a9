"""BACKUP_ENCRYPTION_KEY encrypts the whole archive: it round-trips with the key, and without it
or with another one the refusal says which setting to fix."""

import io

import pytest
from django.core.management import CommandError, call_command

from inventory.loans.models import Loan
from inventory.ops.backups import sealed
from tests.inventory.ops.archives import live_stats, make_backup

pytestmark = pytest.mark.usefixtures("english")

KEY = "the-encryption-key-kept-apart-from-the-backups-0123456789"


@pytest.fixture(autouse=True)
def folders(settings, tmp_path):
    settings.BACKUP_DIR = tmp_path / "backups"
    settings.MEDIA_ROOT = tmp_path / "media"
    return tmp_path


def test_an_encrypted_archive_reveals_nothing_and_round_trips(crib, capsys, settings):
    settings.BACKUP_ENCRYPTION_KEY = KEY
    archive = make_backup(capsys)
    data = archive.read_bytes()
    assert data.startswith(sealed.MAGIC)
    assert b"manifest.json" not in data and b"toolcrib" not in data[len(sealed.MAGIC) :]

    call_command("verify_backup", str(archive))
    assert "restores exactly as recorded" in capsys.readouterr().out
    call_command("flush", "--no-input")
    call_command("restore", str(archive), "--no-input")

    assert Loan.objects.get(pk=crib["open_loan"].pk).returned_at is None


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("a-wrong-key-that-is-long-enough-0123456789-abcdef", "encrypted with another key"),
        ("", "BACKUP_ENCRYPTION_KEY is not set"),
    ],
)
def test_a_wrong_or_missing_key_is_refused_clearly_and_changes_nothing(
    crib, capsys, settings, key, message
):
    settings.BACKUP_ENCRYPTION_KEY = KEY
    archive = make_backup(capsys)
    settings.BACKUP_ENCRYPTION_KEY = key
    before = live_stats()

    with pytest.raises(CommandError, match=message):
        call_command("restore", str(archive), "--no-input")
    with pytest.raises(CommandError, match=message):
        call_command("verify_backup", str(archive))

    assert live_stats() == before


def test_a_cut_or_changed_encrypted_archive_is_refused(crib, capsys, settings, folders):
    settings.BACKUP_ENCRYPTION_KEY = KEY
    archive = make_backup(capsys)
    data = archive.read_bytes()
    cut = folders / "cut.tar.gz"
    cut.write_bytes(data[:-40])
    changed = folders / "changed.tar.gz"
    changed.write_bytes(data[:100] + bytes([data[100] ^ 1]) + data[101:])

    with pytest.raises(CommandError, match="encrypted but incomplete"):
        call_command("verify_backup", str(cut))
    with pytest.raises(CommandError, match="changed after it was encrypted"):
        call_command("verify_backup", str(changed))


def test_large_content_streams_through_many_chunks_and_the_last_one_is_checked(monkeypatch):
    monkeypatch.setattr(sealed, "_CHUNK", 1000)
    plain = bytes(range(256)) * 40  # ten chunks and a bit
    out = io.BytesIO()
    writer = sealed.Writer(out, b"k" * 32)
    for start in range(0, len(plain), 333):
        writer.write(plain[start : start + 333])
    writer.finish()
    sealed_bytes = out.getvalue()

    reader = sealed.Reader(io.BytesIO(sealed_bytes), b"k" * 32)
    assert reader.read() == plain
    last_frame = 5 + (len(plain) % 1000) + 16  # flag and length, ciphertext, tag
    with pytest.raises(sealed.Truncated):  # the last frame cut off: never taken for the end
        sealed.Reader(io.BytesIO(sealed_bytes[:-last_frame]), b"k" * 32).read()
    with pytest.raises(sealed.WrongKey):
        sealed.Reader(io.BytesIO(sealed_bytes), b"x" * 32).read()
