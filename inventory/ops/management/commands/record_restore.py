from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from inventory.ops.backups.restore import record_restore


class Command(BaseCommand):
    help = (
        "After the database was restored by other means (a point-in-time restore with "
        "pgBackRest): record it, so that the kiosks send again the taps they delivered since "
        "that moment and reminders keep quiet about loans that were open then."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--to",
            required=True,
            help="The moment the data was restored to, e.g. '2026-11-24 16:59:00+09:00' "
            "(the server's time zone when no offset is given).",
        )
        parser.add_argument(
            "--source",
            default="point-in-time restore",
            help="What was restored, for the admin's list of restores.",
        )

    def handle(self, *args, to, source, **options):
        moment = parse_datetime(to.strip())
        if moment is None:
            raise CommandError(
                _("--to %(value)r is not a date and time, e.g. 2026-11-24 16:59:00+09:00.")
                % {"value": to}
            )
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        if moment > timezone.now():
            raise CommandError(_("--to is in the future: give the moment restored to."))
        run = record_restore(
            archive=source, taken_at=moment, restored_by="manage.py record_restore"
        )
        self.stdout.write(
            _(
                "Recorded. The kiosks are asked, at their next heartbeat, for the taps they "
                "delivered since %(since)s; the admin's restore report shows what came back."
            )
            % {"since": timezone.localtime(run.replay.since).isoformat(timespec="seconds")}
        )
