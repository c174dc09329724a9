"""The crib's closed days: kept in the admin and imported from a CSV of dates."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from inventory.loans.calendar import import_closed_days
from inventory.loans.models import ClosedDay

pytestmark = pytest.mark.django_db


def closed() -> dict:
    return dict(ClosedDay.objects.values_list("date", "name"))


def test_the_cabinet_offices_holiday_file_imports_as_downloaded():
    data = "国民の祝日・休日月日,国民の祝日・休日名称\r\n2027/1/1,元日\r\n2027/1/11,成人の日\r\n"

    result = import_closed_days(data.encode("cp932"))

    assert (result.added, result.problems) == (2, [])
    assert closed() == {datetime.date(2027, 1, 1): "元日", datetime.date(2027, 1, 11): "成人の日"}


def test_a_plain_list_of_dates_imports_and_known_days_take_the_new_name():
    ClosedDay.objects.create(date=datetime.date(2026, 12, 29), name="")
    ClosedDay.objects.create(date=datetime.date(2026, 12, 30), name="年末休暇")

    result = import_closed_days(b"2026-12-29,\xe5\xb9\xb4\xe6\x9c\xab\n2026-12-30\n2026-12-31\n")

    assert (result.added, result.renamed, result.unchanged) == (1, 1, 1)
    assert closed()[datetime.date(2026, 12, 29)] == "年末"
    assert closed()[datetime.date(2026, 12, 30)] == "年末休暇"


def test_a_line_that_is_not_a_date_writes_nothing_and_says_where(english):
    result = import_closed_days(b"date\n2026-12-29\n2026-13-01\n")

    assert result.problems == [
        "Line 3: “2026-13-01” is not a date. Write it as 2026-03-31 or 2026/3/31."
    ]
    assert closed() == {}


@pytest.mark.parametrize("data", [b"", b"date\n", b"\xff\xfe\x00"])
def test_a_file_without_dates_is_refused(data):
    assert import_closed_days(data).problems
    assert closed() == {}


def test_the_admin_imports_a_file_and_lists_the_days(client, staff):
    response = client.post(
        "/admin/loans/closedday/import/",
        {"file": SimpleUploadedFile("holidays.csv", b"2027-05-03,Constitution Day\n")},
        follow=True,
    )

    assert response.status_code == 200
    assert "1 added" in str(next(iter(response.context["messages"])))
    assert closed() == {datetime.date(2027, 5, 3): "Constitution Day"}
    assert "Constitution Day" in client.get("/admin/loans/closedday/").content.decode()


def test_the_admin_shows_the_problems_of_a_bad_file(client, staff):
    response = client.post(
        "/admin/loans/closedday/import/",
        {"file": SimpleUploadedFile("holidays.csv", b"2027-05-03\nsoon\n")},
    )
    assert response.status_code == 200
    assert "Line 2" in response.content.decode()
    assert closed() == {}


def test_viewers_may_not_import_closed_days(client, viewer):
    viewer.is_staff = True
    viewer.save()
    client.force_login(viewer)
    assert client.get("/admin/loans/closedday/import/").status_code == 403
