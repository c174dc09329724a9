import datetime
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.contrib.auth.models import Group, User
from django.core import mail
from django.db import connection
from django.utils import timezone

from inventory.loans import services
from inventory.loans.models import Door
from inventory.ops.jobs import notify, reminders
from inventory.ops.models import Notification, RestoreRun
from tests.factories import EmployeeFactory, HeldQualificationFactory, ItemFactory

NOW = timezone.now()
YESTERDAY = NOW - datetime.timedelta(days=1)


def overdue(employee, *, due=YESTERDAY):
    return services.borrow(
        item=ItemFactory(),
        employee=employee,
        door=Door.API,
        at=due - datetime.timedelta(hours=8),
        due_at=due,
    )


@pytest.fixture
def crew(db, settings):
    settings.REMINDER_WEBHOOK_URL = ""
    settings.REMINDER_MANAGER_EMAILS = ["crib-office@example.com"]
    boss = User.objects.create_user("boss", email="boss@example.com")
    boss.groups.add(Group.objects.get(name="Managers"))
    alice = EmployeeFactory(contact="alice@example.com")
    bob = EmployeeFactory(contact="bob@example.com")
    overdue(alice)
    overdue(alice, due=YESTERDAY - datetime.timedelta(days=2))
    overdue(bob)
    services.borrow(item=ItemFactory(), employee=bob, door=Door.API)  # not due yet
    return {"alice": alice, "bob": bob}


def sent_to():
    return sorted(tuple(message.to) for message in mail.outbox)


def test_one_digest_per_person_and_one_summary_however_often_the_job_runs(crew):
    for _ in range(3):  # a retry, a restarted consumer
        reminders.send_overdue_reminders(now=NOW)

    assert sent_to() == [
        ("alice@example.com",),
        ("bob@example.com",),
        ("boss@example.com", "crib-office@example.com"),
    ]
    alice = next(m for m in mail.outbox if m.to == ["alice@example.com"])
    assert alice.body.count("(") == 2  # both of her tools in one message
    assert Notification.objects.filter(state="sent").count() == 3


def test_the_next_day_brings_the_next_digest(crew):
    reminders.send_overdue_reminders(now=NOW)
    reminders.send_overdue_reminders(now=NOW + datetime.timedelta(days=1))

    assert len(mail.outbox) == 6


def test_a_failed_send_is_retried_alone(crew, monkeypatch):
    real = notify.send_email

    def smtp_down_for_bob(*, subject, body, to):
        if to == ["bob@example.com"]:
            raise ConnectionRefusedError("mail server down")
        real(subject=subject, body=body, to=to)

    monkeypatch.setattr(notify, "send_email", smtp_down_for_bob)
    with pytest.raises(reminders.RemindersFailed):
        reminders.send_overdue_reminders(now=NOW)
    assert Notification.objects.get(recipient=str(crew["bob"].pk)).state == "failed"

    monkeypatch.setattr(notify, "send_email", real)
    reminders.send_overdue_reminders(now=NOW)  # huey's retry

    assert sent_to().count(("alice@example.com",)) == 1
    assert sent_to().count(("bob@example.com",)) == 1
    assert len(mail.outbox) == 3


def test_a_claim_left_by_a_crash_is_never_sent_again_that_day(crew):
    Notification.objects.create(
        kind="overdue_digest",
        recipient=str(crew["alice"].pk),
        day=timezone.localdate(NOW),
        channel="email",
        state="claimed",
        claimed_at=NOW,
    )

    reminders.send_overdue_reminders(now=NOW)

    assert ("alice@example.com",) not in sent_to()


def test_nothing_is_sent_for_loans_already_overdue_before_a_restore(crew):
    RestoreRun.objects.create(
        restored_at=NOW - datetime.timedelta(hours=1), archive="x", archive_created_at=YESTERDAY
    )
    carol = EmployeeFactory(contact="carol@example.com")
    overdue(carol, due=NOW - datetime.timedelta(minutes=30))  # overdue since the restore

    reminders.send_overdue_reminders(now=NOW)

    assert sent_to() == [("boss@example.com", "crib-office@example.com"), ("carol@example.com",)]
    summary = next(m for m in mail.outbox if "boss@example.com" in m.to)
    assert carol.code in summary.body and crew["alice"].code not in summary.body


