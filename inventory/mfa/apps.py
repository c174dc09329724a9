from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MfaConfig(AppConfig):
    """No models of its own: the devices are django-otp's."""

    name = "inventory.mfa"
    label = "mfa"
    verbose_name = _("Second factor")
