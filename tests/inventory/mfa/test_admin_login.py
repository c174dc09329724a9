"""The admin's login with a second factor: password, then the code; enrolment for those who must."""

from django.contrib.auth.models import Group, User
from django_otp.plugins.otp_static.models import StaticToken

from tests.inventory.mfa.conftest import PASSWORD, code_for, enrolled, log_in


def staff_in(group: str) -> User:
    user = User.objects.create_user(group.lower(), password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


def test_a_superuser_without_a_second_factor_reaches_only_enrolment(production, client, superuser):
    answer = log_in(client, superuser)

    assert answer.status_code == 302
    assert answer["Location"] == "/admin/mfa/enrol/?next=%2Fadmin%2F"
    for page in ("/admin/", "/admin/auth/user/", "/admin/kiosk/station/", "/admin/ops/dashboard/"):
        refused = client.get(page)
        assert refused.status_code == 302, page
        assert refused["Location"].startswith("/admin/login/"), page
    assert client.get("/api/v1/items/").status_code in (401, 403)
    enrolment = client.get("/admin/mfa/enrol/")
    assert enrolment.status_code == 200
    assert b"<svg" in enrolment.content


def test_a_manager_without_a_second_factor_is_sent_to_enrolment(production, client):
    answer = log_in(client, staff_in("Managers"))

    assert answer["Location"].startswith("/admin/mfa/enrol/")
    assert client.get("/admin/")["Location"].startswith("/admin/login/")


def test_a_session_without_the_code_is_turned_back_at_the_admin(production, client, superuser):
    """A session made before MFA was required (here: logged in directly) gets no page."""
    client.force_login(superuser)

    answer = client.get("/admin/loans/loan/")

    assert answer["Location"] == "/admin/mfa/enrol/?next=%2Fadmin%2Floans%2Floan%2F"
    assert client.get("/admin/loans/loan/")["Location"].startswith("/admin/login/")


def test_a_viewer_is_not_forced_to_have_a_second_factor(production, client):
    viewer = staff_in("Viewers")

    answer = log_in(client, viewer)

    assert answer["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/loans/loan/").status_code == 200


def test_with_a_device_the_admin_asks_for_the_code_first(client, superuser):
    """Anyone with a device is asked, even where MFA is optional (the suite's setting)."""
    phone, _codes = enrolled(superuser)

    answer = log_in(client, superuser)

    assert answer["Location"] == "/admin/mfa/verify/?next=%2Fadmin%2F"
    assert client.get("/admin/")["Location"].startswith("/admin/login/")
    verified = client.post(
        "/admin/mfa/verify/", {"code": code_for(phone, steps_ahead=1), "next": "/admin/"}
    )
    assert verified["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/auth/user/").status_code == 200


def test_a_wrong_code_is_refused(production, client, superuser):
    phone, _codes = enrolled(superuser)
    log_in(client, superuser)
    right = {code_for(phone, steps_ahead=step) for step in (-1, 0, 1, 2)}
    wrong = next(code for code in ("000000", "111111", "222222") if code not in right)

    answer = client.post("/admin/mfa/verify/", {"code": wrong, "next": "/admin/"})

    assert answer.status_code == 200
    assert b"That code is wrong" in answer.content
    assert client.get("/admin/")["Location"].startswith("/admin/login/")


def test_a_backup_code_works_once_and_not_twice(production, client, superuser):
    _phone, codes = enrolled(superuser)

    log_in(client, superuser)
    first = client.post("/admin/mfa/verify/", {"code": codes[0].upper(), "next": "/admin/"})
    assert first["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    client.post("/admin/logout/")

    log_in(client, superuser)
    again = client.post("/admin/mfa/verify/", {"code": codes[0], "next": "/admin/"})
    assert again.status_code == 200
    assert b"That code is wrong" in again.content
    assert client.get("/admin/")["Location"].startswith("/admin/login/")
    assert sorted(StaticToken.objects.values_list("token", flat=True)) == sorted(codes[1:])


def test_half_way_through_login_a_new_phone_cannot_be_enrolled(client, superuser):
    """Enrolling a second phone would be a way around the code of the first."""
    enrolled(superuser)
    log_in(client, superuser)

    answer = client.get("/admin/mfa/enrol/")

    assert answer["Location"].startswith("/admin/mfa/verify/")
    assert superuser.totpdevice_set.count() == 1


def test_the_code_steps_need_a_password_first(client, superuser):
    for page in ("/admin/mfa/verify/", "/admin/mfa/enrol/", "/admin/mfa/backup-codes/"):
        answer = client.get(page)
        assert answer.status_code == 302, page
        assert answer["Location"].startswith("/admin/login/"), page
    assert client.post("/admin/mfa/verify/", {"code": "123456"})["Location"].startswith(
        "/admin/login/"
    )
