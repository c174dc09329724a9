"""A superuser resets a lost phone from the user list; the person enrols again."""

import pytest
from django.contrib.auth.models import Permission, User
from django.contrib.sessions.models import Session
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework_simplejwt.tokens import RefreshToken

from tests.inventory.mfa.conftest import PASSWORD, code_for, enrolled, log_in


def verified_superuser(client, superuser):
    phone, _codes = enrolled(superuser)
    log_in(client, superuser)
    client.post("/admin/mfa/verify/", {"code": code_for(phone, steps_ahead=1)})
    assert client.get("/admin/").status_code == 200


def test_a_superuser_resets_a_managers_second_factor(production, client, api, superuser, manager):
    verified_superuser(client, superuser)
    enrolled(manager)
    refresh = str(RefreshToken.for_user(manager))
    elsewhere = Session.objects.create(
        session_key="x" * 32,
        session_data=Session.objects.encode({"_auth_user_id": str(manager.pk)}),
        expire_date="2100-01-01T00:00:00Z",
    )

    answer = client.post(
        "/admin/auth/user/",
        {"action": "reset_second_factor", "_selected_action": [manager.pk]},
    )

    assert answer.status_code == 302
    assert not TOTPDevice.objects.filter(user=manager).exists()
    assert not StaticDevice.objects.filter(user=manager).exists()
    assert not StaticToken.objects.filter(device__user=manager).exists()
    assert not Session.objects.filter(pk=elsewhere.pk).exists()
    assert api.post("/api/v1/auth/token/refresh/", {"refresh": refresh}).status_code == 401
    # The superuser's own devices and session are untouched.
    assert TOTPDevice.objects.filter(user=superuser, confirmed=True).exists()
    assert client.get("/admin/").status_code == 200


def test_after_a_reset_the_manager_enrols_again(production, client, manager):
    manager.is_staff = True
    manager.set_password(PASSWORD)
    manager.save()
    enrolled(manager)
    User.objects.create_superuser("other", password=PASSWORD)
    from inventory.mfa import devices

    devices.reset(user=manager)

    assert log_in(client, manager)["Location"].startswith("/admin/mfa/enrol/")


def test_staff_who_may_only_view_users_cannot_reset(client, manager):
    manager.is_staff = True
    manager.save()
    manager.user_permissions.add(Permission.objects.get(codename="view_user"))
    other = User.objects.create_user("other", password=PASSWORD)
    enrolled(other)
    client.force_login(manager)

    client.post(
        "/admin/auth/user/", {"action": "reset_second_factor", "_selected_action": [other.pk]}
    )

    assert TOTPDevice.objects.filter(user=other, confirmed=True).exists()
    assert StaticToken.objects.filter(device__user=other).count() == 10


def test_the_user_list_shows_who_has_a_second_factor(production, client, superuser, manager):
    manager.is_staff = True
    manager.save()
    verified_superuser(client, superuser)

    page = client.get("/admin/auth/user/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "Second factor" in page
    # Both are staff; only the superuser has a phone.
    assert page.count('alt="True"') == 3
    assert page.count('alt="False"') == 1


def test_the_last_superuser_is_reset_from_the_shell(production, client, superuser):
    from io import StringIO

    from django.core.management import CommandError, call_command

    enrolled(superuser)
    with pytest.raises(CommandError, match="No such user: nobody"):
        call_command("mfa_reset", "boss", "nobody")
    assert TOTPDevice.objects.filter(user=superuser).exists()

    out = StringIO()
    call_command("mfa_reset", "boss", stdout=out)

    assert "boss: 2 device(s) removed" in out.getvalue()
    assert not TOTPDevice.objects.filter(user=superuser).exists()
    assert log_in(client, superuser)["Location"].startswith("/admin/mfa/enrol/")
