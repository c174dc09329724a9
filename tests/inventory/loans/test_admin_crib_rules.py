"""The crib's rules at the admin door: a refusal says which rule and why, the form comes back
filled in, and a manager may lend against the rule with a reason."""

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from inventory.loans import services
from inventory.loans.models import Door, Loan, LoanEvent
from tests.factories import EmployeeFactory, ItemFactory

pytestmark = pytest.mark.django_db
ADD = "/admin/loans/loan/add/"


@pytest.fixture
def full_hands(settings):
    """Sato holds one tool and the limit is one."""
    settings.LOAN_LIMIT_PER_PERSON = 1
    sato = EmployeeFactory(name="Sato")
    services.borrow(item=ItemFactory(name="Caliper"), employee=sato, door=Door.API)
    return sato, ItemFactory(name="Wrench")


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


def test_a_refusal_names_the_rule_and_brings_the_form_back_filled_in(client, staff, full_hands):
    sato, wrench = full_hands

    response = client.post(ADD, {"item": wrench.pk, "employee": sato.pk}, follow=True)

    (message,) = messages_of(response)
    assert message.startswith("LIMIT_REACHED: Sato holds 1 tools (Caliper)")
    form = response.context["adminform"].form
    assert (form.initial["item"], form.initial["employee"]) == (str(wrench.pk), str(sato.pk))
    assert Loan.objects.open().filter(employee=sato).count() == 1


def test_a_manager_lends_against_the_rule_with_a_reason(client, staff, full_hands):
    sato, wrench = full_hands

    response = client.post(
        ADD,
        {
            "item": wrench.pk,
            "employee": sato.pk,
            "override": ["LIMIT_REACHED"],
            "override_reason": "second shift needs it",
        },
    )

    assert response.status_code == 302
    loan = Loan.objects.get(item=wrench)
    event = LoanEvent.objects.get(loan=loan)
    assert event.details["override"] == {
        "codes": ["LIMIT_REACHED"],
        "reason": "second shift needs it",
    }
    assert (event.door, event.username) == ("admin", "manager")


def test_an_override_without_a_reason_is_not_accepted(client, staff, full_hands):
    sato, wrench = full_hands

    response = client.post(
        ADD, {"item": wrench.pk, "employee": sato.pk, "override": ["LIMIT_REACHED"]}
    )

    assert response.status_code == 200
    assert "override_reason" in response.context["adminform"].form.errors
    assert not Loan.objects.filter(item=wrench).exists()


def test_the_override_is_offered_only_to_those_who_may_use_it(client, staff):
    assert "override_reason" in client.get(ADD).content.decode()
    staff.groups.get().permissions.remove(Permission.objects.get(codename="override_rules"))
    assert "override_reason" not in client.get(ADD).content.decode()


def test_a_loan_made_with_a_warning_says_so(client, staff, settings):
    settings.CALIBRATION_WARN_DAYS = 14
    item = ItemFactory(
        name="Micrometer", calibration_due=timezone.localdate() + datetime.timedelta(days=2)
    )

    response = client.post(ADD, {"item": item.pk, "employee": EmployeeFactory().pk}, follow=True)

    assert any("Micrometer is due for calibration" in text for text in messages_of(response))
    assert Loan.objects.filter(item=item).exists()


@pytest.mark.parametrize(
    "path",
    [
        "/admin/items/category/",
        "/admin/items/category/add/",
        "/admin/items/calibration/",
        "/admin/items/calibration/add/",
        "/admin/items/item/calibration-due/",
        "/admin/employees/qualification/",
        "/admin/employees/shift/",
        "/admin/employees/shift/add/",
        "/admin/loans/closedday/",
        "/admin/loans/closedday/add/",
        "/admin/loans/closedday/import/",
        "/admin/loans/inspection/",
        "/admin/loans/inspection/export/",
        "/admin/",
    ],
)
def test_the_pages_of_the_rules_open_for_a_manager_in_both_languages(client, staff, path):
    for language in ("en", "ja"):
        assert client.get(path, HTTP_ACCEPT_LANGUAGE=language).status_code == 200, path
