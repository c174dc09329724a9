import datetime

import pytest
from django.contrib.auth.models import Permission, User
from django.utils import timezone

from kiosk import actions, pairing
from kiosk.models import Station

pytestmark = pytest.mark.django_db


def test_an_unpaired_browser_is_told_how_to_pair_and_sees_no_data(client, station):
    response = client.get("/kiosk/")
    assert response.status_code == 403
    page = response.content.decode()
    assert "create_station" in page
    assert station.name not in page


def test_the_pairing_link_binds_the_browser_once(client, station):
    response = client.post(pairing.pair_url(station.code))
    assert response.status_code == 302
    cookie = response.cookies[pairing.COOKIE]
    assert cookie["httponly"]
    assert int(cookie["max-age"]) > 365 * 24 * 3600

    page = client.get("/kiosk/")
    assert page.status_code == 200
    assert station.name in page.content.decode()

    other_browser = client.__class__()
    assert other_browser.post(pairing.pair_url(station.code)).status_code == 404
    assert other_browser.get(pairing.pair_url(station.code)).status_code == 404


def test_opening_the_link_only_asks_and_the_pages_button_pairs(client, station, english):
    # A chat's link preview opens the link first: the kiosk's own visit must still pair.
    preview = client.get(pairing.pair_url(station.code))
    assert preview.status_code == 200
    assert pairing.COOKIE not in preview.cookies
    page = preview.content.decode()
    assert f"Pair this screen with kiosk {station.name}" in page
    assert '<form id="pair" method="post">' in page and "<script" not in page

    assert client.post(pairing.pair_url(station.code)).status_code == 302
    assert client.get("/kiosk/").status_code == 200


def test_a_forged_or_outdated_cookie_is_not_paired(client, station):
    client.cookies[pairing.COOKIE] = "forged"
    assert client.get("/kiosk/").status_code == 403
    client.post(pairing.pair_url(station.code))
    assert client.get("/kiosk/").status_code == 200
    pairing.unpair_all(station)
    assert client.get("/kiosk/").status_code == 403


def test_a_code_pairs_its_own_station_and_a_made_up_one_pairs_none(client, station):
    other, _token, other_code = actions.create_station(name="Line 4")

    assert client.post(pairing.pair_url("made-up-code")).status_code == 404
    assert pairing.station_for("made-up-code") is None
    assert pairing.redeem(other_code) == other
    assert pairing.redeem(station.code) == station


def test_a_browser_paired_with_the_second_station_gets_the_second_station(client, station):
    other, _token, other_code = actions.create_station(name="Line 4")

    client.post(pairing.pair_url(other_code))

    cookie = client.cookies[pairing.COOKIE].value
    assert pairing.station_from_cookie(cookie) == other
    page = client.get("/kiosk/").content.decode()
    assert "Line 4" in page and station.name not in page


def test_the_pairing_link_is_absolute_when_the_site_url_is_set(settings):
    settings.SITE_URL = "https://crib.example"

    assert pairing.pair_url("abc") == "https://crib.example/kiosk/pair/abc/"


def test_a_browser_unpaired_once_stays_unpaired_after_later_unpairings(client, station):
    client.post(pairing.pair_url(station.code))
    pairing.unpair_all(station)
    station.refresh_from_db()
    second = client.__class__()
    second.post(pairing.pair_url(pairing.start_pairing(station)))
    assert second.get("/kiosk/").status_code == 200

    pairing.unpair_all(station)

    assert second.get("/kiosk/").status_code == 403
    assert client.get("/kiosk/").status_code == 403  # its generation never comes back


def watcher(**fields):
    """Staff who may see stations (as Managers and Viewers)."""
    user = User.objects.create_user("boss", is_staff=True, **fields)
    user.user_permissions.add(Permission.objects.get(codename="view_station"))
    return user


def test_staff_who_may_see_stations_may_watch_one_read_only(client, station):
    client.force_login(watcher())
    page = client.get(f"/kiosk/?station={station.pk}")
    assert page.status_code == 200
    html = page.content.decode()
    assert f'ws-connect="/ws/kiosk/?lang=ja&amp;station={station.pk}"' in html
    assert 'data-monitor="1"' in html  # its stylesheet shows no buttons
    assert client.post("/kiosk/end/", {"employee": 1}).status_code == 403


def test_non_staff_users_may_not_watch(client, station):
    client.force_login(User.objects.create_user("worker"))
    assert client.get(f"/kiosk/?station={station.pk}").status_code == 403


def test_staff_who_may_not_see_stations_may_not_watch(client, station):
    client.force_login(User.objects.create_user("clerk", is_staff=True))
    assert client.get(f"/kiosk/?station={station.pk}").status_code == 403
    assert client.get(f"/kiosk/state/?station={station.pk}").status_code == 403


def test_a_pairing_code_works_for_kiosk_pairing_minutes(client, station, settings):
    settings.KIOSK_PAIRING_MINUTES = 15
    code = pairing.start_pairing(station)
    station.refresh_from_db()
    left = station.pairing_expires_at - timezone.now()
    assert datetime.timedelta(minutes=14) < left <= datetime.timedelta(minutes=15)
    Station.objects.filter(pk=station.pk).update(pairing_expires_at=timezone.now())
    assert client.post(pairing.pair_url(code)).status_code == 404
