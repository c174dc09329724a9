import datetime

import pytest
from django.utils import timezone

from inventory.loans import services
from inventory.loans.models import Door, Loan, LoanEvent
from tests.factories import BadgeFactory, EmployeeFactory, ItemFactory, ToolTagFactory

pytestmark = pytest.mark.django_db


def borrow_body(**overrides):
    return {"item": "TO0001", "employee": "E0001", **overrides}


@pytest.fixture
def tool_and_person():
    return ItemFactory(code="TO0001", name="ノギス"), EmployeeFactory(code="E0001", name="山田")


def test_borrows_by_codes_and_answers_with_the_loan(api, manager, tool_and_person):
    response = api.as_user(manager).post("/api/v1/loans/", borrow_body(note="line 3"))

    assert response.status_code == 201
    body = response.json()
    loan = Loan.objects.get()
    assert body["id"] == loan.pk
    assert body["item"] == {"code": "TO0001", "name": "ノギス"}
    assert body["employee"] == {"code": "E0001", "name": "山田"}
    assert (body["state"], body["door"], body["note"]) == ("open", "api", "line 3")
    assert loan.borrowed_by == manager


def test_borrows_by_tag_uids_in_any_spelling(api, manager, tool_and_person):
    item, employee = tool_and_person
    ToolTagFactory(item=item, uid="1D2E3F40")
    BadgeFactory(employee=employee, uid="04A1B2C3")

    response = api.as_user(manager).post(
        "/api/v1/loans/", {"item": "1d:2e:3f:40", "employee": "04 a1 b2 c3"}
    )

    assert response.status_code == 201
    assert Loan.objects.get().item == item


def test_an_explicit_due_time_is_kept(api, manager, tool_and_person):
    due = (timezone.now() + datetime.timedelta(days=2)).replace(microsecond=0)
    response = api.as_user(manager).post(
        "/api/v1/loans/", borrow_body(due_at=due.isoformat()), format="json"
    )
    assert response.status_code == 201
    assert Loan.objects.get().due_at == due


@pytest.mark.parametrize(
    ("prepare", "body", "status", "code"),
    [
        (lambda item, person: None, {"item": "NOPE"}, 404, "NOT_FOUND"),
        (lambda item, person: None, {"employee": "NOPE"}, 404, "NOT_FOUND"),
        (lambda item, person: None, {"item": "DEADBEEF"}, 404, "UNKNOWN_TAG"),
        (lambda item, person: None, {"item": ""}, 400, "INVALID"),
        (lambda item, person: None, {"due_at": "tomorrow"}, 400, "INVALID"),
        (lambda item, person: None, {"due_at": "2000-01-01T00:00:00Z"}, 400, "INVALID"),
        (
            lambda item, person: services.borrow(
                item=item, employee=EmployeeFactory(), door=Door.API
            ),
            {},
            409,
            "ITEM_ON_LOAN",
        ),
        (
            lambda item, person: type(item).objects.filter(pk=item.pk).update(status="retired"),
            {},
            409,
            "ITEM_NOT_LOANABLE",
        ),
        (
            lambda item, person: (
                type(person).objects.filter(pk=person.pk).update(status="inactive")
            ),
            {},
            409,
            "EMPLOYEE_NOT_ACTIVE",
        ),
    ],
)
def test_every_refusal_has_its_status_and_code(
    api, manager, tool_and_person, prepare, body, status, code
):
    prepare(*tool_and_person)
    before = Loan.objects.count()

    response = api.as_user(manager).post("/api/v1/loans/", borrow_body(**body), format="json")

    assert response.status_code == status
    assert response.json()["code"] == code
    assert response.json()["message"]
    assert Loan.objects.count() == before


