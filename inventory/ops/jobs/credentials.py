"""Clearing expired sessions and API tokens. Django and simplejwt never delete them by
themselves: left alone, the tables grow forever and keep credentials nobody can use any more."""

from django.apps import apps
from django.db import transaction
from django.utils import timezone


def clear_expired_credentials(*, now=None) -> dict[str, int]:
    """Delete sessions and refresh tokens (with their blacklist entries) past their expiry.
    Returns how many of each went, by table."""
    now = now or timezone.now()
    cleared = {}
    with transaction.atomic():
        if apps.is_installed("django.contrib.sessions"):
            session = apps.get_model("sessions", "Session")
            cleared[session._meta.db_table] = session.objects.filter(expire_date__lt=now).delete()[
                0
            ]
        if apps.is_installed("rest_framework_simplejwt.token_blacklist"):
            # As simplejwt's flushexpiredtokens: a blacklist entry goes with its token (CASCADE);
            # an expired token cannot be used, blacklisted or not.
            token = apps.get_model("token_blacklist", "OutstandingToken")
            cleared[token._meta.db_table] = token.objects.filter(expires_at__lte=now).delete()[0]
    return cleared
