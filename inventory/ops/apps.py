from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpsConfig(AppConfig):
    """Operations that span the other apps: demo data, the first admin, backups and restores,
    scheduled jobs, health, metrics and logging context."""

    name = "inventory.ops"
    label = "ops"
    verbose_name = _("Operations")

    def ready(self):
        from inventory.ops import metrics

        metrics.register()
