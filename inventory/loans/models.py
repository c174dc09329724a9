import datetime
from functools import reduce
from operator import or_

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import Count, F, Q
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from inventory.employees.models import Employee
from inventory.items.models import Item

OPEN = Q(returned_at__isnull=True, cancelled_at__isnull=True)


class Door(models.TextChoices):
    """Where a change came from."""

    KIOSK = "kiosk", _("Kiosk")
    API = "api", _("API")
    ADMIN = "admin", _("Admin")
    IMPORT = "import", _("Import")


class LoanQuerySet(models.QuerySet):
    """One method per state of Loan.State; every list, filter, export and metric reads the
    states through these (or through `Loan.state`), so what "open" means is written once."""

    def open(self):
        return self.filter(OPEN)

    def overdue(self, now: datetime.datetime | None = None):
        return self.filter(_overdue(now or timezone.now()))

    def not_overdue(self, now: datetime.datetime | None = None):
        return self.exclude(_overdue(now or timezone.now()))

    def returned(self):
        return self.filter(returned_at__isnull=False)

    def cancelled(self):
        return self.filter(cancelled_at__isnull=False)

    def closed(self):
        """Returned or cancelled."""
        return self.exclude(OPEN)

    def in_state(self, state: str, now: datetime.datetime | None = None):
        """The loans in one of Loan.State's values; "open" includes the overdue ones."""
        match state:
            case Loan.State.OPEN:
                return self.open()
            case Loan.State.OVERDUE:
                return self.overdue(now)
            case Loan.State.RETURNED:
                return self.returned()
            case Loan.State.CANCELLED:
                return self.cancelled()
        raise ValueError(f"not a loan state: {state!r}")

    def counts(self, now: datetime.datetime | None = None) -> dict[str, int]:
        """{"open": n, "overdue": n} in one aggregate query (metrics, dashboard), over the open
        loans only: a few hundred rows from their partial index, not a year of loans."""
        return self.open().aggregate(
            open=Count("pk"), overdue=Count("pk", filter=_overdue(now or timezone.now()))
        )

    def search(self, term: str):
        """Loans whose person or tool matches the search box (code, name, reading, tag UID)."""
        if not term.strip():
            return self
        people, tools = matching_people_and_tools(term, "pk")
        return self.filter(Q(employee__in=people) | Q(item__in=tools))

    def with_related(self):
        return self.select_related("item", "employee")


def _overdue(now: datetime.datetime) -> Q:
    return OPEN & Q(due_at__lt=now)


def matching_people_and_tools(term: str, field: str) -> tuple[list, list]:
    """`field` of the people and of the tools the search box finds for `term`. They are read
    first, and the loans or history searched by the values: "person in (…) or tool in (…)" as
    subqueries is checked row by row over every loan, where a list of values is looked up in
    the indexes (the people and tools are a few thousand rows, the history millions)."""
    return (
        list(Employee.objects.search(term).values_list(field, flat=True)),
        list(Item.objects.search(term).values_list(field, flat=True)),
    )


