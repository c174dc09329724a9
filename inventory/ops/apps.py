from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpsConfig(AppConfig):
    """The top layer, which nothing imports: backups and restores, scheduled jobs and mail,
    the station watch, health, metrics and the dashboard."""

    name = "inventory.ops"
    label = "ops"
    verbose_name = _("Operations")

    def ready(self):
        from inventory.ops import metrics

        metrics.register()
