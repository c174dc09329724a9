import datetime

from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from inventory.core.search import text_or_uid

_lower = lazy(lambda text: str(text).lower(), str)

# A qualification warns managers this long before it runs out (the daily summary, the overdue
# page): time enough to book the renewal course.
QUALIFICATION_WARN = datetime.timedelta(days=30)


class Shift(models.Model):
    """When a group of people stops work: their loans fall due at its end, not at
    LOAN_DUE_TIME. A night shift (22:00–06:00) crosses midnight: its loans are due the morning
    after the working day it began on."""

    name = models.CharField(_("name"), max_length=50, unique=True)
    starts_at = models.TimeField(_("starts at"))
    ends_at = models.TimeField(
        _("ends at"),
        help_text=_(
            "Loans of the people on this shift are due at this time. Earlier than the start "
            "means the shift ends the next morning."
        ),
    )

    class Meta:
        verbose_name = _("shift")
        verbose_name_plural = _("shifts")
        ordering = ["starts_at", "name"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(starts_at=models.F("ends_at")),
                name="shift_has_a_length",
                violation_error_message=_("A shift cannot end when it starts."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.starts_at:%H:%M}–{self.ends_at:%H:%M})"

    @property
    def crosses_midnight(self) -> bool:
        return self.ends_at < self.starts_at


class Qualification(models.Model):
    """A training or licence that some tools require (a category names it)."""

    name = models.CharField(
        _("name"),
        max_length=100,
        unique=True,
        # The master file lists a person's qualifications in one cell, separated by ";".
        validators=[RegexValidator(r"^[^;\n]+$", _("A name cannot contain “;” or line breaks."))],
        help_text=_(
            "A training or licence, for example “torque tools, trained”. A category that "
            "requires it lends its tools only to people who hold it, not expired."
        ),
    )

    class Meta:
        verbose_name = _("qualification")
        verbose_name_plural = _("qualifications")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class EmployeeQuerySet(models.QuerySet):
    def search(self, term: str):
        """Code, name, reading (kana) or any of the person's tag UIDs."""
        return text_or_uid(self, term, fields=["code", "name", "reading"])


class Employee(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        INACTIVE = "inactive", _("Inactive")
        SUSPENDED = "suspended", _("Suspended")

    code = models.CharField(_("employee code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    reading = models.CharField(
        _("reading"), max_length=100, blank=True, help_text=_("Kana, used to sort and search.")
    )
    department = models.CharField(_("department"), max_length=100, blank=True)
    contact = models.CharField(_("contact"), max_length=200, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE
    )
    notes = models.TextField(_("notes"), blank=True)
    shift = models.ForeignKey(
        Shift,
        verbose_name=_("shift"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="employees",
        help_text=_(
            "The person's loans are due at the end of this shift instead of the end of the "
            "working day (LOAN_DUE_TIME)."
        ),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = EmployeeQuerySet.as_manager()

    class Meta:
        verbose_name = _("employee")
        verbose_name_plural = _("employees")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["active", "inactive", "suspended"]),
                name="employee_status_valid",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def status_label(self):
        """The status in words, translated when it is shown (not when it is read), in lower
        case: it is said in the middle of a sentence ("Alice is suspended and cannot ...")."""
        return _lower(self.Status(self.status).label)

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


class HeldQualificationQuerySet(models.QuerySet):
    def expiring(self, today: datetime.date):
        """Still valid today and running out within QUALIFICATION_WARN, the soonest first."""
        return (
            self.filter(expires_on__gte=today, expires_on__lte=today + QUALIFICATION_WARN)
            .select_related("employee", "qualification")
            .order_by("expires_on", "employee__code")
        )


class HeldQualification(models.Model):
    employee = models.ForeignKey(
        Employee,
        verbose_name=_("employee"),
        on_delete=models.CASCADE,
        related_name="qualifications",
    )
    qualification = models.ForeignKey(
        Qualification,
        verbose_name=_("qualification"),
        on_delete=models.PROTECT,
        related_name="holders",
    )
    expires_on = models.DateField(
        _("valid until"),
        null=True,
        blank=True,
        help_text=_(
            "The last day it is valid; empty if it never expires. From the next day the person "
            "cannot borrow tools that need it."
        ),
    )

    objects = HeldQualificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("qualification held")
        verbose_name_plural = _("qualifications held")
        ordering = ["qualification__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["employee", "qualification"],
                name="qualification_held_once",
                violation_error_message=_("This person already holds this qualification."),
            )
        ]

    def __str__(self) -> str:
        return str(self.qualification)

    def valid_on(self, day: datetime.date) -> bool:
        return self.expires_on is None or self.expires_on >= day