def test_a_body_that_is_not_json_is_400(api, manager):
    response = api.as_user(manager).post(
        "/api/v1/loans/", "{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID"


def test_messages_follow_the_requested_language(api, manager, tool_and_person):
    item, _ = tool_and_person
    services.borrow(item=item, employee=EmployeeFactory(name="佐藤"), door=Door.API)
    api.as_user(manager)

    english = api.post("/api/v1/loans/", borrow_body(), HTTP_ACCEPT_LANGUAGE="en").json()
    assert "already on loan to 佐藤" in english["message"]


def test_returns_and_cancels_through_the_api(api, manager, tool_and_person):
    item, employee = tool_and_person
    first = services.borrow(item=item, employee=employee, door=Door.KIOSK)
    api.as_user(manager)

    returned = api.post(f"/api/v1/loans/{first.pk}/return/", {"condition": "damaged"})
    assert returned.status_code == 200
    assert returned.json()["state"] == "returned"
    assert returned.json()["return_condition"] == "damaged"
    item.refresh_from_db()
    assert item.status == "maintenance"

    again = api.post(f"/api/v1/loans/{first.pk}/return/")
    assert (again.status_code, again.json()["code"]) == (409, "LOAN_NOT_OPEN")

    second = services.borrow(item=ItemFactory(), employee=employee, door=Door.KIOSK)
    cancelled = api.post(f"/api/v1/loans/{second.pk}/cancel/", {"reason": "mis-tap"})
    assert cancelled.json()["state"] == "cancelled"
    assert LoanEvent.objects.get(kind="cancel").details == {"reason": "mis-tap"}

    missing = api.post("/api/v1/loans/999999/return/")
    assert (missing.status_code, missing.json()["code"]) == (404, "NOT_FOUND")


def test_a_viewer_reads_loans_but_cannot_borrow_return_or_cancel(api, viewer, tool_and_person):
    loan = services.borrow(item=ItemFactory(), employee=EmployeeFactory(), door=Door.KIOSK)
    api.as_user(viewer)

    assert api.get("/api/v1/loans/").status_code == 200
    for path in (
        "/api/v1/loans/",
        f"/api/v1/loans/{loan.pk}/return/",
        f"/api/v1/loans/{loan.pk}/cancel/",
    ):
        response = api.post(path, borrow_body())
        assert response.status_code == 403, path
        assert response.json()["code"] == "PERMISSION_DENIED"
    loan.refresh_from_db()
    assert loan.is_open


def test_filters_loans(api, viewer):
    now = timezone.now()
    alice, bob = EmployeeFactory(code="ALICE"), EmployeeFactory(code="BOB")
    overdue = services.borrow(
        item=ItemFactory(code="T-OVERDUE"),
        employee=alice,
        door=Door.API,
        at=now - datetime.timedelta(days=3),
        due_at=now - datetime.timedelta(days=2),
    )
    returned = services.borrow(item=ItemFactory(code="T-RETURNED"), employee=bob, door=Door.API)
    services.return_loan(loan=returned, door=Door.API)
    current = services.borrow(item=ItemFactory(code="T-OPEN"), employee=bob, door=Door.API)
    api.as_user(viewer)

    def ids(**params):
        return {row["id"] for row in api.get("/api/v1/loans/", params).json()["results"]}

    assert ids(open="true") == {overdue.pk, current.pk}
    assert ids(open="false") == {returned.pk}
    assert ids(overdue="true") == {overdue.pk}
    assert ids(employee="BOB") == {returned.pk, current.pk}
    assert ids(item="T-OPEN") == {current.pk}
    today = timezone.localdate()
    assert ids(**{"from": today.isoformat()}) == {returned.pk, current.pk}
    assert ids(to=(today - datetime.timedelta(days=1)).isoformat()) == {overdue.pk}
    bad = api.get("/api/v1/loans/", {"from": "yesterday"})
    assert (bad.status_code, bad.json()["code"]) == (400, "INVALID")


def test_the_loan_list_costs_the_same_queries_for_any_page_size(
    api, viewer, django_assert_num_queries
):
    for _ in range(12):
        services.borrow(item=ItemFactory(), employee=EmployeeFactory(), door=Door.API)
    api.as_user(viewer)
    # user, user permissions, group permissions, count, one page with item and employee joined
    for size in (1, 12):
        with django_assert_num_queries(5):
            body = api.get("/api/v1/loans/", {"page_size": size}).json()
        assert len(body["results"]) == size


def test_borrow_costs_a_fixed_number_of_queries(
    api, manager, tool_and_person, django_assert_num_queries
):
    api.as_user(manager)
    # user, user perms, group perms, item by code, employee by code, savepoint, lock item
    # (with its category's rules id), open loan check, lock employee (with the shift), closed
    # days for the due date, insert loan, insert history, release savepoint
    with django_assert_num_queries(13):
        assert api.post("/api/v1/loans/", borrow_body()).status_code == 201
