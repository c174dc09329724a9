"""Inputs found by hand against a real server that once answered 500: each is a clear 4xx now."""

import io

import pytest

from inventory.core.api.parsers import BodyTooLarge, JSONParser
from inventory.employees.models import Employee
from inventory.items.models import Tag
from inventory.loans.models import Loan
from tests.factories import EmployeeFactory, ItemFactory

pytestmark = pytest.mark.django_db

DEEP = "[" * 5000


def test_json_nested_too_deeply_is_400_even_before_authentication(api):
    response = api.post("/api/v1/auth/token/", DEEP, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "INVALID"


def test_a_body_over_the_upload_limit_is_413_before_it_is_parsed(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = '{"username": "' + "x" * 2000 + '", "password": "p"}'

    response = api.post("/api/v1/auth/token/", body, content_type="application/json")

    assert response.status_code == 413
    assert response.json()["code"] == "TOO_LARGE"


def test_the_parser_stops_reading_a_stream_past_the_limit(settings):
    # What happens when no middleware read request.body (where Django checks the limit) first.
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10
    with pytest.raises(BodyTooLarge):
        JSONParser().parse(io.BytesIO(b'{"a": "' + b"x" * 100 + b'"}'))
    assert JSONParser().parse(io.BytesIO(b'{"a": 1}')) == {"a": 1}
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = None  # Django's "no limit"
    assert JSONParser().parse(io.BytesIO(b'{"a": "' + b"x" * 100 + b'"}'))["a"] == "x" * 100


def test_a_body_at_the_upload_limit_is_still_read(api, settings):
    body = '{"username": "nobody", "password": "p"}'
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = len(body)

    response = api.post("/api/v1/auth/token/", body, content_type="application/json")

    assert response.status_code == 401


def test_a_form_or_a_file_upload_is_415_the_api_reads_json(api, manager):
    response = api.as_user(manager).post(
        "/api/v1/employees/", {"code": "E1", "name": "x"}, format="multipart"
    )

    assert response.status_code == 415
    assert response.json()["code"] == "UNSUPPORTED_MEDIA_TYPE"


@pytest.mark.parametrize("path", ["/api/v1/employees/E%00/", "/api/v1/items/a%00b/"])
def test_a_nul_character_in_an_address_is_a_4xx(api, manager, path):
    EmployeeFactory(code="E")
    ItemFactory(code="ab")

    response = api.as_user(manager).get(path)

    assert 400 <= response.status_code < 500
    assert "code" in response.json()


def test_a_nul_character_naming_a_tags_owner_is_400_and_enrols_nothing(api, manager):
    response = api.as_user(manager).post("/api/v1/tags/", {"uid": "04A1B2C3", "employee": "\u0000"})

    assert response.status_code == 400
    assert response.json()["code"] == "INVALID"
    assert not Tag.objects.exists()


@pytest.mark.parametrize("path", ["/api/v1/loans/abc/", "/api/v1/nothing-here/"])
def test_an_address_no_api_route_matches_is_a_json_404(api, manager, path):
    response = api.as_user(manager).get(path)

    assert response.status_code == 404
    assert response.json()["code"] == "NOT_FOUND"


def test_outside_the_api_a_missing_page_is_still_a_page(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(
    "due_at, words",
    [
        ("0001-01-01T00:00:00", "out of range"),  # Tokyo time before year 1 in UTC
        ("2030-11-24", "Give a time with the date"),  # would be due at midnight
    ],
)
def test_a_due_time_out_of_range_or_without_a_time_is_400(api, manager, english, due_at, words):
    item, employee = ItemFactory(), EmployeeFactory()
    body = {"item": item.code, "employee": employee.code, "due_at": due_at}

    response = api.as_user(manager).post("/api/v1/loans/", body, format="json")

    assert (response.status_code, response.json()["code"]) == (400, "INVALID")
    assert words in response.json()["message"]
    assert not Loan.objects.exists()


def test_two_writes_the_database_refuses_as_a_pair_are_a_409_not_a_500(api, manager, monkeypatch):
    from rest_framework.validators import UniqueValidator

    EmployeeFactory(code="E0001")
    # As if a second request created E0001 between this one's check and its write.
    monkeypatch.setattr(UniqueValidator, "__call__", lambda self, value, field: None)

    response = api.as_user(manager).post(
        "/api/v1/employees/", {"code": "E0001", "name": "山田"}, format="json"
    )

    assert (response.status_code, response.json()["code"]) == (409, "CONFLICT")


def test_a_person_deleted_while_their_borrow_is_looked_up_is_a_404(api, manager, monkeypatch):
    from inventory.loans import lookups

    item, employee = ItemFactory(), EmployeeFactory()
    find_employee = lookups.find_employee

    def found_then_deleted(ref):
        found = find_employee(ref)
        Employee.objects.filter(pk=found.pk).delete()
        return found

    monkeypatch.setattr(lookups, "find_employee", found_then_deleted)
    body = {"item": item.code, "employee": employee.code}

    response = api.as_user(manager).post("/api/v1/loans/", body, format="json")

    assert (response.status_code, response.json()["code"]) == (404, "NOT_FOUND")
    assert not Loan.objects.exists()
