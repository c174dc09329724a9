"""A reminder shortly before a loan falls due: once per loan, however often the job runs."""

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from inventory.loans import services
from inventory.loans.models import Door
from inventory.ops.jobs import reminders
from inventory.ops.models import Notification
from tests.factories import EmployeeFactory, ItemFactory

NOW = timezone.now()
MINUTES = datetime.timedelta(minutes=1)


@pytest.fixture
def soon(db, settings):
    """Sato's caliper is due in 20 minutes; the reminder goes 30 minutes before."""
    settings.REMINDER_BEFORE_DUE_MINUTES = 30
    settings.REMINDER_WEBHOOK_URL = ""
    sato = EmployeeFactory(name="Sato", contact="sato@example.com")
    return services.borrow(
        item=ItemFactory(name="Caliper"),
        employee=sato,
        door=Door.API,
        at=NOW - 60 * MINUTES,
        due_at=NOW + 20 * MINUTES,
    )


def test_the_holder_is_told_once_before_the_loan_falls_due(soon):
    for minute in range(5):  # the job runs every minute
        reminders.send_due_soon_reminders(now=NOW + minute * MINUTES)

    (message,) = mail.outbox
    assert message.to == ["sato@example.com"]
    assert "Caliper" in message.subject
    assert "Sato" in message.body
    notification = Notification.objects.get()
    assert (notification.kind, notification.recipient, notification.state) == (
        "due_soon",
        str(soon.pk),
        "sent",
    )


def test_a_loan_due_later_than_the_window_is_not_told_yet(soon):
    reminders.send_due_soon_reminders(now=NOW - 20 * MINUTES)
    assert mail.outbox == []
    reminders.send_due_soon_reminders(now=NOW)
    assert len(mail.outbox) == 1


def test_returned_and_overdue_loans_are_not_told(soon):
    services.return_loan(loan=soon, door=Door.API)
    reminders.send_due_soon_reminders(now=NOW)
    overdue = services.borrow(
        item=ItemFactory(),
        employee=soon.employee,
        door=Door.API,
        at=NOW - 60 * MINUTES,
        due_at=NOW - MINUTES,
    )
    reminders.send_due_soon_reminders(now=NOW)
    assert mail.outbox == []
    assert not Notification.objects.filter(recipient=str(overdue.pk)).exists()


def test_nothing_is_sent_when_the_setting_is_zero(soon, settings):
    settings.REMINDER_BEFORE_DUE_MINUTES = 0
    reminders.send_due_soon_reminders(now=NOW)
    assert mail.outbox == []
