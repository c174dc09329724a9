"""`manage.py record_restore`: after a point-in-time restore made with pgBackRest, the kiosks are
asked for their taps since that moment, as after `manage.py restore`."""

import datetime

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from inventory.ops.models import RestoreRun
from kiosk import replays

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def test_a_point_in_time_restore_asks_the_kiosks_for_their_taps_since_that_moment(capsys):
    call_command("record_restore", "--to", "2026-11-24 16:59:00")  # the server's time zone

    run = RestoreRun.objects.get()
    moment = datetime.datetime(2026, 11, 24, 7, 59, tzinfo=datetime.UTC)  # 16:59 in Tokyo
    assert (run.archive, run.archive_created_at) == ("point-in-time restore", moment)
    assert (run.safety_backup, run.restored_by) == ("", "manage.py record_restore")
    assert run.replay.since == moment - replays.MARGIN
    assert "2026-11-24T16:54:00+09:00" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("value", "message"), [("yesterday", "not a date and time"), ("2999-01-01 00:00", "future")]
)
def test_a_moment_that_is_no_time_or_still_to_come_is_refused(value, message):
    with pytest.raises(CommandError, match=message):
        call_command("record_restore", "--to", value)

    assert not RestoreRun.objects.exists()


def test_an_offset_given_is_kept():
    call_command("record_restore", "--to", "2026-11-24T07:59:00+00:00")

    assert RestoreRun.objects.get().archive_created_at == timezone.make_aware(
        datetime.datetime(2026, 11, 24, 16, 59)
    )
