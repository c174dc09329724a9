from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from inventory.ops.backups.restore import RestoreCancelled, RestoreError, restore_archive
from inventory.ops.management.commands._archive import add_archive_arguments


class Command(BaseCommand):
    help = (
        "Restore an archive written by `backup`: verified first, a safety backup of the current "
        "data taken, then restored all or nothing and checked against the manifest."
    )

    def add_arguments(self, parser):
        add_archive_arguments(parser)
        parser.add_argument(
            "--no-input", action="store_false", dest="interactive", help="Do not ask to confirm."
        )

    def handle(self, *args, archive, interactive, trust_unsigned, **options):
        try:
            summary = restore_archive(
                path=archive,
                confirm=self._ask if interactive else (lambda manifest: True),
                progress=self.stderr.write,
                restored_by="manage.py restore",
                trust_unsigned=trust_unsigned,
                warn=self._warn,
            )
        except RestoreCancelled:
            raise CommandError(_("Restore cancelled; nothing was changed.")) from None
        except RestoreError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "Restored %(archive)s (taken %(taken)s): %(tables)d tables, %(rows)d rows, "
                    "%(media)d media files."
                )
                % {
                    "archive": summary.archive.name,
                    "taken": summary.created_at,
                    "tables": summary.tables,
                    "rows": summary.rows,
                    "media": summary.media_files,
                }
            )
        )
        if summary.safety_backup:
            self.stdout.write(
                _("The data from before the restore is in %(path)s")
                % {"path": summary.safety_backup}
            )
        if summary.differences:
            back = (
                _("Or restore %(safety)s to go back.") % {"safety": summary.safety_backup.name}
                if summary.safety_backup
                else ""
            )
            self.stdout.write(
                self.style.WARNING(
                    _(
                        "Right after the restore these tables differ from the archive: "
                        "%(differences)s. Expected while the server runs (heartbeats update "
                        "kiosk_station, taps add scans and loans); if it was stopped, restore "
                        "the archive again."
                    )
                    % {"differences": "; ".join(summary.differences)}
                    + (" " + back if back else "")
                )
            )
        if summary.migrations_applied:
            self.stdout.write(
                _("The archive was older than this code: %(count)d migrations were applied.")
                % {"count": len(summary.migrations_applied)}
            )
        self.stdout.write(
            _(
                "The kiosks are asked, at their next heartbeat, for the taps they delivered "
                "since the archive was taken; the admin's restore report shows what came back."
            )
        )

    def _warn(self, message: str) -> None:
        self.stderr.write(self.style.WARNING(message))

    def _ask(self, manifest) -> bool:
        tables = manifest["tables"]
        rows = sum(t["rows"] for t in tables.values())
        self.stdout.write(
            _(
                "This replaces ALL current data with the archive taken %(taken)s (%(tables)d "
                "tables, %(rows)d rows). A safety backup is taken first."
            )
            % {"taken": manifest["created_at"], "tables": len(tables), "rows": rows}
        )
        try:
            return input(_("Type 'yes' to continue: ")).strip().lower() == "yes"
        except EOFError:  # no terminal to answer on: say no; --no-input is the way to script it
            self.stderr.write(_("No answer (no terminal?): use --no-input to restore unattended."))
            return False
