from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from inventory.mfa import devices, sessions


class Command(BaseCommand):
    help = (
        "Remove a person's second factor (phone and backup codes) and end their sessions and "
        "API tokens: for the last superuser who lost the phone, when nobody is left to reset it "
        "in the admin. They set up a new one at their next login."
    )

    def add_arguments(self, parser):
        parser.add_argument("usernames", nargs="+", metavar="USERNAME")

    def handle(self, *args, usernames, **options):
        User = get_user_model()
        people = list(User.objects.filter(username__in=usernames))
        unknown = sorted(set(usernames) - {person.username for person in people})
        if unknown:
            raise CommandError(f"No such user: {', '.join(unknown)}. Nothing was reset.")
        for person in people:
            removed = devices.reset(user=person)
            ended = sessions.end_other_sessions(person)
            sessions.revoke_api_tokens(person)
            self.stdout.write(
                f"{person.username}: {removed} device(s) removed, {ended} session(s) ended; "
                "they set up a new second factor at their next login."
            )
