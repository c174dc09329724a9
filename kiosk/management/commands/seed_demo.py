from django.core.management.base import BaseCommand

from kiosk import demo, pairing


class Command(BaseCommand):
    help = (
        "Load the demo employees, tools and kiosk station (idempotent: safe to run on every "
        "start) and print a one-time link that pairs a browser with the demo kiosk."
    )

    def add_arguments(self, parser):
        parser.add_argument("--site", default="", help="base URL for the pairing link")

    def handle(self, *args, site, **options):
        counts = demo.seed()
        self.stdout.write(
            f"Demo data: {counts['employees']} employees and {counts['items']} tools "
            f"(badges {demo.badge_uid(1)}…, tool tags {demo.tool_uid(1)}…)."
        )
        code = pairing.start_pairing(counts["station"])
        self.stdout.write(
            f"Demo kiosk: open {site.rstrip('/')}{pairing.pair_url(code)} in a browser "
            "and press Pair (one use; every start prints a new link)."
        )
