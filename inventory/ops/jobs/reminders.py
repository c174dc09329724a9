"""Reminders: one overdue digest per person per day, one summary for the managers (overdue
loans, instruments due for calibration, qualifications running out), and optionally one
reminder per loan shortly before it falls due.

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

from inventory.employees.models import QUALIFICATION_WARN, HeldQualification
from inventory.items.models import Item
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
        instruments = list(
            Item.objects.calibration_due_by(
                day + datetime.timedelta(days=settings.CALIBRATION_WARN_DAYS)
            )
        )
        expiring = list(HeldQualification.objects.expiring(day))
        if loans or instruments or expiring:
            subject, body = _summary(loans, instruments, expiring)
            _deliver(
                Notification.Kind.MANAGER_SUMMARY,
                "managers",
                day,
                subject,
                body,
                emails=notify.manager_emails(),
                counts=counts,
            )
    _raise_if_failed(counts)
    return counts


def _raise_if_failed(counts: ReminderCounts) -> None:
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


def send_due_soon_reminders(*, now=None) -> ReminderCounts:
    """Tell each holder of a loan falling due within REMINDER_BEFORE_DUE_MINUTES, once per loan
    (the loan's id is the claim's recipient; a due time corrected to another day is told
    again). Run every minute; raises RemindersFailed like the digests."""
    now = now or timezone.now()
    counts = ReminderCounts()
    window = datetime.timedelta(minutes=settings.REMINDER_BEFORE_DUE_MINUTES)
    if not window:
        return counts
    loans = Loan.objects.open().filter(due_at__gt=now, due_at__lte=now + window).with_related()
    told = set(
        Notification.objects.filter(
            kind=Notification.Kind.DUE_SOON, day__gte=timezone.localdate(now)
        ).values_list("recipient", flat=True)
    )
    with translation.override(settings.LANGUAGE_CODE):
        for loan in loans.order_by("due_at", "pk"):
            if str(loan.pk) in told:
                continue
            address = notify.email_address(loan.employee.contact)
            if not address and not settings.REMINDER_WEBHOOK_URL:
                counts.unreachable += 1
                continue
            subject = _("Toolcrib: %(item)s is due at %(time)s") % {
                "item": loan.item.name,
                "time": formats.time_format(timezone.localtime(loan.due_at), "TIME_FORMAT"),
            }
            body = _("%(name)s, please return this tool to the tool crib in time:") % {
                "name": loan.employee.name
            }
            _deliver(
                Notification.Kind.DUE_SOON,
                str(loan.pk),
                timezone.localdate(loan.due_at),
                subject,
                f"{body}\n\n{_line(loan)}",
                emails=[address] if address else [],
                counts=counts,
            )
    _raise_if_failed(counts)
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


def _summary(loans, instruments, expiring) -> tuple[str, str]:
    people = len({loan.employee_id for loan in loans})
    subject = _("Toolcrib: %(loans)d overdue loans, %(people)d people") % {
        "loans": len(loans),
        "people": people,
    }
    lines = [f"{loan.employee.code} {loan.employee.name}: {_line(loan)}" for loan in loans]
    if instruments:
        lines += [
            "",
            _("Calibration due within %(days)d days:") % {"days": settings.CALIBRATION_WARN_DAYS},
            *(
                _("%(code)s %(name)s (due %(due)s)")
                % {"code": item.code, "name": item.name, "due": _date(item.calibration_due)}
                for item in instruments
            ),
        ]
    if expiring:
        lines += [
            "",
            _("Qualifications expiring within %(days)d days:") % {"days": QUALIFICATION_WARN.days},
            *(
                f"{held.employee.code} {held.employee.name}: {held.qualification.name} "
                f"({_date(held.expires_on)})"
                for held in expiring
            ),
        ]
    return subject, "\n".join(lines)


def _date(day: datetime.date) -> str:
    return formats.date_format(day, "SHORT_DATE_FORMAT")


def _line(loan) -> str:
    due = formats.date_format(timezone.localtime(loan.due_at), "SHORT_DATETIME_FORMAT")
    return _("%(code)s %(name)s (due %(due)s)") % {
        "code": loan.item.code,
        "name": loan.item.name,
        "due": due,
    }
