"""Helpers that take an archive apart and put it back together, changed."""

import io
import json
import tarfile
from pathlib import Path

from django.core.management import call_command
from django.db import connection

from inventory.ops.backups import archive, databases, keys

# Tables a restore writes after restoring the data: its record, and the replay it opens.
WRITTEN_BY_THE_RESTORE = ("ops_restorerun", "kiosk_replay", "kiosk_replaystation")


def live_stats() -> dict:
    return databases.for_connection(connection).live_stats()


def make_backup(capsys, *args) -> Path:
    call_command("backup", *args)
    return Path(capsys.readouterr().out.strip().splitlines()[-1])


def backup_from_newer_code(capsys, count: int) -> Path:
    """An archive whose database had `count` loans migrations this code does not have
    (loans.991_from_the_future, …), taken while the live database pretended to have them."""
    names = [f"99{n}_from_the_future" for n in range(1, count + 1)]
    with connection.cursor() as cursor:
        for name in names:
            cursor.execute(
                "INSERT INTO django_migrations (app, name, applied) "
                "VALUES ('loans', %s, CURRENT_TIMESTAMP)",
                [name],
            )
    archive = make_backup(capsys)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM django_migrations WHERE name LIKE '99%_from_the_future'")
    return archive


def read_members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as tar:
        return {member.name: tar.extractfile(member).read() for member in tar}


def rewrite(path: Path, dest: Path, *, manifest=None, files=None, signature="resign") -> Path:
    """A copy of the archive after `manifest(dict)` and/or `files(dict name->bytes)` changed it.

    signature: "resign" signs the new manifest with this installation's key (a test of what
    the restore checks after the signature), "keep" leaves the original signature (a forger
    without the key), "drop" removes it (an archive from before backups were signed)."""
    members = read_members(path)
    content = json.loads(members["manifest.json"])
    if manifest:
        manifest(content)
    members["manifest.json"] = json.dumps(content).encode()
    if files:
        files(members)
    if signature == "resign":
        members["manifest.sig"] = archive.signature_for(
            members["manifest.json"], keys.signing_key()
        )
    elif signature == "drop":
        del members["manifest.sig"]
    with tarfile.open(dest, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return dest


def manifest_of(path: Path) -> dict:
    return json.loads(read_members(path)["manifest.json"])


def without_the_restores_writes(stats: dict) -> dict:
    return {table: value for table, value in stats.items() if table not in WRITTEN_BY_THE_RESTORE}
