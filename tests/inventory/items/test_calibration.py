"""Measuring instruments: calibration records move the due date on or send a failed instrument
to maintenance; the admin lists what falls due and serves the certificates."""

import csv
import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from inventory.core.days import add_months
from inventory.core.errors import InvalidRequest
from inventory.items.models import Calibration, Item
from inventory.items.services import record_calibration
from tests.factories import ItemFactory

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
PDF = b"%PDF-1.7 certificate"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def micrometer():
    return ItemFactory(
        code="MI0001",
        name="Micrometer",
        calibration_interval=12,
        calibration_due=TODAY + datetime.timedelta(days=5),
    )


def calibrate(item, **how):
    return record_calibration(item=item, **{"calibrated_on": TODAY, "passed": True, **how})


@pytest.mark.parametrize(
    ("day", "months", "due"),
    [
        (datetime.date(2026, 1, 31), 1, datetime.date(2026, 2, 28)),
        (datetime.date(2028, 1, 31), 1, datetime.date(2028, 2, 29)),
        (datetime.date(2026, 11, 30), 3, datetime.date(2027, 2, 28)),
        (datetime.date(2026, 4, 15), 12, datetime.date(2027, 4, 15)),
    ],
)
def test_months_later_is_the_same_day_or_the_months_last(day, months, due):
    assert add_months(day, months) == due


def test_a_pass_makes_the_instrument_due_again_after_its_interval(micrometer):
    record = calibrate(micrometer, certificate_number="C-123", calibrated_by="JQA")

    micrometer.refresh_from_db()
    assert micrometer.calibration_due == add_months(TODAY, 12) == record.next_due
    assert (record.result, record.certificate_number, record.calibrated_by) == (
        "passed",
        "C-123",
        "JQA",
    )


def test_a_pass_with_its_own_next_due_date_keeps_it(micrometer):
    due = TODAY + datetime.timedelta(days=90)
    calibrate(micrometer, next_due=due)
    micrometer.refresh_from_db()
    assert micrometer.calibration_due == due


def test_a_fail_sends_the_instrument_to_maintenance_and_keeps_its_due_date(micrometer):
    record = calibrate(micrometer, passed=False)

    micrometer.refresh_from_db()
    assert micrometer.status == Item.Status.MAINTENANCE
    assert micrometer.calibration_due == TODAY + datetime.timedelta(days=5)
    assert record.next_due is None


def test_an_older_calibration_recorded_late_does_not_move_the_due_date_back(micrometer):
    calibrate(micrometer)
    calibrate(micrometer, calibrated_on=TODAY - datetime.timedelta(days=400), passed=False)
    micrometer.refresh_from_db()
    assert micrometer.calibration_due == add_months(TODAY, 12)
    assert micrometer.status == Item.Status.AVAILABLE
    assert micrometer.calibrations.count() == 2


@pytest.mark.parametrize(
    "how",
    [
        {"calibrated_on": TODAY + datetime.timedelta(days=1)},
        {"next_due": TODAY},
        {"passed": False, "next_due": TODAY + datetime.timedelta(days=30)},
    ],
)
def test_impossible_dates_are_refused(micrometer, how):
    with pytest.raises(InvalidRequest):
        calibrate(micrometer, **how)
    assert not Calibration.objects.exists()


def test_a_pass_without_an_interval_needs_its_next_due_date():
    with pytest.raises(InvalidRequest, match="INVALID"):
        calibrate(ItemFactory())


def test_a_certificate_file_is_kept_under_media(micrometer, media):
    record = calibrate(micrometer, certificate=SimpleUploadedFile("cert.pdf", PDF))
    assert record.certificate.name.startswith(f"calibration/{TODAY.year}/")
    assert (media / record.certificate.name).read_bytes() == PDF


# The admin.


def test_the_admin_records_a_calibration_with_its_certificate(client, staff, micrometer, media):
    response = client.post(
        "/admin/items/calibration/add/",
        {
            "item": micrometer.pk,
            "calibrated_on": TODAY.isoformat(),
            "result": "failed",
            "certificate_number": "C-9",
            "calibrated_by": "JQA",
            "certificate": SimpleUploadedFile("cert.pdf", PDF),
        },
        follow=True,
    )

    assert response.status_code == 200
    record = Calibration.objects.get()
    assert record.recorded_by == "manager"
    micrometer.refresh_from_db()
    assert micrometer.status == "maintenance"
    messages = [str(message) for message in response.context["messages"]]
    assert any("sent to maintenance" in message for message in messages)
    download = client.get(f"/admin/items/calibration/{record.pk}/certificate/")
    assert b"".join(download.streaming_content) == PDF


