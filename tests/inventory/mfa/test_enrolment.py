"""Setting up the authenticator app in the admin, with a code computed from what the page shows."""

import re
from base64 import b32decode

from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.inventory.mfa.conftest import log_in


def code_from_page(page: str) -> str:
    """What a phone that was given the secret on the page shows now."""
    secret = re.search(r'<code class="mfa-secret">([A-Z2-7 ]+)</code>', page).group(1)
    return f"{totp(b32decode(secret.replace(' ', ''))):06d}"


def test_a_superuser_enrols_and_then_reaches_the_admin(production, client, superuser):
    log_in(client, superuser, next_url="/admin/auth/user/")
    page = client.get("/admin/mfa/enrol/?next=/admin/auth/user/").content.decode()
    assert "<svg" in page
    assert "otpauth" not in page  # the QR code is drawn, not linked

    confirmed = client.post(
        "/admin/mfa/enrol/", {"code": code_from_page(page), "next": "/admin/auth/user/"}
    )

    assert confirmed["Location"] == "/admin/mfa/backup-codes/?next=%2Fadmin%2Fauth%2Fuser%2F"
    shown = client.get(confirmed["Location"]).content.decode()
    codes = re.findall(r"<li>([a-z2-7]{8})</li>", shown)
    assert len(codes) == 10
    assert sorted(codes) == sorted(StaticToken.objects.values_list("token", flat=True))
    assert 'href="/admin/auth/user/"' in shown
    # Shown once.
    assert client.get("/admin/mfa/backup-codes/")["Location"] == "/admin/"
    assert client.get("/admin/auth/user/").status_code == 200
    assert TOTPDevice.objects.get(user=superuser).confirmed


def test_reloading_the_page_keeps_the_secret_the_phone_scanned(production, client, superuser):
    log_in(client, superuser)
    first = client.get("/admin/mfa/enrol/").content.decode()
    again = client.get("/admin/mfa/enrol/").content.decode()

    assert code_from_page(first) == code_from_page(again)
    assert TOTPDevice.objects.filter(user=superuser).count() == 1


def test_a_wrong_code_does_not_confirm_the_phone(production, client, superuser):
    log_in(client, superuser)
    right = code_from_page(client.get("/admin/mfa/enrol/").content.decode())
    wrong = "000000" if right != "000000" else "111111"

    answer = client.post("/admin/mfa/enrol/", {"code": wrong})

    assert answer.status_code == 200
    assert b"That code is wrong" in answer.content
    assert not TOTPDevice.objects.get(user=superuser).confirmed
    assert not StaticToken.objects.exists()
    assert client.get("/admin/")["Location"].startswith("/admin/login/")


def test_a_viewer_may_enrol_without_being_asked(production, client, viewer):
    viewer.is_staff = True
    viewer.save()
    client.force_login(viewer)
    page = client.get("/admin/mfa/enrol/").content.decode()

    confirmed = client.post("/admin/mfa/enrol/", {"code": code_from_page(page)})

    assert confirmed["Location"].startswith("/admin/mfa/backup-codes/")
    assert TOTPDevice.objects.get(user=viewer).confirmed
    assert client.get("/admin/").status_code == 200


def test_the_pages_are_translated(production, client, superuser):
    log_in(client, superuser)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "ja"

    page = client.get("/admin/mfa/enrol/").content.decode()

    assert "認証アプリ" in page
