import pytest
from django.utils import timezone

from kiosk.models import Station

pytestmark = pytest.mark.django_db


def test_lists_station_health_without_secrets(api, viewer):
    Station.objects.create(
        name="入口",
        token_hash="secret-hash",
        last_seen_at=timezone.now(),
        outbox_depth=3,
        reader_connected=True,
        pairing_code_hash="pairing-secret",
    )

    response = api.as_user(viewer).get("/api/v1/stations/")

    assert response.status_code == 200
    (station,) = response.json()["results"]
    assert (station["name"], station["outbox_depth"], station["reader_connected"]) == (
        "入口",
        3,
        True,
    )
    assert "secret" not in response.content.decode()
    assert not {"token_hash", "pairing_code_hash", "session_employee"} & set(station)


def test_stations_are_read_only(api, manager):
    station = Station.objects.create(name="A", token_hash="x")
    api.as_user(manager)
    # Refused by permission (nobody is granted to change stations here) or by method.
    assert api.post("/api/v1/stations/", {"name": "B"}).status_code in (403, 405)
    assert api.patch(f"/api/v1/stations/{station.pk}/", {"name": "B"}).status_code in (403, 405)
    assert api.delete(f"/api/v1/stations/{station.pk}/").status_code in (403, 405)
    assert list(Station.objects.values_list("name", flat=True)) == ["A"]


def test_stations_need_a_login(api):
    assert api.get("/api/v1/stations/").status_code == 401
