"""What a serving process checks before it takes its first request."""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from config.env import env_str

DEV_SECRET_KEY = "insecure-development-key-only-for-DEBUG=1"


def refuse_weak_secret_key() -> None:
    """The server (cookies, CSRF, signed pairing) refuses a missing or well-known SECRET_KEY
    unless DEBUG=1. Checked here and not in the settings, so that commands which only read the
    code (makemigrations --check, sqlmigrate, makemessages) run without one."""
    key = env_str("SECRET_KEY")
    if not settings.DEBUG and (
        not key or key == DEV_SECRET_KEY or key.startswith("django-insecure")
    ):
        raise ImproperlyConfigured(
            "SECRET_KEY is not set (or is a known default). Production refuses to start without "
            "a secret of its own: put SECRET_KEY=<50+ random characters> in the environment file, "
            "e.g. from `python -c 'import secrets; print(secrets.token_urlsafe(50))'`, or set "
            "DEBUG=1 for local development."
        )


def refuse_demo_in_production() -> None:
    """KIOSK_DEMO puts tap buttons on the kiosk screen that borrow and return as any demo badge:
    for `make run` (DEBUG=1), never on a real server."""
    if settings.KIOSK_DEMO and not settings.DEBUG:
        raise ImproperlyConfigured(
            "KIOSK_DEMO=1 is refused with DEBUG=0: demo mode lets anyone at a kiosk borrow and "
            "return as the demo badges. Remove KIOSK_DEMO from the environment file (or set it "
            "to 0); it is for `make run` (DEBUG=1) only."
        )
