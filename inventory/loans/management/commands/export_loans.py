import argparse
import datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from inventory.core.csv_text import cannot_write
from inventory.loans.export import export_loans, loans_to_export
from inventory.loans.models import Loan


def _date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        # argparse turns this into a usage error; a CommandError here would be a traceback.
        raise argparse.ArgumentTypeError(
            _("“%(value)s” is not a date like 2026-04-01.") % {"value": text}
        ) from None


class Command(BaseCommand):
    help = (
        "Write loan history as CSV for Excel (UTF-8 with BOM, local times). Every matching loan "
        "is written, streamed in constant memory."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", type=Path, required=True, help="CSV file to write.")
        parser.add_argument("--from", dest="date_from", type=_date, help="Borrowed on or after.")
        parser.add_argument("--to", dest="date_to", type=_date, help="Borrowed on or before.")
        parser.add_argument("--employee", default="", help="Employee code.")
        parser.add_argument("--item", default="", help="Tool code.")
        parser.add_argument("--station", type=int, help="Station id.")
        parser.add_argument("--state", choices=Loan.State.values, default="")

    def handle(self, *args, output, **filters):
        filters = {key: filters[key] for key in _FILTERS}
        lines = 0
        try:
            with Path(output).open("wb") as out:
                for line in export_loans(loans_to_export(**filters)):
                    out.write(line)
                    lines += 1
        except OSError as error:
            raise CommandError(cannot_write(output, error)) from None
        # The first line is the header.
        self.stdout.write(
            _("Wrote %(count)d loans to %(path)s") % {"count": lines - 1, "path": output}
        )


_FILTERS = ["date_from", "date_to", "employee", "item", "station", "state"]
