from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from inventory.ops.restore import RestoreCancelled, RestoreError, restore_archive


class Command(BaseCommand):
    help = (
        "Restore an archive written by `backup`: verified first, a safety backup of the current "
        "data taken, then restored all or nothing and checked against the manifest."
    )

    def add_arguments(self, parser):
        parser.add_argument("archive", type=Path)
        parser.add_argument(
            "--no-input", action="store_false", dest="interactive", help="Do not ask to confirm."
        )

    def handle(self, *args, archive, interactive, **options):
        try:
            summary = restore_archive(
                path=archive,
                confirm=self._ask if interactive else (lambda manifest: True),
                progress=self.stderr.write,
                restored_by="manage.py restore",
            )
        except RestoreCancelled:
            raise CommandError("Restore cancelled; nothing was changed.") from None
        except RestoreError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Restored {summary.archive.name} (taken {summary.created_at}): "
                f"{summary.tables} tables, {summary.rows} rows, {summary.media_files} media files."
            )
        )
        if summary.safety_backup:
            self.stdout.write(f"The data from before the restore is in {summary.safety_backup}")
        if summary.differences:
            back = (
                f", or restore {summary.safety_backup.name} to go back"
                if summary.safety_backup
                else ""
            )
            self.stdout.write(
                self.style.WARNING(
                    "Right after the restore these tables differ from the archive: "
                    f"{'; '.join(summary.differences)}. Expected while the server runs "
                    "(heartbeats update kiosk_station, taps add scans and loans); if it was "
                    f"stopped, restore the archive again{back}."
                )
            )
        if summary.pending_migrations:
            self.stdout.write(
                self.style.WARNING(
                    f"The archive is older than this code ({len(summary.pending_migrations)} "
                    "migrations to apply): run `manage.py migrate` now, then start the server."
                )
            )

    def _ask(self, manifest) -> bool:
        tables = manifest["tables"]
        rows = sum(t["rows"] for t in tables.values())
        self.stdout.write(
            f"This replaces ALL current data with the archive taken {manifest['created_at']} "
            f"({len(tables)} tables, {rows} rows). A safety backup is taken first."
        )
        try:
            return input("Type 'yes' to continue: ").strip().lower() == "yes"
        except EOFError:  # no terminal to answer on: say no; --no-input is the way to script it
            self.stderr.write("No answer (no terminal?): use --no-input to restore unattended.")
            return False
