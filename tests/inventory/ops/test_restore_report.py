"""The admin's restore report: what the kiosks sent back, who never answered, every tap sent
again that was refused and why, and what a replay can never bring back."""

import datetime
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from inventory.loans import services
from inventory.loans.models import Door
from inventory.ops.backups.restore import record_restore
from kiosk import actions, replays
from kiosk.models import Station
from kiosk.scans import Scan
from tests.factories import BadgeFactory, ToolTagFactory

pytestmark = pytest.mark.django_db


def kiosk(name):
    station = actions.create_station(name=name)[0]
    Station.objects.filter(pk=station.pk).update(
        last_seen_at=timezone.now() - datetime.timedelta(hours=4)
    )
    return Station.objects.get(pk=station.pk)


def scan(uid, at):
    return Scan(id=uuid.uuid4(), raw_id="", uid=uid, read_at=at)


@pytest.fixture
def restored():
    """Kiosk A answered with two taps that came back and one that was refused, but held its
    taps only since after the archive; kiosk B never answered."""
    a, b = kiosk("Kiosk A"), kiosk("Kiosk B")
    alice, bob, drill, gauge = BadgeFactory(), BadgeFactory(), ToolTagFactory(), ToolTagFactory()
    taken = timezone.now() - datetime.timedelta(hours=3)
    run = record_restore(archive="toolcrib-backup-x.tar.gz", taken_at=taken)
    services.borrow(item=gauge.item, employee=bob.employee, door=Door.API)  # at the desk, since
    kept_since = taken + datetime.timedelta(minutes=30)
    replay, _ready = replays.heartbeat(station=a, done=None, kept_since=kept_since)
    at = taken + datetime.timedelta(hours=1)
    replays.record(
        station=a,
        scans=[
            scan(alice.uid, at),
            scan(drill.uid, at + datetime.timedelta(seconds=3)),
            scan(gauge.uid, at + datetime.timedelta(seconds=6)),
        ],
        sent_at=timezone.now(),
        received_at=timezone.now(),
        replay_id=replay.pk,
    )
    replays.heartbeat(station=a, done=replay.pk, kept_since=kept_since)
    replays.apply_ready(now=timezone.now() + datetime.timedelta(hours=1))
    return {"run": run, "a": a, "b": b, "bob": bob}


def test_the_report_counts_what_came_back_per_kiosk_and_lists_every_refusal_with_why(
    admin_client, english, restored
):
    page = admin_client.get(reverse("admin:ops_restorerun_report", args=[restored["run"].pk]))

    html = page.content.decode()
    assert page.status_code == 200
    row_a = html.split('data-station="Kiosk A"')[1].split("</tr>")[0]
    assert '<td class="recovered">2</td>' in row_a
    assert '<td class="refused">1</td>' in row_a
    refused = html.split('id="refused"')[1]
    assert restored["bob"].employee.name in refused  # the reason names who holds it now
    assert "These kiosks never answered: Kiosk B" in html
    assert "Kiosk Kiosk A held its taps only since" in html
    assert "through the admin or the API" in html


def test_the_report_says_while_the_taps_are_still_gathered_and_until_when(admin_client, english):
    station = kiosk("Kiosk A")
    run = record_restore(archive="x.tar.gz", taken_at=timezone.now())
    url = reverse("admin:ops_restorerun_report", args=[run.pk])

    assert "no kiosk has been heard from since the restore" in admin_client.get(url).text

    replays.heartbeat(station=station, done=None)

    assert "at the latest at" in admin_client.get(url).text


def test_the_list_of_restores_links_to_each_report(admin_client, english, restored):
    page = admin_client.get(reverse("admin:ops_restorerun_changelist"))

    assert (
        reverse("admin:ops_restorerun_report", args=[restored["run"].pk]) in page.content.decode()
    )


def test_managers_read_the_report_and_viewers_cannot(client, manager, viewer, restored):
    url = reverse("admin:ops_restorerun_report", args=[restored["run"].pk])
    answers = {}
    for user in (manager, viewer):
        user.is_staff = True
        user.save()
        client.force_login(user)
        answers[user.username] = client.get(url).status_code

    assert answers == {"manager": 200, "viewer": 403}
