import datetime

import pytest
from django.core import mail
from django.utils import timezone

from inventory.ops.models import RestoreRun, StationAlert
from inventory.ops.station_watch import watch_stations
from kiosk.models import Station
from tests.inventory.ops.conftest import make_station

MINUTE = datetime.timedelta(minutes=1)


@pytest.fixture
def watch(db, settings, django_capture_on_commit_callbacks):
    settings.REMINDER_MANAGER_EMAILS = ["crib-office@example.com"]
    settings.REMINDER_WEBHOOK_URL = ""
    settings.LANGUAGE_CODE = "en"

    def run(now):
        with django_capture_on_commit_callbacks(execute=True):
            return watch_stations(now=now)

    return run


def test_an_offline_station_is_announced_once_and_its_return_once(watch):
    now = timezone.now()
    station = make_station(last_seen_at=now - 3 * MINUTE, reader_connected=True)

    assert watch(now) == ["Toolcrib: station Crib A is offline"]
    assert watch(now + MINUTE) == []
    assert watch(now + 2 * MINUTE) == []
    station.last_seen_at = now + 3 * MINUTE
    station.save()
    assert watch(now + 3 * MINUTE) == ["Toolcrib: station Crib A is back online"]
    assert watch(now + 4 * MINUTE) == []

    assert [m.subject for m in mail.outbox] == [
        "Toolcrib: station Crib A is offline",
        "Toolcrib: station Crib A is back online",
    ]
    alert = StationAlert.objects.get()
    assert alert.raised_at == now and alert.cleared_at == now + 3 * MINUTE


def test_a_station_seen_or_created_within_two_minutes_is_left_alone(watch):
    now = timezone.now()
    make_station(name="Quiet", last_seen_at=now - 110 * datetime.timedelta(seconds=1))
    make_station(name="Just created")

    assert watch(now) == []
    assert not StationAlert.objects.exists()


def test_a_station_never_heard_from_is_announced_two_minutes_after_its_creation(watch):
    station = make_station(name="Never heard")
    created = station.created_at

    assert watch(created + 110 * datetime.timedelta(seconds=1)) == []
    assert watch(created + 2 * MINUTE) == ["Toolcrib: station Never heard is offline"]
    assert watch(created + 3 * MINUTE) == []
    assert "since it was created" in mail.outbox[0].body
    Station.objects.filter(pk=station.pk).update(last_seen_at=created + 4 * MINUTE)
    assert watch(created + 4 * MINUTE) == ["Toolcrib: station Never heard is back online"]
    assert len(mail.outbox) == 2


def test_a_reader_unplugged_for_two_minutes_is_announced_once_and_its_return_once(watch):
    now = timezone.now()
    station = make_station(last_seen_at=now, reader_connected=False)

    assert watch(now) == []  # seen for the first time: not yet two minutes
    station.last_seen_at = now + MINUTE
    station.save()
    assert watch(now + MINUTE) == []
    station.last_seen_at = now + 2 * MINUTE
    station.save()
    assert watch(now + 2 * MINUTE) == ["Toolcrib: the reader of station Crib A is disconnected"]
    assert watch(now + 2 * MINUTE) == []
    station.reader_connected = True
    station.save()
    assert watch(now + 2 * MINUTE) == ["Toolcrib: the reader of station Crib A is connected again"]
    assert len(mail.outbox) == 2


def test_a_reader_back_within_two_minutes_is_never_announced(watch):
    now = timezone.now()
    station = make_station(last_seen_at=now, reader_connected=False)
    watch(now)
    station.reader_connected = True
    station.save()

    assert watch(now + MINUTE) == []
    assert not StationAlert.objects.exists()
    assert mail.outbox == []


def test_stale_heartbeats_restored_from_an_archive_raise_nothing(watch):
    now = timezone.now()
    make_station(last_seen_at=now - datetime.timedelta(days=1))
    RestoreRun.objects.create(
        restored_at=now, archive="x", archive_created_at=now - datetime.timedelta(days=1)
    )

    assert watch(now + MINUTE) == []
    assert watch(now + 3 * MINUTE) == ["Toolcrib: station Crib A is offline"]  # still silent
