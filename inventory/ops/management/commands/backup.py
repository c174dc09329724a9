import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from inventory.ops.backups.backup import BackupError, run_backup
from inventory.ops.models import BackupRun


class Command(BaseCommand):
    help = (
        "Write one archive with the database, the media files and a manifest. The archive's "
        "path is the last line printed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output-dir", type=Path, default=None, help="Default: BACKUP_DIR.")
        parser.add_argument(
            "--keep",
            type=int,
            default=None,
            help="How many archives to keep in the folder (default: BACKUP_KEEP).",
        )

    def handle(self, *args, output_dir, keep, verbosity, **options):
        keep = settings.BACKUP_KEEP if keep is None else keep
        if keep < 1:
            raise CommandError(_("--keep must be at least 1."))
        # Steps go to stderr on a terminal (or with -v 2) so that stdout stays one line: the path.
        show = verbosity >= 2 or (verbosity >= 1 and sys.stderr.isatty())
        try:
            path = run_backup(
                trigger=BackupRun.Trigger.COMMAND,
                output_dir=output_dir,
                keep=keep,
                progress=self.stderr.write if show else lambda message: None,
            )
        except BackupError as error:
            raise CommandError(_("Backup failed: %(error)s") % {"error": error}) from None
        self.stdout.write(str(path))
