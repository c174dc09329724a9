from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from inventory.core.csv_text import cannot_write
from inventory.masterdata.exporting import export_categories, export_employees, export_items


class Command(BaseCommand):
    help = (
        "Write employees, tools and/or categories as CSV that `import_master` reads back unchanged."
    )

    def add_arguments(self, parser):
        parser.add_argument("--employees", type=Path, help="Write employees to this file.")
        parser.add_argument("--items", type=Path, help="Write tools to this file.")
        parser.add_argument("--categories", type=Path, help="Write categories to this file.")

    def handle(self, *args, employees, items, categories, **options):
        if not employees and not items and not categories:
            raise CommandError(_("Give --employees FILE, --items FILE, --categories FILE or more."))
        exports = (
            (employees, export_employees),
            (items, export_items),
            (categories, export_categories),
        )
        for path, export in exports:
            if path is not None:
                try:
                    with path.open("wb") as out:
                        out.writelines(export())
                except OSError as error:
                    raise CommandError(cannot_write(path, error)) from None
                self.stdout.write(_("Wrote %(path)s") % {"path": path})
