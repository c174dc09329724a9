"""The half-finished login: the password was right, the second factor is still to come.

Until the code is shown the person is not logged in at all: the session holds only who they
said they were (and the password hash they proved, so a password changed in the meantime
ends it). Every door that reads the session user (admin, the API's session auth, the kiosk's
staff view) therefore sees nobody. Sessions made before this existed, or by other means, are
caught by `lacks_second_factor` at the admin's door and turned back into a half-finished login.
"""

import time

import django_otp
from django.conf import settings
from django.contrib import auth
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from inventory.mfa import policy

PENDING = "mfa_pending"
# Set on a session judged to need no second factor while MFA_REQUIRED was on, so that each
# admin page does not ask the database again.
JUDGED = "mfa_judged"
# Long enough to find the phone and install an app during enrolment.
PENDING_SECONDS = 15 * 60


def begin(request, user, backend: str) -> None:
    request.session[PENDING] = {
        "user": user.pk,
        "backend": backend,
        "hash": user.get_session_auth_hash(),
        "since": time.time(),
    }


def pending_user(request):
    """The person whose password was right, or None (none, expired, deactivated, or the password
    changed since)."""
    data = request.session.get(PENDING)
    if not data or time.time() - data["since"] > PENDING_SECONDS:
        return None
    user = get_user_model().objects.filter(pk=data["user"], is_active=True).first()
    if user is None or not constant_time_compare(user.get_session_auth_hash(), data["hash"]):
        return None
    user.backend = data["backend"]
    return user


def finish(request, user, device) -> None:
    """Log in for real. Django's login gives the session a new key, so the half-finished one
    cannot be replayed as the logged-in one."""
    request.session.pop(PENDING, None)
    auth.login(request, user, backend=user.backend)
    django_otp.login(request, device)


def judge_new_login(request) -> None:
    """After a password-only login of someone who needs no second factor."""
    if settings.MFA_REQUIRED:
        request.session[JUDGED] = True


def lacks_second_factor(request) -> bool:
    """A logged-in session of someone who must show a second factor but has not."""
    user = request.user
    if not user.is_authenticated or getattr(user, "is_verified", lambda: False)():
        return False
    # With MFA optional, every login with a device goes through the code (the login view) and
    # enrolling ends the person's other sessions: no session needs a look at the database.
    if not settings.MFA_REQUIRED or request.session.get(JUDGED):
        return False
    if policy.needs_second_factor(user):
        return True
    request.session[JUDGED] = True
    return False


def demote(request) -> None:
    """Turn a logged-in session without a second factor back into a half-finished login."""
    user, backend = request.user, request.session.get(auth.BACKEND_SESSION_KEY, "")
    auth.logout(request)
    begin(request, user, backend or settings.AUTHENTICATION_BACKENDS[0])


def end_other_sessions(user, *, keep: str | None = None) -> int:
    """Log the person out everywhere else (a new phone was enrolled, or their factor reset):
    an older session made without the code must not outlive the change."""
    if settings.SESSION_ENGINE != "django.contrib.sessions.backends.db":
        return 0
    ended = [
        session.session_key
        for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
        if session.get_decoded().get(auth.SESSION_KEY) == str(user.pk)
        and session.session_key != keep
    ]
    Session.objects.filter(session_key__in=ended).delete()
    return len(ended)


def revoke_api_tokens(user) -> int:
    """End the person's API refresh tokens too (their access tokens run out within minutes)."""
    live = OutstandingToken.objects.filter(user=user, expires_at__gt=timezone.now()).exclude(
        blacklistedtoken__isnull=False
    )
    revoked = BlacklistedToken.objects.bulk_create(BlacklistedToken(token=token) for token in live)
    return len(revoked)
