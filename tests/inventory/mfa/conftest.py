import pytest
from django.contrib.auth.models import User
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from inventory.mfa import devices

PASSWORD = "correct-horse-battery-9"


@pytest.fixture
def production(settings, db):
    """MFA_REQUIRED as production has it (DEBUG=0); the suite's default turns it off."""
    settings.MFA_REQUIRED = True


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser("boss", "boss@example.com", PASSWORD)


def code_for(device: TOTPDevice, *, steps_ahead: int = 0) -> str:
    """The code the phone shows now (or that many 30-second steps later: a code once accepted is
    not accepted again, so a second login in the same test uses the next one)."""
    device.refresh_from_db()
    value = totp(
        device.bin_key,
        step=device.step,
        t0=device.t0,
        digits=device.digits,
        drift=device.drift + steps_ahead,
    )
    return f"{value:06d}"


def enrolled(user) -> tuple[TOTPDevice, list[str]]:
    """A confirmed phone and backup codes, made the way the enrolment page makes them."""
    device = devices.start_enrolment(user=user)
    phone, codes = devices.confirm_enrolment(user=user, device_id=device.pk, code=code_for(device))
    return phone, codes


def log_in(client, user, *, next_url="/admin/"):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client.post(
        "/admin/login/",
        {"username": user.username, "password": PASSWORD, "next": next_url},
    )