def test_a_week_after_a_restore_loans_overdue_since_before_it_are_reminded_again(crew):
    RestoreRun.objects.create(
        restored_at=NOW - datetime.timedelta(days=8),
        archive="x",
        archive_created_at=NOW - datetime.timedelta(days=9),
    )
    dave = EmployeeFactory(contact="dave@example.com")
    overdue(dave, due=NOW - datetime.timedelta(days=10))  # overdue before the restore: lost

    reminders.send_overdue_reminders(now=NOW)

    assert ("dave@example.com",) in sent_to()


def test_people_without_an_address_get_nothing_unless_there_is_a_webhook(crew):
    crew["alice"].contact = "内線 1234"
    crew["alice"].save()

    counts = reminders.send_overdue_reminders(now=NOW)

    assert counts.unreachable == 1
    assert ("alice@example.com",) not in sent_to()


@pytest.fixture
def webhook(settings):
    posts = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):
            posts.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.REMINDER_WEBHOOK_URL = f"http://127.0.0.1:{server.server_port}/hook"
    yield posts
    server.shutdown()


def test_the_webhook_gets_each_digest_and_the_summary_once(crew, webhook):
    reminders.send_overdue_reminders(now=NOW)
    reminders.send_overdue_reminders(now=NOW)

    assert len(webhook) == 3
    assert all(set(post) == {"text"} for post in webhook)
    assert any(crew["bob"].name in post["text"] for post in webhook)


def test_messages_are_sent_outside_any_transaction(transactional_db, settings, monkeypatch):
    settings.REMINDER_MANAGER_EMAILS = []
    overdue(EmployeeFactory(contact="dave@example.com"))
    in_transaction = []
    real = notify.send_email

    def watch(**kwargs):
        in_transaction.append(connection.in_atomic_block)
        real(**kwargs)

    monkeypatch.setattr(notify, "send_email", watch)
    reminders.send_overdue_reminders(now=NOW)

    assert in_transaction == [False]


# What else the managers' summary names.


def summary_body():
    return next(m for m in mail.outbox if "boss@example.com" in m.to).body


def test_the_summary_names_instruments_due_for_calibration_within_the_window(crew, settings):
    settings.CALIBRATION_WARN_DAYS = 14
    today = timezone.localdate(NOW)
    ItemFactory(code="MI-SOON", calibration_due=today + datetime.timedelta(days=14))
    ItemFactory(code="MI-LATE", calibration_due=today - datetime.timedelta(days=1))
    ItemFactory(code="MI-LATER", calibration_due=today + datetime.timedelta(days=15))

    reminders.send_overdue_reminders(now=NOW)

    body = summary_body()
    assert "MI-SOON" in body and "MI-LATE" in body
    assert "MI-LATER" not in body


def test_the_summary_names_qualifications_running_out_within_thirty_days(crew):
    today = timezone.localdate(NOW)
    soon = HeldQualificationFactory(
        qualification__name="玉掛け", expires_on=today + datetime.timedelta(days=30)
    )
    HeldQualificationFactory(
        qualification__name="フォークリフト", expires_on=today + datetime.timedelta(days=31)
    )

    reminders.send_overdue_reminders(now=NOW)

    body = summary_body()
    assert f"{soon.employee.code} {soon.employee.name}: 玉掛け" in body
    assert "フォークリフト" not in body


def test_the_summary_goes_out_for_instruments_even_when_nothing_is_overdue(db, settings):
    settings.REMINDER_WEBHOOK_URL = ""
    settings.REMINDER_MANAGER_EMAILS = ["crib-office@example.com"]
    ItemFactory(code="MI-SOON", calibration_due=timezone.localdate(NOW))

    reminders.send_overdue_reminders(now=NOW)

    assert sent_to() == [("crib-office@example.com",)]
    assert "MI-SOON" in mail.outbox[0].body