def test_the_admin_form_says_what_is_missing_beside_the_fields(client, staff):
    item = ItemFactory()
    response = client.post(
        "/admin/items/calibration/add/",
        {"item": item.pk, "calibrated_on": TODAY.isoformat(), "result": "passed"},
    )
    assert response.status_code == 200
    assert "set the tool&#x27;s calibration interval" in response.content.decode()
    assert not Calibration.objects.exists()


def test_the_admin_refuses_a_certificate_that_is_not_a_document(client, staff, micrometer):
    response = client.post(
        "/admin/items/calibration/add/",
        {
            "item": micrometer.pk,
            "calibrated_on": TODAY.isoformat(),
            "result": "passed",
            "certificate": SimpleUploadedFile("cert.exe", b"MZ"),
        },
    )
    assert response.status_code == 200
    assert not Calibration.objects.exists()


def test_a_recorded_calibration_cannot_be_changed_in_the_admin(client, staff, micrometer):
    record = calibrate(micrometer)
    response = client.post(
        f"/admin/items/calibration/{record.pk}/change/",
        {"certificate_number": "forged"},
    )
    assert response.status_code == 403
    record.refresh_from_db()
    assert record.certificate_number == ""


def test_certificates_are_served_only_to_those_who_may_see_calibrations(client, viewer, micrometer):
    record = calibrate(micrometer, certificate=SimpleUploadedFile("cert.pdf", PDF))
    url = f"/admin/items/calibration/{record.pk}/certificate/"
    assert client.get(url).status_code == 302  # to the login page
    viewer.is_staff = True
    viewer.save()
    client.force_login(viewer)
    assert client.get(url).status_code == 200


def test_the_item_page_lists_its_calibrations(client, staff, micrometer):
    calibrate(micrometer, certificate_number="C-777")
    page = client.get(f"/admin/items/item/{micrometer.pk}/change/").content.decode()
    assert "C-777" in page


# The calibration due list.


@pytest.fixture
def instruments(settings):
    settings.CALIBRATION_WARN_DAYS = 14
    day = datetime.timedelta(days=1)
    return {
        "late": ItemFactory(code="MI-LATE", calibration_due=TODAY - day),
        "soon": ItemFactory(code="MI-SOON", calibration_due=TODAY + 14 * day),
        "later": ItemFactory(code="MI-LATER", calibration_due=TODAY + 15 * day),
        "retired": ItemFactory(code="MI-OLD", calibration_due=TODAY, status="retired"),
        "plain": ItemFactory(code="TO-PLAIN"),
    }


def test_the_due_list_shows_overdue_and_nearly_due_instruments(client, staff, instruments):
    response = client.get("/admin/items/item/calibration-due/")
    assert [item.code for item in response.context["instruments"]] == ["MI-LATE", "MI-SOON"]


def test_the_due_list_looks_further_ahead_when_asked(client, staff, instruments):
    response = client.get("/admin/items/item/calibration-due/", {"days": "30"})
    assert [item.code for item in response.context["instruments"]] == [
        "MI-LATE",
        "MI-SOON",
        "MI-LATER",
    ]


def test_the_due_list_downloads_as_csv(client, staff, instruments):
    response = client.get("/admin/items/item/calibration-due/", {"download": "1"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][0] == "Tool code"
    assert [(row[0], row[6]) for row in rows[1:]] == [("MI-LATE", "-1"), ("MI-SOON", "14")]


# The API.


def test_the_api_records_a_calibration(api, manager, micrometer):
    response = api.as_user(manager).post(
        "/api/v1/calibrations/",
        {"item": "MI0001", "calibrated_on": TODAY.isoformat(), "result": "passed"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["next_due"] == add_months(TODAY, 12).isoformat()
    assert response.json()["recorded_by"] == "manager"
    micrometer.refresh_from_db()
    assert micrometer.calibration_due == add_months(TODAY, 12)


def test_the_api_says_what_a_calibration_lacks(api, manager):
    ItemFactory(code="TO0001")
    response = api.as_user(manager).post(
        "/api/v1/calibrations/",
        {"item": "TO0001", "calibrated_on": TODAY.isoformat(), "result": "passed"},
        format="json",
    )
    assert (response.status_code, response.json()["code"]) == (400, "INVALID")


def test_viewers_read_calibrations_but_do_not_record_them(api, viewer, micrometer):
    calibrate(micrometer)
    api.as_user(viewer)
    assert api.get("/api/v1/calibrations/", {"item": "MI0001"}).json()["count"] == 1
    body = {"item": "MI0001", "calibrated_on": TODAY.isoformat(), "result": "passed"}
    assert api.post("/api/v1/calibrations/", body, format="json").status_code == 403


def test_the_calibration_interval_is_part_of_the_tool_in_the_api(api, manager, micrometer):
    api.as_user(manager)
    assert api.get("/api/v1/items/MI0001/").json()["calibration_interval"] == 12
    response = api.patch("/api/v1/items/MI0001/", {"calibration_interval": 0}, format="json")
    assert response.status_code == 400
