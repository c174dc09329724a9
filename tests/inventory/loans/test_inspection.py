"""The check before use of a tool whose category carries a checklist: all OK lends it, any NG
refuses the borrow, keeps the record and sends the tool to maintenance."""

import csv
import datetime
import io

import pytest
from django.db import transaction

from inventory.core.errors import (
    InspectionFailed,
    InspectionRequired,
    InvalidRequest,
    ItemOnLoan,
    LimitReached,
)
from inventory.items.models import Item
from inventory.loans import services
from inventory.loans.models import Door, Inspection, Loan, LoanEvent
from kiosk import actions
from tests.factories import CategoryFactory, EmployeeFactory, ItemFactory, take_over_from_holder

pytestmark = pytest.mark.django_db


@pytest.fixture
def megger():
    CategoryFactory(name="Insulation testers", checklist="Cable undamaged\nZero checked\n")
    return ItemFactory(code="MG0001", name="Megger", category="Insulation testers")


def borrow(item, employee=None, **how):
    return services.borrow(item=item, employee=employee or EmployeeFactory(), door=Door.API, **how)


def test_a_tool_with_a_checklist_is_not_lent_without_the_answers(megger, english):
    with pytest.raises(InspectionRequired) as refused:
        borrow(megger)
    assert refused.value.code == "INSPECTION_REQUIRED"
    assert refused.value.message == (
        "Megger is checked before each use: answer its 2 checks to borrow it."
    )
    assert refused.value.params["checks"] == ["Cable undamaged", "Zero checked"]
    assert not Loan.objects.exists()
    assert not Inspection.objects.exists()


def test_all_ok_lends_it_and_the_loan_keeps_its_check(megger):
    person = EmployeeFactory(code="E0001")

    loan = borrow(megger, person, answers=[True, True])

    inspection = loan.inspection
    assert inspection.passed
    assert inspection.answers == [
        {"check": "Cable undamaged", "ok": True},
        {"check": "Zero checked", "ok": True},
    ]
    assert (inspection.item_code, inspection.employee_code, inspection.door) == (
        "MG0001",
        "E0001",
        "api",
    )


def test_an_ng_refuses_keeps_the_check_and_sends_the_tool_to_maintenance(megger, english):
    with pytest.raises(InspectionFailed) as refused:
        borrow(megger, answers=[True, False])

    assert refused.value.code == "INSPECTION_FAILED"
    assert "(Zero checked)" in refused.value.message
    assert "maintenance" in refused.value.message
    assert not Loan.objects.exists()
    inspection = Inspection.objects.get()
    assert not inspection.passed
    assert inspection.failed_checks == ["Zero checked"]
    megger.refresh_from_db()
    assert megger.status == Item.Status.MAINTENANCE


def test_an_ng_inside_a_larger_transaction_is_kept_when_the_caller_goes_on(megger):
    """The kiosk records a batch of taps in one transaction and carries on after a refusal."""
    with transaction.atomic(), pytest.raises(InspectionFailed):
        borrow(megger, answers=[False, False])
    assert Inspection.objects.filter(passed=False).count() == 1


@pytest.mark.parametrize("answers", [[True], [True, True, True], []])
def test_the_answers_must_match_the_checklist(megger, answers, english):
    with pytest.raises(InvalidRequest) as caught:
        borrow(megger, answers=answers)
    assert caught.value.message == (
        "Answer each of the 2 checks, in order: Cable undamaged / Zero checked."
    )
    assert not Inspection.objects.exists()


def test_answers_for_a_tool_without_a_checklist_are_refused(english):
    with pytest.raises(InvalidRequest) as caught:
        borrow(ItemFactory(), answers=[True])
    assert caught.value.message == "This tool has no checklist to answer."


def test_a_tool_out_on_loan_is_not_checked_by_someone_else(megger, english):
    at = datetime.datetime(2026, 11, 24, 9, 30, tzinfo=datetime.UTC)
    borrow(megger, EmployeeFactory(name="Sato", code="E0007"), answers=[True, True], at=at)
    with pytest.raises(ItemOnLoan) as caught:
        borrow(megger, answers=[False, False])
    assert caught.value.message == (
        "Megger (MG0001) is already on loan to Sato (E0007) since 11/24/2026 18:30. Ask them to "
        "return it first, or tap it at a kiosk to return it and press “Take over”."
    )
    assert Inspection.objects.count() == 1
    megger.refresh_from_db()
    assert megger.status == Item.Status.AVAILABLE


def test_an_inspection_records_where_by_whom_and_for_whom_as_they_were(megger, manager):
    station, _token, _code = actions.create_station(name="Crib 2")
    person = EmployeeFactory(name="Sato", code="E0007")
    with services.lock_tool(megger.pk) as tool:
        tool.inspect(person, answers=[True, False], door=Door.KIOSK, by=manager, station=station)

    inspection = Inspection.objects.get()
    assert (
        inspection.username,
        inspection.station,
        inspection.station_name,
        inspection.employee_code,
        inspection.employee_name,
        inspection.passed,
    ) == ("manager", station, "Crib 2", "E0007", "Sato", False)


def test_an_inspection_without_a_user_or_station_records_neither(megger):
    with services.lock_tool(megger.pk) as tool:
        tool.inspect(EmployeeFactory(), answers=[True, True], door=Door.API)

    inspection = Inspection.objects.get()
    assert (inspection.username, inspection.station, inspection.station_name) == ("", None, "")


def test_a_passed_check_is_undone_with_a_borrow_another_rule_refuses(megger, settings):
    settings.LOAN_LIMIT_PER_PERSON = 1
    person = EmployeeFactory()
    borrow(ItemFactory(), person)
    with pytest.raises(LimitReached):
        borrow(megger, person, answers=[True, True])
    assert not Inspection.objects.exists()


def test_a_manager_may_lend_without_the_check_saying_why(megger, manager):
    loan = borrow(
        megger,
        by=manager,
        override=services.Override(
            reason="checked at the counter", codes=frozenset({"INSPECTION_REQUIRED"})
        ),
    )
    assert loan.inspection is None
    assert LoanEvent.objects.get(loan=loan).details["override"]["codes"] == ["INSPECTION_REQUIRED"]


def test_a_take_over_needs_no_check_before_use(megger):
    borrow(megger, answers=[True, True])
    _returned, loan = take_over_from_holder(item=megger, employee=EmployeeFactory())
    assert loan.is_open


# The API door.


def test_the_api_lends_with_the_answers(api, manager, megger):
    EmployeeFactory(code="E0001")
    body = {"item": "MG0001", "employee": "E0001", "answers": [True, True]}

    response = api.as_user(manager).post("/api/v1/loans/", body, format="json")

    assert response.status_code == 201
    assert Loan.objects.get().inspection.passed


@pytest.mark.parametrize(
    ("answers", "status", "code"),
    [
        (None, 409, "INSPECTION_REQUIRED"),
        ([True, False], 409, "INSPECTION_FAILED"),
        ([True], 400, "INVALID"),
        (["maybe", True], 400, "INVALID"),
    ],
)
def test_the_api_refuses_what_the_check_refuses(api, manager, megger, answers, status, code):
    EmployeeFactory(code="E0001")
    body = {"item": "MG0001", "employee": "E0001"}
    if answers is not None:
        body["answers"] = answers

    response = api.as_user(manager).post("/api/v1/loans/", body, format="json")

    assert (response.status_code, response.json()["code"]) == (status, code)
    assert not Loan.objects.exists()


def test_the_api_lists_the_checks_with_their_answers(api, viewer, megger):
    with pytest.raises(InspectionFailed):
        borrow(megger, EmployeeFactory(code="E0001"), answers=[False, True])

    body = api.as_user(viewer).get("/api/v1/inspections/", {"passed": "false"}).json()

    (row,) = body["results"]
    assert row["passed"] is False
    assert row["item"] == {"code": "MG0001", "name": "Megger"}
    assert row["answers"][0] == {"check": "Cable undamaged", "ok": False}
    assert row["loan"] is None


# The admin door: the records and their export.


def test_the_admin_exports_every_check_as_csv(client, staff, megger):
    loan = borrow(megger, EmployeeFactory(code="E0001"), answers=[True, True])
    services.return_loan(loan=loan, door=Door.API)
    with pytest.raises(InspectionFailed):
        borrow(megger, EmployeeFactory(code="E0002"), answers=[True, False])

    response = client.get("/admin/loans/inspection/export/", {"download": "1"})

    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:3] == ["When", "Result", "Tool code"]
    assert [(row[1], row[4], row[6], row[7]) for row in rows[1:]] == [
        ("Passed", "E0001", "OK: Cable undamaged; OK: Zero checked", str(loan.pk)),
        ("Failed", "E0002", "OK: Cable undamaged; NG: Zero checked", ""),
    ]


def test_the_admin_shows_a_check_with_its_answers(client, staff, megger):
    borrow(megger, answers=[True, True])
    page = client.get(f"/admin/loans/inspection/{Inspection.objects.get().pk}/change/")
    assert page.status_code == 200
    assert "OK: Zero checked" in page.content.decode()
