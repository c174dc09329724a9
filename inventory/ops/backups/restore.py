"""Restoring an archive, and the restore drill that proves an archive can be restored."""

import datetime
import shutil
import tempfile
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone
from django.utils.translation import gettext as _

from inventory.ops.backups import archive, databases, keys, private
from inventory.ops.backups import stats as dbstats
from inventory.ops.backups.backup import PRE_RESTORE_PREFIX, BackupError, run_backup
from inventory.ops.models import BackupRun, RestoreRun
from kiosk import replays
from kiosk.models import HeldTap, Replay, ReplayStation


class RestoreError(Exception):
    """A refused or failed restore; the message says why and what to do."""


class RestoreCancelled(Exception):
    pass


@dataclass
class RestoreSummary:
    archive: Path
    created_at: str
    tables: int
    rows: int
    media_files: int
    safety_backup: Path | None
    # The archive was older than the code: these were applied after restoring it.
    migrations_applied: list[str] = field(default_factory=list)
    # Tables that differ from the manifest right after the commit (see restore_archive).
    differences: list[str] = field(default_factory=list)


def _quiet(message: str) -> None:
    pass


def restore_archive(
    *,
    path: Path,
    confirm: Callable[[dict], bool] = lambda manifest: True,
    progress: Callable[[str], None] = _quiet,
    restored_by: str = "",
    trust_unsigned: bool = False,
    warn: Callable[[str], None] | None = None,
) -> RestoreSummary:
    """Verify, confirm, take a safety backup, restore all or nothing, record, compare.

    Everything that can refuse the archive runs before the first write, so a refused archive
    leaves the database exactly as it was. An archive this installation did not sign is refused
    unless `trust_unsigned` (then `warn`, by default `progress`, says so).
    """
    path = Path(path)
    database = databases.for_connection(connection)
    with _workdir(".restore-") as work:
        progress(_("Verifying %(archive)s…") % {"archive": path.name})
        manifest, files = _open_checked(
            path, work, database, trust_unsigned=trust_unsigned, warn=warn or progress
        )
        if not confirm(manifest):
            raise RestoreCancelled
        safety = _safety_backup(progress)
        kept = private.current_rows()
        try:
            database.restore(files[manifest["database"]["file"]], manifest["tables"], progress)
        except databases.DatabaseError as error:
            raise RestoreError(
                _("%(error)s. The previous data is still in place.") % {"error": error}
            ) from None
        # The data is committed: from here on the restore has happened and is recorded, whatever
        # the comparison below finds (refusing now would only skip the media and the record).
        media = {name: p for name, p in files.items() if name.startswith("media/")}
        _replace_media(media)
        pending = _pending_migrations()
        if pending:
            # An archive from older code lacks tables this code writes, the restore's own
            # record among them: bring it up to this code, as the server needs anyway.
            progress(
                _("The archive is older than this code: applying %(count)d migrations…")
                % {"count": len(pending)}
            )
            call_command("migrate", interactive=False, verbosity=0)
        private.put_back(kept)
        record_restore(
            archive=str(path),
            taken_at=datetime.datetime.fromisoformat(manifest["created_at"]),
            safety_backup=str(safety or ""),
            restored_by=restored_by,
        )
        # Migrated tables no longer match the manifest; the restore counted their rows before
        # its commit all the same.
        differences = [] if pending else _differences(manifest, database, progress)
    return RestoreSummary(
        archive=path,
        created_at=manifest["created_at"],
        tables=len(manifest["tables"]),
        rows=sum(t["rows"] for t in manifest["tables"].values()),
        media_files=len(media),
        safety_backup=safety,
        migrations_applied=pending,
        differences=differences,
    )


def _differences(manifest: dict, database, progress) -> list[str]:
    progress(_("Comparing the restored tables with the manifest…"))
    # The server may be running: a heartbeat or a tap after the commit differs rightly. The
    # restore's own record and the replay it opened were written just now: their tables are
    # left out.
    skip = {model._meta.db_table for model in (RestoreRun, Replay, ReplayStation, HeldTap)}
    skip |= set(private.tables())  # the current sessions and tokens were put back
    return dbstats.differences(
        {table: stats for table, stats in manifest["tables"].items() if table not in skip},
        {table: stats for table, stats in database.live_stats().items() if table not in skip},
    )


def record_restore(
    *,
    archive: str,
    taken_at: datetime.datetime,
    safety_backup: str = "",
    restored_by: str = "",
) -> RestoreRun:
    """Record that the data now is what it was at `taken_at`, and ask the kiosks for the taps
    they delivered since (kiosk.replays)."""
    return RestoreRun.objects.create(
        restored_at=timezone.now(),
        archive=archive,
        archive_created_at=taken_at,
        safety_backup=safety_backup,
        restored_by=restored_by,
        replay=replays.open_after_restore(archive_taken_at=taken_at),
    )


