"""The two ways the server tells people things: Django's e-mail backend and an optional
chat webhook (Slack, Mattermost, Rocket.Chat and Teams' incoming webhooks all take
{"text": ...})."""

import json
import logging
import urllib.request

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.forms import ValidationError

logger = logging.getLogger(__name__)


def email_address(text: str) -> str:
    """The address in an employee's contact field, or "" when it holds something else."""
    text = (text or "").strip()
    try:
        validate_email(text)
    except ValidationError:
        return ""
    return text


def manager_emails() -> list[str]:
    """REMINDER_MANAGER_EMAILS plus every active user in the Managers group with an address."""
    users = (
        get_user_model()
        .objects.filter(is_active=True, groups__name="Managers")
        .exclude(email="")
        .values_list("email", flat=True)
    )
    return sorted({*settings.REMINDER_MANAGER_EMAILS, *users})


def send_email(*, subject: str, body: str, to: list[str]) -> None:
    send_mail(subject, body, None, to, fail_silently=False)


def post_webhook(*, text: str) -> None:
    request = urllib.request.Request(
        settings.REMINDER_WEBHOOK_URL,
        data=json.dumps({"text": text}, ensure_ascii=False).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=15) as response:
        response.read()


def tell_managers(*, subject: str, body: str) -> None:
    """Best effort, for alerts: a failed channel is logged, the other is still tried."""
    recipients = manager_emails()
    if recipients:
        try:
            send_email(subject=subject, body=body, to=recipients)
        except Exception:
            logger.exception("Could not e-mail managers: %s", subject)
    if settings.REMINDER_WEBHOOK_URL:
        try:
            post_webhook(text=f"{subject}\n{body}")
        except Exception:
            logger.exception("Could not post to the webhook: %s", subject)
