from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from inventory.ops.backups.restore import RestoreError, verify_archive
from inventory.ops.management.commands._archive import add_archive_arguments


class Command(BaseCommand):
    help = (
        "Restore drill: restore an archive into a scratch database (never the live one) and "
        "compare every table's row count and content checksum with its manifest. Exit status 0 "
        "only when they are all equal."
    )

    def add_arguments(self, parser):
        add_archive_arguments(parser)

    def handle(self, *args, archive, trust_unsigned, **options):
        try:
            problems = verify_archive(
                path=archive,
                progress=self.stderr.write,
                trust_unsigned=trust_unsigned,
                warn=lambda message: self.stderr.write(self.style.WARNING(message)),
            )
        except RestoreError as error:
            raise CommandError(str(error)) from None
        if problems:
            raise CommandError(
                _("%(archive)s does not restore to what it recorded: %(problems)s")
                % {"archive": archive.name, "problems": "; ".join(problems)}
            )
        self.stdout.write(
            self.style.SUCCESS(
                _("%(archive)s: restores exactly as recorded.") % {"archive": archive.name}
            )
        )
