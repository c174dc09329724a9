"""Enrolling, checking and resetting a person's second factor. One phone and one set of backup
codes per person: a new enrolment replaces both."""

from django.db import transaction
from django.utils.translation import gettext
from django_otp import devices_for_user
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

BACKUP_CODES = 10


def start_enrolment(*, user) -> TOTPDevice:
    """The unconfirmed device whose secret the enrolment page shows. The same one until it is
    confirmed: reloading the page must not change the secret under a phone that scanned it."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").last()
    if device is None:
        device = TOTPDevice.objects.create(
            user=user, name=gettext("Authenticator app"), confirmed=False
        )
    return device


def confirm_enrolment(*, user, device_id: int, code: str) -> tuple[TOTPDevice, list[str]] | None:
    """Confirm the phone with a code it shows: the device and the new backup codes (shown once,
    kept only by the person), or None when the code is wrong."""
    with transaction.atomic():
        device = (
            TOTPDevice.objects.select_for_update()
            .filter(user=user, pk=device_id, confirmed=False)
            .first()
        )
        # A failed try is counted on the device (django-otp's throttle) and kept: return,
        # never raise, so the count commits.
        if device is None or not device.verify_token(_normalised(code)):
            return None
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        return device, _new_backup_codes(user)


def _new_backup_codes(user) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=gettext("Backup codes"), confirmed=True)
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def verify(*, user, code: str):
    """The device that accepts `code` (which it then will not accept again), or None.

    Six digits go to the phone, anything else to the backup codes: a backup code typed in must
    not count as a failed try against the phone (each device slows down after failures)."""
    code = _normalised(code)
    if not code:
        return None
    model = TOTPDevice if code.isdecimal() and len(code) == 6 else StaticDevice
    with transaction.atomic():
        for device in model.objects.devices_for_user(user, confirmed=True).select_for_update():
            if device.verify_token(code):
                return device
    return None


def reset(*, user) -> int:
    """Remove every device of the person (phone, backup codes, an unfinished enrolment); how many
    there were. The person enrols again at their next login if they must have one."""
    with transaction.atomic():
        devices = list(devices_for_user(user, confirmed=None))
        for device in devices:
            device.delete()
    return len(devices)


def _normalised(code: str) -> str:
    """Apps show "123 456"; backup codes are lower-case base32."""
    return "".join(str(code).split()).lower()
