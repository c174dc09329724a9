import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import (
    FileExtensionValidator,
    MaxValueValidator,
    MinValueValidator,
)
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inventory.core.errors import interpolate_lazy
from inventory.core.search import text_or_uid
from inventory.core.uids import normalize_uid
from inventory.employees.models import Employee, Qualification

LOAN_PERIOD_MIN = datetime.timedelta(minutes=1)
LOAN_PERIOD_MAX = datetime.timedelta(days=366)
CALIBRATION_INTERVAL_MAX = 120  # months: ten years
# What a kiosk screen shows as big OK / NG buttons, one row each.
CHECKLIST_MAX_CHECKS = 8
CHECK_MAX_LENGTH = 80


def checks_of(text: str) -> list[str]:
    """The checks of a checklist written one per line."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def validate_checklist(text: str) -> None:
    checks = checks_of(text)
    if len(checks) > CHECKLIST_MAX_CHECKS:
        raise ValidationError(
            _("A checklist has at most %(max)d checks (this one has %(count)d)."),
            params={"max": CHECKLIST_MAX_CHECKS, "count": len(checks)},
        )
    for check in checks:
        if len(check) > CHECK_MAX_LENGTH:
            raise ValidationError(
                _("“%(check)s” is longer than %(max)d characters: keep each check short."),
                params={"check": check, "max": CHECK_MAX_LENGTH},
            )


class Category(models.Model):
    """The crib's rules for the tools whose category (Item.category) is this name.

    Tools keep their category as the text the master files and the old system carry; a rule
    applies to the tools whose category is written exactly as its name. Renaming a category
    here renames it on its tools too (CategoryAdmin)."""

    name = models.CharField(
        _("category"),
        max_length=100,
        unique=True,
        help_text=_("Exactly as the tools' category is written."),
    )
    loan_limit = models.PositiveSmallIntegerField(
        _("loan limit per person"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(999)],
        help_text=_(
            "At most this many tools of this category per person (for example 1 torque wrench "
            "each); borrowing one more is refused with LIMIT_REACHED. Empty: the general "
            "limit (LOAN_LIMIT_PER_PERSON) applies to these tools; 0: no limit for them."
        ),
    )
    qualification = models.ForeignKey(
        Qualification,
        verbose_name=_("required qualification"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="categories",
        help_text=_(
            "Only people who hold it, not expired, may borrow these tools; others are refused "
            "with NOT_QUALIFIED."
        ),
    )
    checklist = models.TextField(
        _("check before use"),
        blank=True,
        validators=[validate_checklist],
        help_text=interpolate_lazy(
            _(
                "One check per line, for example “cable undamaged”, at most %(max)d. The kiosk "
                "asks each with OK / NG buttons before lending; any NG refuses the borrow and "
                "sends the tool to maintenance. Empty: no check."
            ),
            {"max": CHECKLIST_MAX_CHECKS},
        ),
    )

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def checks(self) -> list[str]:
        return checks_of(self.checklist)


class ItemQuerySet(models.QuerySet):
    def search(self, term: str):
        """Code, name, category, location or any of the tool's tag UIDs."""
        return text_or_uid(self, term, fields=["code", "name", "category", "location"])

    def calibration_due_by(self, day: datetime.date):
        """Instruments in use whose calibration falls due on or before `day` (or already has),
        the soonest first."""
        return (
            self.filter(calibration_due__lte=day)
            .exclude(status=Item.Status.RETIRED)
            .order_by("calibration_due", "code")
        )


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
        help_text=_(
            "After this date the tool cannot be borrowed (CALIBRATION_EXPIRED) until it is "
            "recalibrated; within CALIBRATION_WARN_DAYS before it, borrowing warns. Recording a "
            "calibration sets it."
        ),
    )
    calibration_interval = models.PositiveSmallIntegerField(
        _("calibration interval (months)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(CALIBRATION_INTERVAL_MAX)],
        help_text=_(
            "For a measuring instrument: a passed calibration makes it due again this many "
            "months later."
        ),
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
            models.CheckConstraint(
                condition=Q(calibration_interval__isnull=True)
                | Q(calibration_interval__range=(1, CALIBRATION_INTERVAL_MAX)),
                name="item_calibration_interval_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def calibration_overdue(self, today: datetime.date) -> bool:
        return self.calibration_due is not None and self.calibration_due < today

    def calibration_due_soon(self, today: datetime.date) -> bool:
        """Not overdue yet, but within CALIBRATION_WARN_DAYS of its due date."""
        warn = datetime.timedelta(days=settings.CALIBRATION_WARN_DAYS)
        return self.calibration_due is not None and today <= self.calibration_due <= today + warn


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


class Calibration(models.Model):
    """One calibration of an instrument, as its certificate says. Written only by
    `items.services.record_calibration`, which sets the tool's next due date (or sends it to
    maintenance when it failed); kept as it was recorded."""

    class Result(models.TextChoices):
        PASSED = "passed", _("Passed")
        FAILED = "failed", _("Failed")

    item = models.ForeignKey(
        Item, verbose_name=_("instrument"), on_delete=models.PROTECT, related_name="calibrations"
    )
    calibrated_on = models.DateField(_("calibrated on"))
    result = models.CharField(_("result"), max_length=8, choices=Result.choices)
    certificate_number = models.CharField(_("certificate number"), max_length=64, blank=True)
    calibrated_by = models.CharField(
        _("calibrated by"),
        max_length=100,
        blank=True,
        help_text=_("The person or laboratory that calibrated it."),
    )
    next_due = models.DateField(
        _("next due"),
        null=True,
        blank=True,
        help_text=_(
            "Empty: the calibration date plus the tool's calibration interval. A failed "
            "calibration has none."
        ),
    )
    certificate = models.FileField(
        _("certificate file"),
        upload_to="calibration/%Y/",
        blank=True,
        validators=[FileExtensionValidator(["pdf", "png", "jpg", "jpeg"])],
        help_text=_("PDF or a photo, up to 10 MB."),
    )
    note = models.TextField(_("note"), blank=True)
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    recorded_by = models.CharField(_("recorded by"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("calibration")
        verbose_name_plural = _("calibrations")
        ordering = ["-calibrated_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(result__in=["passed", "failed"]), name="calibration_result_valid"
            ),
            models.CheckConstraint(
                condition=Q(next_due__isnull=True) | Q(next_due__gt=models.F("calibrated_on")),
                name="calibration_next_due_after_it",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item.code} {self.calibrated_on} {self.get_result_display()}"

    @property
    def passed(self) -> bool:
        return self.result == self.Result.PASSED
