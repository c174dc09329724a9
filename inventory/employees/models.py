from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from inventory.core.search import text_or_uid


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
        """The status in words, translated when it is shown (not when it is read)."""
        return self.Status(self.status).label

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE
