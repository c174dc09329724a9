from django.core.management.base import BaseCommand

from inventory.ops import demo


class Command(BaseCommand):
    help = "Load the demo employees and tools (idempotent: safe to run on every start)."

    def handle(self, *args, **options):
        counts = demo.seed()
        self.stdout.write(
            f"Demo data: {counts['employees']} employees and {counts['items']} tools "
            f"(badges {demo.badge_uid(1)}…, tool tags {demo.tool_uid(1)}…)."
        )
