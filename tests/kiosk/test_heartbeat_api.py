import datetime
import json

import pytest
from django.core.serializers.json import DjangoJSONEncoder

from kiosk import actions
from kiosk.models import Station

pytestmark = pytest.mark.django_db
URL = "/api/v1/kiosk/heartbeat"
STATUS = {
    "heartbeat_seconds": 15.0,
    "reader_connected": True,
    "reader_name": "SONY FeliCa RC-S300/S1",
    "outbox_depth": 3,
    "oldest_pending_seconds": 12.5,
    "agent_version": "1.0.0",
    "hostname": "kiosk-line3",
    "uptime_seconds": 3600.0,
    "cpu_temperature": 48.2,
    "replayable_since": datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC),
}


def beat(client, station, body, token=None):
    return client.post(
        URL,
        json.dumps(body, cls=DjangoJSONEncoder),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Station {token or station.token}",
    )


def test_a_heartbeat_updates_what_the_station_shows(client, station):
    response = beat(client, station, STATUS)
    assert (response.status_code, response.json()) == (200, {"replay": None})
    station = Station.objects.get(pk=station.pk)
    assert station.last_seen_at is not None
    assert {key: getattr(station, key) for key in STATUS} == STATUS


def test_unknown_values_may_be_null(client, station):
    body = {**STATUS, "reader_connected": False, "reader_name": None, "cpu_temperature": None}
    assert beat(client, station, body).status_code == 200
    station = Station.objects.get(pk=station.pk)
    assert (station.reader_connected, station.reader_name, station.cpu_temperature) == (
        False,
        "",
        None,
    )


@pytest.mark.parametrize(("field", "value"), [("outbox_depth", -1), ("heartbeat_seconds", 0)])
def test_a_bad_value_is_400_and_changes_nothing(client, station, field, value):
    response = beat(client, station, {**STATUS, field: value})
    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert Station.objects.get(pk=station.pk).last_seen_at is None


def test_a_heartbeat_needs_the_station_token(client, station):
    assert beat(client, station, STATUS, token="nope").status_code == 401


def test_a_token_revoked_after_this_process_looked_it_up_is_401_and_the_status_is_kept(
    client, station
):
    assert beat(client, station, STATUS).status_code == 200  # looked up, and remembered
    actions.revoke_token(station=station)
    response = beat(client, station, {**STATUS, "outbox_depth": 99})
    assert response.status_code == 401
    assert Station.objects.get(pk=station.pk).outbox_depth == STATUS["outbox_depth"]
