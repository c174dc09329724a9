from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from inventory.masterdata.importing import Source, apply_import, plan_import
from inventory.masterdata.progress import ProgressBar

KINDS = {"employee": _lazy("Employees"), "item": _lazy("Tools"), "category": _lazy("Categories")}


class Command(BaseCommand):
    help = (
        "Import employees, tools and/or categories from CSV (UTF-8 or Shift_JIS, our export's "
        "columns, the old system's or Japanese headers). Upserts by code (categories by name); "
        "any problem means nothing is written."
    )

    def add_arguments(self, parser):
        parser.add_argument("--employees", type=Path, help="Employees CSV file.")
        parser.add_argument("--items", type=Path, help="Tools CSV file.")
        parser.add_argument(
            "--categories",
            type=Path,
            help="Categories CSV file (loan limit, required qualification, check before use).",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Check and show what would change; write nothing.",
        )
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Deactivate employees / retire tools missing from the given file (never deletes).",
        )

    def handle(self, *args, employees, items, categories, dry_run, replace, **options):
        if not employees and not items and not categories:
            raise CommandError(_("Give --employees FILE, --items FILE, --categories FILE or more."))
        sources = {
            "employees": _read(employees),
            "items": _read(items),
            "categories": _read(categories),
        }
        if dry_run:
            plan = plan_import(
                **sources, replace=replace, progress=ProgressBar(self.stderr, _("Checking"))
            )
        else:
            plan = apply_import(
                **sources, replace=replace, progress=ProgressBar(self.stderr, _("Writing"))
            )
        for column in plan.ignored_columns:
            self.stderr.write(_("Ignored column: %(column)s") % {"column": column})
        if not plan.ok:
            for problem in plan.problems:
                self.stderr.write(str(problem))
            raise CommandError(
                _("%(count)d problem(s) found; nothing was written. Fix the files and run again.")
                % {"count": len(plan.problems)}
            )
        for kind, counts in plan.counts().items():
            self.stdout.write(
                _(
                    "%(kind)s: %(create)d created, %(update)d updated, %(unchanged)d unchanged, "
                    "%(deactivate)d deactivated"
                )
                % {"kind": KINDS[kind], **counts}
            )
        if dry_run:
            self.stdout.write(_("Dry run: nothing was written."))


def _read(path: Path | None) -> Source | None:
    if path is None:
        return None
    try:
        return Source(path.name, path.read_bytes())
    except OSError as exc:
        raise CommandError(
            _("Cannot read %(path)s: %(error)s") % {"path": path, "error": exc}
        ) from None
