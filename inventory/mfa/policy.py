"""Who must show a second factor after the password, and who may."""

from django.conf import settings
from django_otp import user_has_device

# The group whose members run the crib (inventory/loans/migrations/0002_groups.py).
MANAGERS = "Managers"


def is_required(user) -> bool:
    """Superusers and Managers when MFA_REQUIRED is on (the default in production): they can
    change every record and run the kiosks."""
    if not settings.MFA_REQUIRED or not user.is_authenticated:
        return False
    return user.is_superuser or user.groups.filter(name=MANAGERS).exists()


def has_device(user) -> bool:
    """A confirmed TOTP device or backup codes: anyone who has one is asked for it."""
    return user_has_device(user, confirmed=True)


def needs_second_factor(user) -> bool:
    return has_device(user) or is_required(user)
