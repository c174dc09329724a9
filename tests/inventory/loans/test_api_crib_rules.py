"""The crib's rules at the API door: each refusal with its status and code, a manager's
override, and the warnings in the loan's answer."""

import datetime

import pytest
from django.utils import timezone

from inventory.loans import services
from inventory.loans.models import Door, Loan, LoanEvent
from tests.factories import (
    CategoryFactory,
    EmployeeFactory,
    ItemFactory,
    QualificationFactory,
    overdue_loan,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def sato():
    return EmployeeFactory(code="E0001", name="Sato")


def body(**extra):
    return {"item": "TO0001", "employee": "E0001", **extra}


def at_the_limit(settings, person):
    settings.LOAN_LIMIT_PER_PERSON = 1
    services.borrow(item=ItemFactory(), employee=person, door=Door.API)


RULES = {
    "LIMIT_REACHED": lambda settings, person: at_the_limit(settings, person),
    "HAS_OVERDUE": lambda settings, person: (
        setattr(settings, "LOAN_BLOCK_WHEN_OVERDUE", True),
        overdue_loan(1, code="E9999"),
        Loan.objects.filter(employee__code="E9999").update(employee=person),
    ),
    "NOT_QUALIFIED": lambda settings, person: CategoryFactory(
        name="Torque", qualification=QualificationFactory()
    ),
    "CALIBRATION_EXPIRED": lambda settings, person: ItemFactory._meta.model.objects.filter(
        code="TO0001"
    ).update(calibration_due=timezone.localdate() - datetime.timedelta(days=1)),
    "INSPECTION_REQUIRED": lambda settings, person: CategoryFactory(
        name="Torque", checklist="Cable undamaged"
    ),
}


@pytest.mark.parametrize("code", list(RULES))
def test_each_rule_refuses_with_its_code_and_a_message(api, manager, settings, sato, code):
    ItemFactory(code="TO0001", category="Torque")
    RULES[code](settings, sato)
    before = Loan.objects.count()

    response = api.as_user(manager).post("/api/v1/loans/", body(), format="json")

    assert response.status_code == 409
    assert response.json()["code"] == code
    assert response.json()["message"]
    assert Loan.objects.count() == before


@pytest.mark.parametrize("code", list(RULES))
def test_a_manager_overrides_each_rule_with_a_reason(api, manager, settings, sato, code):
    ItemFactory(code="TO0001", category="Torque")
    RULES[code](settings, sato)

    response = api.as_user(manager).post(
        "/api/v1/loans/",
        body(override={"codes": [code], "reason": "urgent repair"}),
        format="json",
    )

    assert response.status_code == 201, response.json()
    event = LoanEvent.objects.get(loan_id=response.json()["id"])
    assert event.details["override"] == {"codes": [code], "reason": "urgent repair"}
    assert (event.door, event.username) == ("api", "manager")


def test_a_user_without_the_override_permission_is_403(api, settings, sato, manager):
    from django.contrib.auth.models import Permission

    ItemFactory(code="TO0001")
    at_the_limit(settings, sato)
    manager.groups.get().permissions.remove(Permission.objects.get(codename="override_rules"))

    response = api.as_user(manager).post(
        "/api/v1/loans/",
        body(override={"codes": ["LIMIT_REACHED"], "reason": "urgent"}),
        format="json",
    )

    assert (response.status_code, response.json()["code"]) == (403, "OVERRIDE_NOT_ALLOWED")


@pytest.mark.parametrize(
    "override",
    [
        {"codes": ["LIMIT_REACHED"], "reason": "   "},
        {"codes": [], "reason": "urgent"},
        {"codes": ["ITEM_ON_LOAN"], "reason": "urgent"},
        {"codes": ["LIMIT_REACHED"]},
        "LIMIT_REACHED",
    ],
)
def test_a_malformed_override_is_400(api, manager, sato, override):
    ItemFactory(code="TO0001")
    response = api.as_user(manager).post("/api/v1/loans/", body(override=override), format="json")
    assert (response.status_code, response.json()["code"]) == (400, "INVALID")
    assert not Loan.objects.exists()


def test_the_answer_carries_the_warnings(api, manager, sato, settings, english):
    settings.CALIBRATION_WARN_DAYS = 14
    ItemFactory(
        code="TO0001",
        name="Micrometer",
        calibration_due=timezone.localdate() + datetime.timedelta(days=3),
    )

    response = api.as_user(manager).post("/api/v1/loans/", body(), format="json")

    assert response.status_code == 201
    (warning,) = response.json()["warnings"]
    assert warning["code"] == "CALIBRATION_DUE_SOON"
    assert "Micrometer is due for calibration" in warning["message"]


def test_a_loan_without_news_has_no_warnings(api, manager, sato):
    ItemFactory(code="TO0001")
    response = api.as_user(manager).post("/api/v1/loans/", body(), format="json")
    assert response.json()["warnings"] == []


def test_the_schema_documents_the_warnings_the_override_and_the_codes(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    borrowed = schema["components"]["schemas"]["Borrowed"]
    assert "warnings" in borrowed["properties"]
    assert "CALIBRATION_DUE_SOON" in str(schema["components"]["schemas"]["Warning"])
    request = schema["components"]["schemas"]["BorrowRequest"]["properties"]
    assert {"answers", "override"} <= set(request)
    conflict = schema["paths"]["/api/v1/loans/"]["post"]["responses"]["409"]["description"]
    for code in ["LIMIT_REACHED", "HAS_OVERDUE", "NOT_QUALIFIED", "CALIBRATION_EXPIRED"]:
        assert code in conflict
    assert "INSPECTION_FAILED" in conflict