def verify_archive(
    *,
    path: Path,
    progress: Callable[[str], None] = _quiet,
    trust_unsigned: bool = False,
    warn: Callable[[str], None] | None = None,
) -> list[str]:
    """Restore into a scratch database and compare every table with the manifest. Returns the
    differences (empty when the archive restores exactly); raises RestoreError when it cannot
    even be read, or when this installation did not sign it (unless `trust_unsigned`)."""
    path = Path(path)
    database = databases.for_connection(connection)
    with _workdir(".verify-") as work:
        progress(_("Verifying the checksums of %(archive)s…") % {"archive": path.name})
        manifest, files = _open_checked(
            path,
            work,
            database,
            check_schema=False,
            trust_unsigned=trust_unsigned,
            warn=warn or progress,
        )
        try:
            restored = database.drill(files[manifest["database"]["file"]], work, progress=progress)
        except databases.DatabaseError as error:
            return [str(error)]
        return dbstats.differences(manifest["tables"], restored)


@contextmanager
def _workdir(prefix: str):
    """A scratch folder where backups go: the operator made room there, and it is never the
    live data's folder."""
    root = Path(settings.BACKUP_DIR)
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root, prefix=prefix) as work:
        yield Path(work)


def _open_checked(
    path: Path, work: Path, database, *, trust_unsigned: bool, warn, check_schema=True
):
    try:
        manifest, files = archive.extract(path, work, trust_unsigned=trust_unsigned, warn=warn)
    except (archive.ArchiveError, keys.MissingKey) as error:
        raise RestoreError(str(error)) from None
    _refuse_foreign_tables(path, manifest["tables"])
    vendor = manifest["database"].get("vendor")
    if vendor != database.vendor:
        raise RestoreError(
            _(
                "%(archive)s holds a %(vendor)s database but this server runs on %(here)s. "
                "Restore it on a server configured like the one it came from (DATABASE_URL); "
                "moving between database vendors is not a restore."
            )
            % {"archive": path.name, "vendor": vendor, "here": database.vendor}
        )
    if manifest["database"].get("file") not in files:
        raise RestoreError(_("%(archive)s has no database file.") % {"archive": path.name})
    if check_schema:
        newer = _unknown_migrations(manifest["migrations"])
        if newer:
            raise RestoreError(
                _(
                    "%(archive)s was written by a newer version of Toolcrib (migrations this "
                    "code does not have: %(migrations)s). Upgrade this installation to that "
                    "version first, then restore."
                )
                % {
                    "archive": path.name,
                    "migrations": ", ".join(newer[:5]) + ("…" if len(newer) > 5 else ""),
                }
            )
    return manifest, files


def project_tables() -> set[str]:
    """The tables this project can have: its models' (with the many-to-many ones), Django's
    migration record, and whatever the live database holds now (tables of older releases)."""
    own = {model._meta.db_table for model in apps.get_models(include_auto_created=True)}
    return own | {"django_migrations"} | set(connection.introspection.table_names())


def _refuse_foreign_tables(path: Path, tables) -> None:
    """The manifest's table names end up in SQL (the restore's row checks): only names this
    project knows get that far, whatever a hand-made manifest says."""
    if not isinstance(tables, dict) or not all(
        isinstance(stats, dict) and isinstance(stats.get("rows"), int) for stats in tables.values()
    ):
        raise RestoreError(
            _("%(archive)s: its manifest's table list is malformed.") % {"archive": path.name}
        )
    foreign = sorted(set(tables) - project_tables())
    if foreign:
        raise RestoreError(
            _(
                "%(archive)s lists tables this project does not have (%(tables)s): refusing it. "
                "Nothing was restored."
            )
            % {"archive": path.name, "tables": ", ".join(repr(t[:64]) for t in foreign[:5])}
        )


def _unknown_migrations(applied: list) -> list[str]:
    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    return [f"{app}.{name}" for app, name in applied if (app, name) not in known]


def _pending_migrations() -> list[str]:
    loader = MigrationLoader(connection, ignore_no_migrations=True)
    applied = loader.applied_migrations
    return sorted(f"{a}.{n}" for (a, n) in loader.disk_migrations if (a, n) not in applied)


def _safety_backup(progress) -> Path | None:
    if not connection.introspection.table_names():
        progress(_("The current database is empty: no safety backup needed."))
        return None
    progress(_("Taking a safety backup of the current database…"))
    try:
        return run_backup(trigger=BackupRun.Trigger.PRE_RESTORE, prefix=PRE_RESTORE_PREFIX)
    except BackupError as error:
        raise RestoreError(
            _("The safety backup failed, so nothing was restored: %(error)s") % {"error": error}
        ) from None


def _replace_media(media: dict[str, Path]) -> None:
    """Swap the media folder for the archive's by two renames; the old one is kept in the safety
    backup."""
    root = Path(settings.MEDIA_ROOT)
    if not media and not root.exists():
        return
    staged = root.with_name(f".{root.name}-restoring")
    shutil.rmtree(staged, ignore_errors=True)
    staged.mkdir(parents=True)
    for name, source in media.items():
        target = staged / name.removeprefix("media/")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(source, target)
    previous = root.with_name(f".{root.name}-previous")
    shutil.rmtree(previous, ignore_errors=True)
    if root.exists():
        root.rename(previous)
    staged.rename(root)
    shutil.rmtree(previous, ignore_errors=True)
