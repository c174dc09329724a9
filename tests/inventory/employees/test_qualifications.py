"""Qualifications people hold (with an expiry) and shifts they work, in the admin and the API;
the overdue page lists the qualifications running out within thirty days."""

import datetime

import pytest
from django.utils import timezone

from inventory.employees.models import HeldQualification, Qualification
from tests.factories import (
    EmployeeFactory,
    HeldQualificationFactory,
    QualificationFactory,
    ShiftFactory,
)

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


def test_the_api_shows_what_a_person_holds_and_their_shift(api, viewer):
    person = EmployeeFactory(code="E0001", shift=ShiftFactory(name="夜勤"))
    HeldQualificationFactory(
        employee=person, qualification__name="玉掛け", expires_on=datetime.date(2027, 3, 31)
    )
    HeldQualificationFactory(employee=person, qualification__name="フォークリフト")

    body = api.as_user(viewer).get("/api/v1/employees/E0001/").json()

    assert body["shift"] == "夜勤"
    assert body["qualifications"] == [
        {"qualification": "フォークリフト", "expires_on": None},
        {"qualification": "玉掛け", "expires_on": "2027-03-31"},
    ]


def test_the_api_replaces_what_a_person_holds(api, manager):
    person = EmployeeFactory(code="E0001")
    HeldQualificationFactory(employee=person, qualification__name="古い講習")
    QualificationFactory(name="玉掛け")
    ShiftFactory(name="夜勤")

    response = api.as_user(manager).patch(
        "/api/v1/employees/E0001/",
        {
            "qualifications": [{"qualification": "玉掛け", "expires_on": "2027-03-31"}],
            "shift": "夜勤",
        },
        format="json",
    )

    assert response.status_code == 200, response.json()
    assert response.json()["qualifications"] == [
        {"qualification": "玉掛け", "expires_on": "2027-03-31"}
    ]
    held = HeldQualification.objects.get(employee=person)
    assert (held.qualification.name, held.expires_on) == ("玉掛け", datetime.date(2027, 3, 31))
    person.refresh_from_db()
    assert person.shift.name == "夜勤"


@pytest.mark.parametrize(
    "qualifications",
    [
        [{"qualification": "unknown"}],
        [{"qualification": "玉掛け"}, {"qualification": "玉掛け"}],
        [{"qualification": "玉掛け", "expires_on": "soon"}],
    ],
)
def test_the_api_refuses_what_it_cannot_record(api, manager, qualifications):
    EmployeeFactory(code="E0001")
    QualificationFactory(name="玉掛け")
    response = api.as_user(manager).patch(
        "/api/v1/employees/E0001/", {"qualifications": qualifications}, format="json"
    )
    assert (response.status_code, response.json()["code"]) == (400, "INVALID")
    assert not HeldQualification.objects.exists()


def test_the_api_keeps_the_list_of_qualifications(api, manager, viewer):
    assert (
        api.as_user(manager).post("/api/v1/qualifications/", {"name": "玉掛け"}).status_code == 201
    )
    assert api.post("/api/v1/qualifications/", {"name": "a;b"}).status_code == 400
    assert api.as_user(viewer).post("/api/v1/qualifications/", {"name": "x"}).status_code == 403
    assert list(Qualification.objects.values_list("name", flat=True)) == ["玉掛け"]


def test_the_admin_records_a_qualification_on_the_persons_page(client, staff):
    person = EmployeeFactory()
    trained = QualificationFactory(name="玉掛け")
    page = client.get(f"/admin/employees/employee/{person.pk}/change/")
    form = page.context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(
        {
            "shift": "",
            "tags-TOTAL_FORMS": 0,
            "tags-INITIAL_FORMS": 0,
            "qualifications-TOTAL_FORMS": 1,
            "qualifications-INITIAL_FORMS": 0,
            "qualifications-0-qualification": trained.pk,
            "qualifications-0-expires_on": "2027-03-31",
        }
    )

    response = client.post(f"/admin/employees/employee/{person.pk}/change/", data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    held = HeldQualification.objects.get(employee=person)
    assert held.expires_on == datetime.date(2027, 3, 31)


def test_the_overdue_page_lists_qualifications_running_out_soon(client, staff):
    soon = HeldQualificationFactory(
        qualification__name="玉掛け", expires_on=TODAY + datetime.timedelta(days=30)
    )
    HeldQualificationFactory(
        qualification__name="フォークリフト", expires_on=TODAY + datetime.timedelta(days=31)
    )
    HeldQualificationFactory(qualification__name="溶接", expires_on=None)

    response = client.get("/admin/loans/loan/overdue/")

    assert list(response.context["expiring"]) == [soon]
    assert "Qualifications expiring within 30 days" in response.content.decode()
