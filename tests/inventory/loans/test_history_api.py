import datetime

import pytest
from django.utils import timezone

from inventory.loans import services
from inventory.loans.models import Door, LoanEvent
from kiosk.models import Station
from tests.factories import BadgeFactory, EmployeeFactory, ItemFactory, overdue_loan

pytestmark = pytest.mark.django_db


def test_the_overdue_list_is_latest_first_with_department_and_contact(api, viewer):
    slightly = overdue_loan(1, department="製造一課", contact="内線 101")
    very = overdue_loan(30, department="保全課", contact="内線 202")
    services.borrow(item=ItemFactory(), employee=EmployeeFactory(), door=Door.KIOSK)

    body = api.as_user(viewer).get("/api/v1/overdue/").json()

    assert [row["id"] for row in body["results"]] == [very.pk, slightly.pk]
    first = body["results"][0]
    assert first["employee"]["department"] == "保全課"
    assert first["employee"]["contact"] == "内線 202"
    assert 30 * 3600 <= first["late_seconds"] < 31 * 3600
    only = api.get("/api/v1/overdue/", {"department": "製造一課"}).json()["results"]
    assert [row["id"] for row in only] == [slightly.pk]


def test_history_lists_events_with_names_as_they_were(api, viewer):
    person = EmployeeFactory(code="E1", name="旧姓")
    loan = services.borrow(item=ItemFactory(code="T1"), employee=person, door=Door.KIOSK)
    services.return_loan(loan=loan, door=Door.KIOSK)
    person.name = "新姓"
    person.save()
    services.borrow(item=ItemFactory(code="T2"), employee=EmployeeFactory(), door=Door.KIOSK)
    api.as_user(viewer)

    rows = api.get("/api/v1/history/", {"employee": "E1"}).json()["results"]

    assert [(row["kind"], row["employee"]["name"]) for row in rows] == [
        ("return", "旧姓"),
        ("borrow", "旧姓"),
    ]
    assert {row["item"]["code"] for row in api.get("/api/v1/history/").json()["results"]} == {
        "T1",
        "T2",
    }
    kinds = [
        row["kind"] for row in api.get("/api/v1/history/", {"kind": "return"}).json()["results"]
    ]
    assert kinds == ["return"]
    today = timezone.localdate().isoformat()
    assert len(api.get("/api/v1/history/", {"from": today, "to": today}).json()["results"]) == 3


def test_loans_filter_by_station(api, viewer):
    station = Station.objects.create(name="入口", token_hash="x")
    at_station = services.borrow(
        item=ItemFactory(), employee=EmployeeFactory(), door=Door.KIOSK, station=station
    )
    services.borrow(item=ItemFactory(), employee=EmployeeFactory(), door=Door.API)
    rows = api.as_user(viewer).get("/api/v1/loans/", {"station": station.pk}).json()["results"]
    assert [row["id"] for row in rows] == [at_station.pk]


def test_a_manager_corrects_a_loan_through_the_api(api, manager):
    loan = overdue_loan(4)
    returned = timezone.now() - datetime.timedelta(hours=3)

    response = api.as_user(manager).post(
        f"/api/v1/loans/{loan.pk}/correct/",
        {"returned_at": returned.isoformat(), "reason": "not tapped"},
        format="json",
    )

    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "returned"
    event = LoanEvent.objects.get(kind="correction")
    assert (event.door, event.username, event.details["reason"]) == ("api", "manager", "not tapped")
    history = api.get("/api/v1/history/", {"loan": loan.pk}).json()["results"]
    assert [row["kind"] for row in history] == ["correction", "borrow"]


def test_a_refused_correction_is_a_400_and_a_viewer_gets_403(api, manager, viewer):
    loan = overdue_loan(4)
    future = (timezone.now() + datetime.timedelta(days=1)).isoformat()
    refused = api.as_user(manager).post(
        f"/api/v1/loans/{loan.pk}/correct/", {"returned_at": future, "reason": "x"}, format="json"
    )
    assert (refused.status_code, refused.json()["code"]) == (400, "INVALID")
    missing_reason = api.post(f"/api/v1/loans/{loan.pk}/correct/", {}, format="json")
    assert missing_reason.status_code == 400
    viewer_try = api.as_user(viewer).post(
        f"/api/v1/loans/{loan.pk}/correct/", {"due_at": future, "reason": "x"}, format="json"
    )
    assert viewer_try.status_code == 403
    assert not LoanEvent.objects.filter(kind="correction").exists()


@pytest.mark.parametrize("path", ["/api/v1/overdue/", "/api/v1/history/"])
def test_the_lists_cost_the_same_queries_for_any_page_size(
    api, viewer, path, django_assert_num_queries
):
    for hours in range(1, 13):
        overdue_loan(hours)
    api.as_user(viewer)
    # user, user permissions, group permissions, count, one page (tool, person, station joined
    # for the overdue list; history rows carry their own names)
    for size in (1, 12):
        with django_assert_num_queries(5):
            assert len(api.get(path, {"page_size": size}).json()["results"]) == size


@pytest.mark.parametrize("term", ["やまだ", "E777", "04:a1:b2:c3"])
def test_loans_history_and_overdue_search_by_code_reading_and_uid(api, viewer, term):
    mine = overdue_loan(2, code="E777", reading="やまだ たろう")
    BadgeFactory(employee=mine.employee, uid="04A1B2C3")
    overdue_loan(3)
    api.as_user(viewer)

    for path in ("/api/v1/loans/", "/api/v1/overdue/"):
        rows = api.get(path, {"search": term}).json()["results"]
        assert [row["id"] for row in rows] == [mine.pk], path
    history = api.get("/api/v1/history/", {"search": term}).json()["results"]
    assert {row["loan"] for row in history} == {mine.pk}


@pytest.mark.parametrize("path", ["/api/v1/loans/", "/api/v1/overdue/", "/api/v1/history/"])
@pytest.mark.parametrize("value", ["-1.79e142", "99999999999999999999", "1.5", "x"])
def test_an_impossible_id_in_a_filter_is_a_400(api, viewer, path, value):
    response = api.as_user(viewer).get(path, {"station": value})
    assert (response.status_code, response.json()["code"]) == (400, "INVALID")


@pytest.mark.parametrize("path", ["/api/v1/loans/", "/api/v1/history/"])
def test_the_first_and_last_days_there_are_filter_nothing_out(api, viewer, path):
    overdue_loan(1)
    api.as_user(viewer)
    response = api.get(path, {"from": "0001-01-01", "to": "9999-12-31"})
    assert response.status_code == 200
    assert response.json()["count"] == 1  # one loan, one borrow entry


def test_history_is_filtered_by_the_recorded_code_in_any_case(api, viewer):
    loan = overdue_loan(1, code="E0042")
    overdue_loan(1)
    api.as_user(viewer)

    for value in ("E0042", "e0042"):
        rows = api.get("/api/v1/history/", {"employee": value}).json()["results"]
        assert [row["loan"] for row in rows] == [loan.pk], value
    item = api.get("/api/v1/history/", {"item": loan.item.code.lower()}).json()["results"]
    assert [row["loan"] for row in item] == [loan.pk]


def test_history_search_finds_a_renamed_person_by_the_beginning_of_the_name_recorded(api, viewer):
    loan = overdue_loan(1, name="山田 花子")
    overdue_loan(1)
    person = loan.employee
    person.name = "佐藤 花子"
    person.save()
    api.as_user(viewer)

    for term in ("山田", "佐藤", "花子"):
        rows = api.get("/api/v1/history/", {"search": term}).json()["results"]
        assert [row["loan"] for row in rows] == [loan.pk], term
