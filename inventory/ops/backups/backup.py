"""Backups: one archive per run, old ones pruned, every run recorded for the admin and /metrics."""

import datetime
import logging
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError as DjangoDatabaseError
from django.db import connection
from django.utils import timezone, translation
from django.utils.translation import gettext as _

import inventory
from inventory.ops.backups import archive, databases, keys, private
from inventory.ops.jobs import notify
from inventory.ops.jobs.runs import installed_at
from inventory.ops.models import BackupRun

logger = logging.getLogger(__name__)

PREFIX = "toolcrib-backup-"
PRE_RESTORE_PREFIX = "toolcrib-pre-restore-"


class BackupError(Exception):
    """A backup that failed; the message says why and what to do."""


def _quiet(message: str) -> None:
    pass


def run_backup(
    *,
    trigger: BackupRun.Trigger,
    output_dir: Path | None = None,
    keep: int | None = None,
    prefix: str = PREFIX,
    progress: Callable[[str], None] = _quiet,
) -> Path:
    """Make a backup, record the outcome (success or failure) and return the archive's path.
    Raises BackupError after recording a failure, so a command exits non-zero and a huey job
    is marked failed. An archive written is a success even if its record could not be saved."""
    started = timezone.now()
    try:
        path = create_backup(
            output_dir=output_dir or settings.BACKUP_DIR,
            keep=keep,
            prefix=prefix,
            progress=progress,
        )
    except (
        BackupError,
        archive.ArchiveError,
        databases.DatabaseError,
        keys.MissingKey,
        OSError,
    ) as error:
        message = str(error) or type(error).__name__
        failed = _record(trigger, started, succeeded=False, error=message)
        logger.error("Backup failed: %s", message)
        _alert_first_failure(failed, message)
        raise BackupError(message) from error
    _record(trigger, started, succeeded=True, path=str(path), size=path.stat().st_size)
    logger.info("Backup written: %s (%d bytes)", path, path.stat().st_size)
    return path


def nightly_missed(now: datetime.datetime | None = None) -> bool:
    """The last BACKUP_TIME passed with no backup since (the server was off or asleep then),
    on an installation that was already there at that time."""
    now = timezone.localtime(now)
    hour, minute = settings.BACKUP_TIME
    due = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if due > now:
        due -= datetime.timedelta(days=1)
    installed = installed_at()
    if installed is None or installed > due:
        return False
    return not BackupRun.objects.filter(started_at__gte=due).exists()


def create_backup(
    *, output_dir: Path, keep: int | None, prefix: str = PREFIX, progress=_quiet
) -> Path:
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    database = databases.for_connection(connection)
    created = timezone.now()
    # UTC to the microsecond in the name, so archives sort by time whatever the zone.
    name = f"{prefix}{created:%Y%m%d-%H%M%S-%f}{archive.SUFFIX}"
    dest = output_dir / name
    # The work folder sits next to the archives: same file system for the final rename, and a
    # dot name that pruning never touches.
    with tempfile.TemporaryDirectory(dir=output_dir, prefix=".work-") as work:
        dump = Path(work) / database.filename
        progress(_("Dumping the %(vendor)s database…") % {"vendor": database.vendor})
        tables, migrations = database.dump(dump, progress, without=private.tables())
        files = {database.filename: dump, **_media_files()}
        manifest = {
            "app": "toolcrib",
            "app_version": app_version(),
            "created_at": created.isoformat(),
            "database": {
                "vendor": database.vendor,
                "server_version": database.server_version(),
                "file": database.filename,
            },
            "migrations": migrations,
            "tables": tables,
            # Their structure only: sessions and tokens are credentials, not records.
            "without_rows": private.tables(),
            "media_files": len(files) - 1,
        }
        progress(
            _("Writing %(path)s (%(count)d media files)…") % {"path": dest, "count": len(files) - 1}
        )
        archive.write(dest, manifest=manifest, files=files)
    if keep:
        try:
            removed = prune(output_dir, keep=keep, prefix=prefix)
        except OSError as error:
            # The new archive is written: an old one that cannot go is not a failed backup.
            logger.warning("Could not remove old archives: %s", error)
            removed = []
        for old in removed:
            progress(_("Removed old archive %(name)s") % {"name": old.name})
    return dest


def prune(output_dir: Path, *, keep: int, prefix: str = PREFIX) -> list[Path]:
    """Delete the oldest archives so exactly `keep` remain. Safety backups taken before a
    restore have their own prefix and are never pruned here."""
    archives = sorted(Path(output_dir).glob(f"{prefix}*{archive.SUFFIX}"))
    doomed = archives[:-keep] if len(archives) > keep else []
    for path in doomed:
        path.unlink(missing_ok=True)  # a backup running at the same time may have pruned it
    return doomed


def app_version() -> str:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return f"{inventory.__version__}+{commit}" if commit else inventory.__version__


def _media_files() -> dict[str, Path]:
    root = Path(settings.MEDIA_ROOT)
    if not root.is_dir():
        return {}
    return {
        f"media/{path.relative_to(root).as_posix()}": path
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def _alert_first_failure(failed: BackupRun | None, message: str) -> None:
    """Tell the managers when backups start failing: once, not at every retry or every night
    until one succeeds again (the admin lists each failure; /readyz and the alert rule say
    when the last good archive grows old)."""
    try:
        if failed is not None:
            before = BackupRun.objects.exclude(pk=failed.pk).order_by("-finished_at").first()
            if before is not None and not before.succeeded:
                return
        _tell_managers(message)
    except DjangoDatabaseError:
        # The database being down is why; the log has the failure, /readyz names the database.
        logger.exception("Could not tell the managers that the backup failed")


def _tell_managers(message: str) -> None:
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Toolcrib: the backup failed")
        body = _(
            "The backup could not be written: %(error)s. Nothing was left half-written. Free "
            "space where backups go (%(folder)s) or fix the cause, then run `manage.py backup`. "
            "You are told again only after a backup has succeeded in between."
        ) % {"error": message, "folder": settings.BACKUP_DIR}
    notify.tell_managers(subject=subject, body=body)


def _record(trigger, started, *, succeeded, path="", size=None, error="") -> BackupRun | None:
    try:
        return BackupRun.objects.create(
            trigger=trigger,
            started_at=started,
            finished_at=timezone.now(),
            succeeded=succeeded,
            path=path,
            size_bytes=size,
            error=error,
        )
    except DjangoDatabaseError:
        # The database being down is often why the backup failed; the log still has it.
        logger.exception("Could not record the backup outcome")
        return None