class Loan(models.Model):
    class State(models.TextChoices):
        OPEN = "open", _("Open")
        OVERDUE = "overdue", _("Overdue")
        RETURNED = "returned", _("Returned")
        CANCELLED = "cancelled", _("Cancelled")

    class Condition(models.TextChoices):
        OK = "ok", _("OK")
        DAMAGED = "damaged", _("Damaged")

    # Indexed with their borrowed_at (Meta.indexes), not alone.
    item = models.ForeignKey(
        Item,
        verbose_name=_("tool"),
        on_delete=models.PROTECT,
        related_name="loans",
        db_index=False,
    )
    employee = models.ForeignKey(
        Employee,
        verbose_name=_("employee"),
        on_delete=models.PROTECT,
        related_name="loans",
        db_index=False,
    )
    borrowed_at = models.DateTimeField(_("borrowed at"), default=timezone.now)
    due_at = models.DateTimeField(_("due at"))
    returned_at = models.DateTimeField(_("returned at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    door = models.CharField(_("through"), max_length=16, choices=Door.choices)
    # Who did it when it was not the employee at a kiosk (a manager in the admin, an API user).
    borrowed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("lent by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("returned or cancelled by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    return_condition = models.CharField(
        _("return condition"), max_length=16, choices=Condition.choices, blank=True
    )
    note = models.TextField(_("note"), blank=True)
    station = models.ForeignKey(
        "kiosk.Station",
        verbose_name=_("borrowed at station"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="loans",
    )
    inspection = models.OneToOneField(
        "Inspection",
        verbose_name=_("check before use"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="loan",
    )

    objects = LoanQuerySet.as_manager()

    class Meta:
        verbose_name = _("loan")
        verbose_name_plural = _("loans")
        ordering = ["-borrowed_at", "-pk"]
        permissions = [("override_rules", _("Can lend against the crib's rules"))]
        constraints = [
            models.UniqueConstraint(
                fields=["item"],
                condition=OPEN,
                name="one_open_loan_per_item",
                violation_error_message=_("This tool is already on loan."),
            ),
            models.CheckConstraint(
                condition=Q(returned_at__isnull=True) | Q(cancelled_at__isnull=True),
                name="loan_not_both_returned_and_cancelled",
            ),
            models.CheckConstraint(
                condition=Q(returned_at__isnull=True) | Q(returned_at__gte=F("borrowed_at")),
                name="loan_returned_after_borrowed",
            ),
            models.CheckConstraint(
                condition=Q(due_at__gte=F("borrowed_at")), name="loan_due_after_borrowed"
            ),
        ]
        indexes = [
            # The lists' order, newest first; with the tool, so the dashboard counts a month's
            # loans by day, hour and tool from the index alone (80,000 loans: 25 ms, not 70).
            models.Index(fields=["borrowed_at"], include=["item"], name="loan_borrowed_at_idx"),
            # A person's or a tool's loans, newest first (their pages link to them, the API
            # filters by them): a page is the index's first rows, where the date's index alone
            # is walked past everyone else's loans (a busy person's: 20,000 rows a page). They
            # also serve every lookup by person or tool, as the foreign keys' own indexes did.
            models.Index(fields=["employee", "-borrowed_at"], name="loan_employee_time_idx"),
            models.Index(fields=["item", "-borrowed_at"], name="loan_item_time_idx"),
            models.Index(fields=["due_at"], condition=OPEN, name="open_loan_due_idx"),
            # What each person holds (the employees list): the open loans only, not the year.
            models.Index(fields=["employee"], condition=OPEN, name="open_loan_employee_idx"),
            # The few cancelled loans, newest first, without reading every loan to find them.
            models.Index(
                fields=["-borrowed_at"],
                condition=Q(cancelled_at__isnull=False),
                name="cancelled_loan_idx",
            ),
            # The loans lent in the admin or through the API (the kiosk lends nearly all).
            models.Index(
                fields=["door", "-borrowed_at"],
                condition=~Q(door="kiosk"),
                name="loan_not_kiosk_idx",
            ),
            # A tool's open loan, or else its last return, in one index step (lock_tool).
            # PostgreSQL puts NULLs first in a DESC index; SQLite refuses NULLS FIRST here.
            models.Index(
                "item",
                F("returned_at").desc(),
                condition=Q(cancelled_at__isnull=True),
                name="loan_latest_per_item_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item.code} → {self.employee.code}"

    @staticmethod
    def state_of(*, returned_at, cancelled_at, due_at, now: datetime.datetime) -> "Loan.State":
        """The state from the loan's times (the export reads them without making loans)."""
        if returned_at is not None:
            return Loan.State.RETURNED
        if cancelled_at is not None:
            return Loan.State.CANCELLED
        return Loan.State.OVERDUE if due_at < now else Loan.State.OPEN

    def state(self, now: datetime.datetime | None = None) -> "Loan.State":
        return self.state_of(
            returned_at=self.returned_at,
            cancelled_at=self.cancelled_at,
            due_at=self.due_at,
            now=now or timezone.now(),
        )

    @property
    def is_open(self) -> bool:
        return self.state() in (Loan.State.OPEN, Loan.State.OVERDUE)

    @property
    def time_out(self) -> datetime.timedelta:
        """How long the tool has been (or was) out."""
        return (self.returned_at or self.cancelled_at or timezone.now()) - self.borrowed_at

    def is_overdue(self, now: datetime.datetime | None = None) -> bool:
        return self.state(now) == Loan.State.OVERDUE


class LoanEventQuerySet(models.QuerySet):
    def search(self, term: str):
        """History entries of the people and tools the search box finds today (code, name,
        reading in kana, tag UIDs in any spelling: part of any), of the users whose name holds
        the term, and entries whose recorded code or name begins with it (a person renamed
        since is found under the name the entry recorded).

        Each alternative is a lookup in an index: the recorded codes of today's people and
        tools, the users' ids, and on PostgreSQL the recorded codes and names by their upper
        case, which also serves the beginning of a name (migration history_indexes). Any part of a
        recorded name would be a scan of the whole history: seconds for a year of it."""
        term = term.strip()
        if not term:
            return self
        people, tools = matching_people_and_tools(term, "code")
        users = (
            get_user_model().objects.filter(username__icontains=term).values_list("pk", flat=True)
        )
        return self.alias(
            upper_employee_code=Upper("employee_code"), upper_item_code=Upper("item_code")
        ).filter(
            Q(upper_employee_code__in=[code.upper() for code in people])
            | Q(upper_item_code__in=[code.upper() for code in tools])
            | Q(user__in=list(users))
            | reduce(or_, (Q(**{f"{field}__istartswith": term}) for field in RECORDED_NAMES))
        )


# What a history entry recorded of the person and the tool, searched by their beginning.
RECORDED_NAMES = ["employee_code", "employee_name", "item_code", "item_name"]


class LoanEvent(models.Model):
    """One immutable line of history.

    Names and codes are copied as they were at the time, so renaming a person or a tool later
    never rewrites what the history says happened.
    """

    class Kind(models.TextChoices):
        BORROW = "borrow", _("Borrowed")
        RETURN = "return", _("Returned")
        CANCEL = "cancel", _("Cancelled")
        HANDOVER = "handover", _("Handed over")
        REOPEN = "reopen", _("Return undone")
        DAMAGE = "damage", _("Damage reported")
        CORRECTION = "correction", _("Corrected")

    loan = models.ForeignKey(
        Loan, verbose_name=_("loan"), on_delete=models.PROTECT, related_name="events"
    )
    kind = models.CharField(_("what"), max_length=16, choices=Kind.choices)
    at = models.DateTimeField(_("when"), db_index=True)
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    door = models.CharField(_("through"), max_length=16, choices=Door.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    username = models.CharField(_("user name"), max_length=150, blank=True)
    station = models.ForeignKey(
        "kiosk.Station",
        verbose_name=_("station"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    station_name = models.CharField(_("station name"), max_length=100, blank=True)
    employee_code = models.CharField(_("employee code"), max_length=32)
    employee_name = models.CharField(_("employee name"), max_length=100)
    item_code = models.CharField(_("tool code"), max_length=32)
    item_name = models.CharField(_("tool name"), max_length=200)
    details = models.JSONField(_("details"), default=dict, blank=True)

    objects = LoanEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("history entry")
        verbose_name_plural = _("history")
        ordering = ["-at", "-pk"]
        indexes = [
            # The admin's filters by kind and door ask for the rare entries among millions:
            # these hold only those, so the kiosk's borrows and returns write none of them.
            models.Index(
                fields=["kind", "-at"],
                condition=~Q(kind__in=["borrow", "return"]),
                name="loanevent_rare_kind_idx",
            ),
            models.Index(
                fields=["door", "-at"], condition=~Q(door="kiosk"), name="loanevent_not_kiosk_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.item_code} {self.employee_code}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("History entries are immutable; record a correction instead.")
        super().save(*args, **kwargs)


class ClosedDayQuerySet(models.QuerySet):
    def between(self, first: datetime.date, last: datetime.date) -> set[datetime.date]:
        return set(self.filter(date__gte=first, date__lte=last).values_list("date", flat=True))


class ClosedDay(models.Model):
    """A day the crib is closed (a holiday, the New Year break): no loan falls due on it."""

    date = models.DateField(
        _("date"),
        unique=True,
        help_text=_(
            "No loan falls due on this day: one that would is due on the next working day "
            "(LOAN_WORKING_DAYS) that is not closed. A tool's own loan period is not moved."
        ),
    )
    name = models.CharField(_("name"), max_length=100, blank=True)

    objects = ClosedDayQuerySet.as_manager()

    class Meta:
        verbose_name = _("closed day")
        verbose_name_plural = _("closed days")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.name}".strip()


class Inspection(models.Model):
    """One check before use of a tool whose category has a checklist: the answers as they were
    given, by whom and where. A passed one is the loan's (`Loan.inspection`); a failed one
    refused the borrow and sent the tool to maintenance. Names, codes and the wording of the
    checks are copied, so later edits never rewrite it."""

    item = models.ForeignKey(
        Item, verbose_name=_("tool"), on_delete=models.PROTECT, related_name="inspections"
    )
    employee = models.ForeignKey(
        Employee, verbose_name=_("employee"), on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("when"), db_index=True)
    passed = models.BooleanField(_("passed"))
    # [{"check": "cable undamaged", "ok": true}, ...] in the checklist's order.
    answers = models.JSONField(_("answers"))
    door = models.CharField(_("through"), max_length=16, choices=Door.choices)
    username = models.CharField(_("user name"), max_length=150, blank=True)
    station = models.ForeignKey(
        "kiosk.Station",
        verbose_name=_("station"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    station_name = models.CharField(_("station name"), max_length=100, blank=True)
    employee_code = models.CharField(_("employee code"), max_length=32)
    employee_name = models.CharField(_("employee name"), max_length=100)
    item_code = models.CharField(_("tool code"), max_length=32)
    item_name = models.CharField(_("tool name"), max_length=200)

    class Meta:
        verbose_name = _("check before use")
        verbose_name_plural = _("checks before use")
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.item_code} {self.employee_code} {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Inspections are immutable.")
        super().save(*args, **kwargs)

    @property
    def failed_checks(self) -> list[str]:
        return [answer["check"] for answer in self.answers if not answer["ok"]]

    @staticmethod
    def describe(answers: list[dict]) -> list[str]:
        """ "OK: cable undamaged" for each answer, as the exports and the admin show them."""
        said = {
            True: str(pgettext_lazy("check before use", "OK")),
            False: str(pgettext_lazy("check before use", "NG")),
        }
        return [f"{said[answer['ok']]}: {answer['check']}" for answer in answers]
