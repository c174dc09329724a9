import datetime

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inventory.core.search import text_or_uid
from inventory.core.uids import normalize_uid
from inventory.employees.models import Employee

LOAN_PERIOD_MIN = datetime.timedelta(minutes=1)
LOAN_PERIOD_MAX = datetime.timedelta(days=366)


class ItemQuerySet(models.QuerySet):
    def search(self, term: str):
        """Code, name, category, location or any of the tool's tag UIDs."""
        return text_or_uid(self, term, fields=["code", "name", "category", "location"])


class Item(models.Model):
    class Status(models.TextChoices):
        AVAILABLE = "available", _("Available")
        MAINTENANCE = "maintenance", _("Maintenance")
        RETIRED = "retired", _("Retired")

    code = models.CharField(_("tool code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=200)
    category = models.CharField(_("category"), max_length=100, blank=True)
    location = models.CharField(_("storage location"), max_length=100, blank=True)
    # Whether it is on loan is derived from an open Loan, never stored here as well.
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.AVAILABLE
    )
    calibration_due = models.DateField(
        _("calibration due"),
        null=True,
        blank=True,
        help_text=_("After this date the tool cannot be borrowed until it is recalibrated."),
    )
    loan_period = models.DurationField(
        _("loan period"),
        null=True,
        blank=True,
        # A year at most: beyond it a due date is not a due date (and far beyond, not a date).
        validators=[
            MinValueValidator(LOAN_PERIOD_MIN),
            MaxValueValidator(LOAN_PERIOD_MAX),
        ],
        help_text=_(
            "Overrides the end-of-day due time, e.g. “4:00:00” for four hours or "
            "“7 00:00:00” for seven days."
        ),
    )
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = ItemQuerySet.as_manager()

    class Meta:
        verbose_name = _("tool")
        verbose_name_plural = _("tools")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["available", "maintenance", "retired"]),
                name="item_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(loan_period__isnull=True)
                | Q(loan_period__gte=LOAN_PERIOD_MIN, loan_period__lte=LOAN_PERIOD_MAX),
                name="item_loan_period_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def calibration_overdue(self, today: datetime.date) -> bool:
        return self.calibration_due is not None and self.calibration_due < today


class TagQuerySet(models.QuerySet):
    def active(self):
        return self.filter(active=True)

    def deactivate(self, now: datetime.datetime | None = None) -> int:
        return self.active().update(**Tag.activity(active=False, now=now))


class Tag(models.Model):
    """An NFC UID bound to exactly one employee (a badge) or one tool.

    One table for both kinds so the database itself can refuse a UID that is already a badge
    being enrolled as a tool tag (or the reverse). Deactivated tags stay as a record of who
    carried which card; their UID may be issued again.
    """

    uid = models.CharField(_("UID"), max_length=20, help_text=_("Upper-case hex, no separators."))
    employee = models.ForeignKey(
        Employee,
        verbose_name=_("employee"),
        on_delete=models.PROTECT,  # a tag is the record of who carried which card
        null=True,
        blank=True,
        related_name="tags",
    )
    item = models.ForeignKey(
        Item,
        verbose_name=_("tool"),
        on_delete=models.PROTECT,  # a tag is the record of who carried which card
        null=True,
        blank=True,
        related_name="tags",
    )
    active = models.BooleanField(_("active"), default=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("enrolled"), auto_now_add=True)
    deactivated_at = models.DateTimeField(_("deactivated"), null=True, blank=True)

    objects = TagQuerySet.as_manager()

    class Meta:
        verbose_name = _("NFC tag")
        verbose_name_plural = _("NFC tags")
        ordering = ["-active", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["uid"],
                condition=Q(active=True),
                name="tag_uid_unique_while_active",
                violation_error_message=_(
                    "This UID is already enrolled as another badge or tool. Deactivate that tag "
                    "first, or check that the right card was tapped."
                ),
            ),
            models.CheckConstraint(
                condition=Q(employee__isnull=True) ^ Q(item__isnull=True),
                name="tag_belongs_to_employee_or_item",
                violation_error_message=_("A tag belongs to exactly one employee or one tool."),
            ),
        ]

    def __str__(self) -> str:
        return self.uid

    def clean(self):
        if self.uid:
            self.uid = normalize_uid(self.uid)

    @staticmethod
    def activity(*, active: bool, now: datetime.datetime | None = None) -> dict:
        """The fields that say whether a tag is in use: a deactivated tag stays, with the
        moment it stopped working, as the record of who carried which card."""
        return {"active": active, "deactivated_at": None if active else now or timezone.now()}

    def set_active(self, active: bool) -> None:
        """Deactivate or reactivate (the caller saves)."""
        for field, value in self.activity(active=active).items():
            setattr(self, field, value)
