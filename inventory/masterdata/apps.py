from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MasterdataConfig(AppConfig):
    """Import and export of the employee and tool master files (CSV from Excel): no models of
    its own, only its admin pages and its commands."""

    name = "inventory.masterdata"
    label = "masterdata"
    verbose_name = _("Master data")
