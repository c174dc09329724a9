import pytest
from django.contrib.auth.models import User

from inventory.employees.models import Employee
from inventory.loans import services
from inventory.loans.models import Door, Loan, LoanEvent
from tests.factories import EmployeeFactory, ItemFactory, LoanFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_manager(manager, client):
    manager.is_staff = True
    manager.save()
    client.force_login(manager)
    return manager


def open_loans(count):
    return [
        services.borrow(item=ItemFactory(), employee=EmployeeFactory(), door=Door.KIOSK)
        for _ in range(count)
    ]


def test_the_return_action_goes_through_the_service(client, staff_manager):
    loans = open_loans(2)

    response = client.post(
        "/admin/loans/loan/",
        {"action": "return_selected", "_selected_action": [loan.pk for loan in loans]},
        follow=True,
    )

    assert response.status_code == 200
    assert Loan.objects.open().count() == 0
    events = LoanEvent.objects.filter(kind="return")
    assert events.count() == 2
    assert {(e.door, e.username) for e in events} == {("admin", "manager")}


def test_the_damaged_return_action_sends_tools_to_maintenance(client, staff_manager):
    (loan,) = open_loans(1)
    client.post(
        "/admin/loans/loan/",
        {"action": "return_selected_damaged", "_selected_action": [loan.pk]},
    )
    loan.item.refresh_from_db()
    assert loan.item.status == "maintenance"


def test_the_cancel_action_reports_loans_that_were_not_open(client, staff_manager):
    loans = open_loans(2)
    services.return_loan(loan=loans[0], door=Door.KIOSK)

    response = client.post(
        "/admin/loans/loan/",
        {"action": "cancel_selected", "_selected_action": [loan.pk for loan in loans]},
        follow=True,
    )

    loans[1].refresh_from_db()
    assert loans[1].cancelled_at is not None
    assert LoanEvent.objects.filter(kind="cancel").count() == 1
    texts = [str(m) for m in response.context["messages"]]
    assert any(str(loans[0]) in text for text in texts)


def test_lending_from_the_admin_goes_through_the_service(client, staff_manager):
    item, employee = ItemFactory(), EmployeeFactory()

    response = client.post(
        "/admin/loans/loan/add/", {"item": item.pk, "employee": employee.pk, "note": "棚卸し"}
    )

    assert response.status_code == 302
    loan = Loan.objects.get()
    assert (loan.door, loan.borrowed_by, loan.note) == ("admin", staff_manager, "棚卸し")
    assert LoanEvent.objects.get().kind == "borrow"


def test_lending_a_tool_already_out_shows_the_reason_instead_of_an_error(client, staff_manager):
    (loan,) = open_loans(1)

    response = client.post(
        "/admin/loans/loan/add/",
        {"item": loan.item.pk, "employee": EmployeeFactory().pk},
        follow=True,
    )

    assert response.status_code == 200
    assert Loan.objects.count() == 1
    assert any(loan.employee.name in str(m) for m in response.context["messages"])


def test_loan_state_cannot_be_edited_around_the_services(client, staff_manager):
    (loan,) = open_loans(1)
    client.post(
        f"/admin/loans/loan/{loan.pk}/change/",
        {"returned_at_0": "2026-01-01", "returned_at_1": "10:00", "note": "x"},
    )
    loan.refresh_from_db()
    assert loan.is_open


def test_deleting_an_employee_with_history_is_refused(client, staff_manager):
    loan = LoanFactory()
    superuser = User.objects.create_superuser("root", password="root-pass-123")
    client.force_login(superuser)

    response = client.post(f"/admin/employees/employee/{loan.employee_id}/delete/", {"post": "yes"})

    assert Employee.objects.filter(pk=loan.employee_id).exists()
    assert response.status_code == 200
    assert response.context["protected"]  # the page lists the loans that protect the record


def test_history_is_read_only_even_for_a_superuser(client):
    LoanFactory()
    services.borrow(item=ItemFactory(), employee=EmployeeFactory(), door=Door.KIOSK)
    client.force_login(User.objects.create_superuser("root", password="root-pass-123"))
    event = LoanEvent.objects.get()
    assert client.get(f"/admin/loans/loanevent/{event.pk}/delete/").status_code == 403
    assert client.get("/admin/loans/loanevent/add/").status_code == 403


def test_a_viewer_sees_loans_but_has_no_actions(client, viewer):
    viewer.is_staff = True
    viewer.save()
    client.force_login(viewer)
    open_loans(1)
    response = client.get("/admin/loans/loan/")
    assert response.status_code == 200
    assert "return_selected" not in response.content.decode()
