"""Overdue reminders: one digest per person per day, one summary for the managers.

At most once, enforced by the database. Each (kind, recipient, day, channel) is a unique
Notification row, inserted and committed ("claimed") BEFORE the message goes out, then marked
sent. A retried or restarted job finds the row and skips it, so nobody gets the same day's
digest twice. The price is the crash window: if the process dies after the claim and before
the mark, that message may never have left, and it is not resent that day (the row stays
"sending" in the admin; tomorrow's digest still lists what is overdue). A send that fails with
an error is known not to have gone out: its row is marked failed and a retry may claim it again.
Sending happens here, in a scheduled job, never inside a loan's transaction.
"""

import datetime
import logging
from dataclasses import dataclass
from itertools import groupby

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from inventory.loans.models import Loan
from inventory.ops.jobs import notify
from inventory.ops.jobs.runs import last_restore_at
from inventory.ops.models import Notification

logger = logging.getLogger(__name__)


class RemindersFailed(Exception):
    pass


@dataclass
class ReminderCounts:
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    unreachable: int = 0


def send_overdue_reminders(*, now=None) -> ReminderCounts:
    """Send today's digests and summary; raise RemindersFailed (after trying every one) when a
    send failed, so the job is retried and only the failed ones go out again."""
    now = now or timezone.now()
    day = timezone.localdate(now)
    counts = ReminderCounts()
    loans = list(_reminder_loans(now))
    with translation.override(settings.LANGUAGE_CODE):
        for employee, group in groupby(loans, key=lambda loan: loan.employee):
            group = list(group)
            address = notify.email_address(employee.contact)
            if not address and not settings.REMINDER_WEBHOOK_URL:
                counts.unreachable += 1
                continue
            subject, body = _digest(employee, group)
            _deliver(
                Notification.Kind.OVERDUE_DIGEST,
                str(employee.pk),
                day,
                subject,
                body,
                emails=[address] if address else [],
                counts=counts,
            )
        if loans:
            subject, body = _summary(loans)
            _deliver(
                Notification.Kind.MANAGER_SUMMARY,
                "managers",
                day,
                subject,
                body,
                emails=notify.manager_emails(),
                counts=counts,
            )
    if counts.failed:
        raise RemindersFailed(
            ngettext(
                "%(count)d reminder could not be sent; the log says why. It will be tried again.",
                "%(count)d reminders could not be sent; the log says why. They will be tried "
                "again.",
                counts.failed,
            )
            % {"count": counts.failed}
        )
    return counts


QUIET_AFTER_RESTORE = datetime.timedelta(days=7)


def _reminder_loans(now):
    loans = Loan.objects.overdue(now).with_related().order_by("employee__code", "due_at", "pk")
    restored = last_restore_at()
    if restored is not None and now - restored < QUIET_AFTER_RESTORE:
        # The restored data may show loans as open that were returned after the archive was
        # taken: stay quiet about anything already overdue before the restore, for as long as
        # the crib needs to correct them in the admin. A tool really lost is reminded again.
        loans = loans.filter(due_at__gt=restored)
    return loans


def _deliver(kind, recipient, day, subject, body, *, emails, counts) -> None:
    sends = []
    if emails:
        sends.append(
            (
                Notification.Channel.EMAIL,
                lambda: notify.send_email(subject=subject, body=body, to=emails),
            )
        )
    if settings.REMINDER_WEBHOOK_URL:
        sends.append(
            (Notification.Channel.WEBHOOK, lambda: notify.post_webhook(text=f"{subject}\n{body}"))
        )
    for channel, send in sends:
        claim = _claim(kind=kind, recipient=recipient, day=day, channel=channel, subject=subject)
        if claim is None:
            counts.skipped += 1
            continue
        try:
            send()
        except Exception as error:
            logger.warning("Could not send %s to %s by %s: %s", kind, recipient, channel, error)
            Notification.objects.filter(pk=claim).update(
                state=Notification.State.FAILED, error=str(error)[:2000]
            )
            counts.failed += 1
            continue
        Notification.objects.filter(pk=claim).update(
            state=Notification.State.SENT, sent_at=timezone.now()
        )
        counts.sent += 1


def _claim(*, kind, recipient, day, channel, subject) -> int | None:
    """The id of the row this run may send, or None when another run has it (or sent it)."""
    key = {"kind": kind, "recipient": recipient, "day": day, "channel": channel}
    try:
        with transaction.atomic():
            return Notification.objects.create(
                **key, state=Notification.State.CLAIMED, claimed_at=timezone.now(), subject=subject
            ).pk
    except IntegrityError:
        # One UPDATE decides between two runs retrying the same failure: only one matches.
        retried = Notification.objects.filter(**key, state=Notification.State.FAILED).update(
            state=Notification.State.CLAIMED, claimed_at=timezone.now(), error=""
        )
        return Notification.objects.get(**key).pk if retried else None


def _digest(employee, loans) -> tuple[str, str]:
    subject = ngettext(
        "Toolcrib: %(count)d tool is overdue",
        "Toolcrib: %(count)d tools are overdue",
        len(loans),
    ) % {"count": len(loans)}
    lines = [
        _("%(name)s, please return these tools to the tool crib:") % {"name": employee.name},
        "",
        *(_line(loan) for loan in loans),
    ]
    return subject, "\n".join(lines)


def _summary(loans) -> tuple[str, str]:
    people = len({loan.employee_id for loan in loans})
    subject = _("Toolcrib: %(loans)d overdue loans, %(people)d people") % {
        "loans": len(loans),
        "people": people,
    }
    lines = [f"{loan.employee.code} {loan.employee.name}: {_line(loan)}" for loan in loans]
    return subject, "\n".join(lines)


def _line(loan) -> str:
    due = formats.date_format(timezone.localtime(loan.due_at), "SHORT_DATETIME_FORMAT")
    return _("%(code)s %(name)s (due %(due)s)") % {
        "code": loan.item.code,
        "name": loan.item.name,
        "due": due,
    }
