import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from kiosk import actions, pairing
from kiosk.models import Station


class Command(BaseCommand):
    help = (
        "Create a kiosk station. Prints its id, the agent token (shown only now) and a one-time "
        "pairing URL to open in the kiosk's browser."
    )

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--location", default="")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, name, location, json: bool, **options):
        if Station.objects.filter(name=name).exists():
            raise CommandError(
                f"A station named {name!r} already exists. Choose another name, or rotate its "
                "token and make a new pairing link in the admin."
            )
        station, token, code = actions.create_station(name=name, location=location)
        url = pairing.pair_url(code)
        if json:
            self.stdout.write(_dumps(station, token, url))
            return
        self.stdout.write(f"Station {station.name} (id {station.pk}) created.")
        self.stdout.write(f"Agent token (shown only now): {token}")
        self.stdout.write(f"Pairing URL (one use, {settings.KIOSK_PAIRING_MINUTES} min): {url}")


def _dumps(station, token, url) -> str:
    return json.dumps({"id": station.pk, "name": station.name, "token": token, "pair_url": url})
