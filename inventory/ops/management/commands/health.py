import json

from django.core.management.base import BaseCommand, CommandError

from inventory.ops import health


class Command(BaseCommand):
    help = (
        "Run /readyz's checks in this process (all, or those named) and print them as JSON; "
        "exit 1 when one fails. The huey container's health check: `health database huey` "
        "says whether this job runner reaches the database and starts its periodic jobs."
    )

    def add_arguments(self, parser):
        parser.add_argument("checks", nargs="*", metavar="CHECK", help=", ".join(health.CHECKS))

    def handle(self, *args, checks, **options):
        unknown = set(checks) - set(health.CHECKS)
        if unknown:
            raise CommandError(f"no such check: {', '.join(sorted(unknown))}")
        results = health.run_checks(checks or None)
        self.stdout.write(json.dumps(results, ensure_ascii=False))
        failed = [name for name, result in results.items() if not result["ok"]]
        if failed:
            raise CommandError(f"failed: {', '.join(failed)}")
