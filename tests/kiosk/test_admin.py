import datetime
import re

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from inventory.items.models import Tag
from kiosk import pairing
from kiosk.models import Station
from tests.factories import BadgeFactory, EmployeeFactory, ItemFactory
from tests.kiosk.conftest import T0

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(User.objects.create_superuser("root", password="root-pass-123"))
    return client


def test_creating_a_station_in_the_admin_shows_its_token_once(admin_client):
    response = admin_client.post(
        "/admin/kiosk/station/add/", {"name": "Line 7", "location": "A棟"}, follow=True
    )
    station = Station.objects.get(name="Line 7")
    message = next(str(m) for m in response.context["messages"])
    token = message.split("<code>")[1].split("</code>")[0]
    assert Station.objects.by_token(token) == station
    assert "/kiosk/pair/" in message


def test_a_new_token_travels_in_no_cookie(admin_client, station):
    # Messages live in the session: the browser holds only the session's id.
    response = admin_client.post(
        "/admin/kiosk/station/", {"action": "rotate_tokens", "_selected_action": [station.pk]}
    )
    assert response.status_code == 302
    assert "messages" not in response.cookies
    page = admin_client.get("/admin/kiosk/station/").content.decode()
    token = page.split(f"{station.name}: <code>")[1].split("</code>")[0]
    assert Station.objects.by_token(token) == station
    assert all(token not in morsel.value for morsel in admin_client.cookies.values())


def test_a_station_with_history_cannot_be_deleted_even_by_a_superuser(admin_client, tap, station):
    tap("04AA0000000001", timezone.now())
    assert admin_client.get(f"/admin/kiosk/station/{station.pk}/delete/").status_code == 403
    assert Station.objects.filter(pk=station.pk).exists()


