import pytest

from inventory.employees.models import Employee
from inventory.items.models import Tag
from tests.factories import BadgeFactory, EmployeeFactory, LoanFactory

pytestmark = pytest.mark.django_db


def test_lists_employees_paginated_with_their_badges(api, viewer):
    badge = BadgeFactory(employee__code="E0001")
    EmployeeFactory.create_batch(3)

    body = api.as_user(viewer).get("/api/v1/employees/", {"page_size": 2}).json()

    assert body["count"] == 4
    assert body["next"] and body["previous"] is None
    assert len(body["results"]) == 2
    assert body["results"][0]["code"] == "E0001"
    assert body["results"][0]["uids"] == [badge.uid]


def test_searches_by_code_name_reading_and_uid(api, viewer):
    EmployeeFactory(code="E0100", name="山田 太郎", reading="やまだ たろう")
    BadgeFactory(uid="04AABBCCDD", employee=EmployeeFactory(code="E0200", name="佐藤"))
    api.as_user(viewer)

    def codes(term):
        response = api.get("/api/v1/employees/", {"search": term})
        return [row["code"] for row in response.json()["results"]]

    assert codes("E0100") == ["E0100"]
    assert codes("山田") == ["E0100"]
    assert codes("やまだ") == ["E0100"]
    assert codes("04:aa:bb:cc:dd") == ["E0200"]


def test_filters_by_status(api, viewer):
    EmployeeFactory(status="suspended", code="E9")
    EmployeeFactory()
    body = api.as_user(viewer).get("/api/v1/employees/", {"status": "suspended"}).json()
    assert [row["code"] for row in body["results"]] == ["E9"]


def test_gets_one_employee_by_code_or_404(api, viewer):
    EmployeeFactory(code="E0001")
    api.as_user(viewer)
    assert api.get("/api/v1/employees/E0001/").json()["code"] == "E0001"
    missing = api.get("/api/v1/employees/NOPE/")
    assert missing.status_code == 404
    assert missing.json()["code"] == "NOT_FOUND"


@pytest.mark.parametrize("path", ["A/12", "A%2F12"])
def test_a_code_with_a_slash_is_addressable(api, manager, path):
    EmployeeFactory(code="A/12")
    api.as_user(manager)
    assert api.get(f"/api/v1/employees/{path}/").json()["code"] == "A/12"
    assert api.patch(f"/api/v1/employees/{path}/", {"name": "変更"}).status_code == 200
    assert Employee.objects.get(code="A/12").name == "変更"


def test_a_viewer_cannot_write(api, viewer):
    response = api.as_user(viewer).post("/api/v1/employees/", {"code": "E1", "name": "x"})
    assert response.status_code == 403
    assert response.json()["code"] == "PERMISSION_DENIED"
    assert not Employee.objects.exists()


def test_a_manager_creates_and_updates(api, manager):
    api.as_user(manager)
    created = api.post("/api/v1/employees/", {"code": "E1", "name": "新人"})
    assert created.status_code == 201
    changed = api.patch("/api/v1/employees/E1/", {"status": "inactive"})
    assert changed.status_code == 200
    assert Employee.objects.get(code="E1").status == "inactive"


def test_a_duplicate_code_or_bad_status_is_400_with_the_field(api, manager):
    EmployeeFactory(code="E1")
    api.as_user(manager)
    duplicate = api.post("/api/v1/employees/", {"code": "E1", "name": "x"})
    assert duplicate.status_code == 400
    assert duplicate.json()["code"] == "INVALID"
    assert "code" in duplicate.json()["fields"]
    bad = api.post("/api/v1/employees/", {"code": "E2", "name": "x", "status": "gone"})
    assert bad.status_code == 400
    assert "status" in bad.json()["fields"]


def test_deleting_someone_with_history_is_refused_with_409(api, manager):
    loan = LoanFactory(employee__code="E1")
    response = api.as_user(manager).delete("/api/v1/employees/E1/")
    assert response.status_code == 409
    assert response.json()["code"] == "HAS_HISTORY"
    assert Employee.objects.filter(pk=loan.employee_id).exists()


def test_deleting_someone_who_carried_a_badge_is_refused_and_the_badge_kept(api, manager):
    badge = BadgeFactory(employee=EmployeeFactory(code="E1"), active=False)

    response = api.as_user(manager).delete("/api/v1/employees/E1/")

    assert (response.status_code, response.json()["code"]) == (409, "HAS_HISTORY")
    assert Tag.objects.filter(pk=badge.pk).exists()


def test_deleting_someone_without_history_works(api, manager):
    EmployeeFactory(code="E1")
    assert api.as_user(manager).delete("/api/v1/employees/E1/").status_code == 204
    assert not Employee.objects.filter(code="E1").exists()
    assert api.get("/api/v1/employees/E1/").status_code == 404