def test_a_station_without_history_is_deleted_by_a_manager(client, manager):
    manager.is_staff = True
    manager.save()
    client.force_login(manager)
    spare = Station.objects.create(name="Spare")
    response = client.post(f"/admin/kiosk/station/{spare.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Station.objects.filter(pk=spare.pk).exists()


def test_the_station_list_says_who_is_online(admin_client, station):
    response = admin_client.get("/admin/kiosk/station/")
    assert response.status_code == 200
    assert station.name in response.content.decode()


def test_online_means_heard_from_within_the_offline_setting(admin_client, station, settings):
    settings.STATION_OFFLINE_SECONDS = 300
    Station.objects.filter(pk=station.pk).update(
        last_seen_at=timezone.now() - datetime.timedelta(seconds=200)
    )
    assert Station.objects.get(pk=station.pk).is_online()
    settings.STATION_OFFLINE_SECONDS = 120
    assert not Station.objects.get(pk=station.pk).is_online()


def test_editing_a_station_leaves_the_tap_state_the_kiosk_wrote_meanwhile(admin_client, station):
    badge = BadgeFactory()
    form = admin_client.get(f"/admin/kiosk/station/{station.pk}/change/")  # opened...
    assert form.status_code == 200
    expires = timezone.now() + datetime.timedelta(minutes=5)
    Station.objects.filter(pk=station.pk).update(  # ...a worker badges in...
        session_employee=badge.employee, session_expires_at=expires
    )
    response = admin_client.post(  # ...and the manager saves a new location
        f"/admin/kiosk/station/{station.pk}/change/", {"name": station.name, "location": "B棟"}
    )

    assert response.status_code == 302
    saved = Station.objects.get(pk=station.pk)
    assert saved.location == "B棟"
    assert (saved.session_employee, saved.session_expires_at) == (badge.employee, expires)


def test_assigning_an_address_that_is_not_a_uid_is_refused_not_an_error(admin_client):
    response = admin_client.post(
        "/admin/kiosk/unknowntag/assign/not-a-uid/", {"item": ItemFactory().pk}
    )
    assert response.status_code == 200
    assert not Tag.objects.exists()


def test_opening_the_pairing_page_makes_no_code(admin_client, station, client):
    page = admin_client.get(f"/admin/kiosk/station/{station.pk}/pairing/").content.decode()
    assert "Make a pairing code" in page or "ペアリング" in page
    assert re.search(r"/kiosk/pair/[\w-]{10,}", page) is None
    assert client.post(pairing.pair_url(station.code)).status_code == 302  # still the old one


def test_the_pairing_page_makes_a_working_link_and_a_qr_code(admin_client, station, client):
    page = admin_client.post(f"/admin/kiosk/station/{station.pk}/pairing/").content.decode()
    assert "<svg" in page
    link = re.search(r'href="([^"]*/kiosk/pair/[^"]+)"', page).group(1)
    kiosk_browser = client.__class__()
    assert kiosk_browser.post(link.removeprefix("http://testserver")).status_code == 302
    assert pairing.station_from_cookie(kiosk_browser.cookies[pairing.COOKIE].value) == station


def test_rotating_a_token_shows_the_new_one_and_the_old_one_stops(admin_client, station):
    admin_client.post(
        "/admin/kiosk/station/", {"action": "rotate_tokens", "_selected_action": [station.pk]}
    )
    assert Station.objects.by_token(station.token) is None


def test_enrolment_by_tap_starts_from_the_employee_page(admin_client, station):
    employee = EmployeeFactory()
    page = admin_client.get(f"/admin/employees/employee/{employee.pk}/change/").content.decode()
    assert f"/admin/kiosk/station/enrol/employee/{employee.pk}/" in page

    admin_client.post(
        f"/admin/kiosk/station/enrol/employee/{employee.pk}/", {"station": station.pk}
    )

    station.refresh_from_db()
    assert station.enrol_employee == employee
    assert station.enrol_expires_at is not None


def test_the_unknown_tags_inbox_lists_and_assigns(admin_client, tap, station):
    tap("DEADBEEF01", T0)
    tap("DEADBEEF01", T0.replace(minute=5))
    BadgeFactory(uid="DEADBEEF02")
    tap("DEADBEEF02", T0.replace(minute=6))

    inbox = admin_client.get("/admin/kiosk/unknowntag/").content.decode()
    assert "<code>DEADBEEF01</code>" in inbox
    assert "<code>DEADBEEF02</code>" not in inbox  # enrolled since, so no longer unknown

    item = ItemFactory()
    admin_client.post("/admin/kiosk/unknowntag/assign/DEADBEEF01/", {"item": item.pk})
    assert Tag.objects.get(uid="DEADBEEF01").item == item
    inbox = admin_client.get("/admin/kiosk/unknowntag/").content.decode()
    assert "<code>DEADBEEF01</code>" not in inbox


def test_assigning_a_uid_someone_has_is_refused_with_the_reason(admin_client, english):
    BadgeFactory(uid="DEADBEEF03")
    response = admin_client.post(
        "/admin/kiosk/unknowntag/assign/DEADBEEF03/", {"item": ItemFactory().pk}
    )
    assert response.status_code == 200
    assert "already enrolled" in response.content.decode()


def test_scans_are_read_only(admin_client, tap, station):
    tap("DEADBEEF04", T0)
    assert admin_client.get("/admin/kiosk/scanevent/").status_code == 200
    assert admin_client.get("/admin/kiosk/scanevent/add/").status_code == 403


@pytest.mark.parametrize(
    ("term", "found"), [("de:ad:be:ef:05", {"DEADBEEF05"}), ("やまだ", {"04A1B2C3D4"})]
)
def test_taps_are_found_by_a_uid_in_any_spelling_or_by_the_persons_reading(
    admin_client, tap, station, term, found
):
    BadgeFactory(uid="04A1B2C3D4", employee=EmployeeFactory(reading="やまだ はなこ"))
    tap("04A1B2C3D4", T0)
    tap("DEADBEEF05", T0.replace(minute=1))
    tap("DEADBEEF06", T0.replace(minute=2))

    scans = admin_client.get("/admin/kiosk/scanevent/", {"q": term}).context["cl"].result_list

    assert {scan.uid for scan in scans} == found
