import pytest
from django.contrib.auth.models import User

pytestmark = pytest.mark.django_db


def test_the_api_requires_credentials(api):
    response = api.get("/api/v1/loans/")
    assert response.status_code == 401
    assert response.json()["code"] == "NOT_AUTHENTICATED"


def test_a_garbage_token_is_401(api):
    api.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    response = api.get("/api/v1/items/")
    assert response.status_code == 401
    assert response.json()["code"] == "NOT_AUTHENTICATED"


def test_obtains_and_refreshes_tokens_with_rotation(api, manager):
    pair = api.post(
        "/api/v1/auth/token/", {"username": "manager", "password": "manager-pass-123"}
    ).json()

    api.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
    assert api.get("/api/v1/loans/").status_code == 200

    api.credentials()
    refreshed = api.post("/api/v1/auth/token/refresh/", {"refresh": pair["refresh"]})
    assert refreshed.status_code == 200
    assert refreshed.json()["refresh"] != pair["refresh"]
    # Rotation blacklists the old refresh token: it cannot be used twice.
    reused = api.post("/api/v1/auth/token/refresh/", {"refresh": pair["refresh"]})
    assert reused.status_code == 401


def test_changing_the_password_ends_the_tokens_issued_before(api, manager):
    pair = api.post(
        "/api/v1/auth/token/", {"username": "manager", "password": "manager-pass-123"}
    ).json()
    manager.set_password("a-new-password-456")
    manager.save()

    api.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
    assert api.get("/api/v1/loans/").status_code == 401
    api.credentials()
    refreshed = api.post("/api/v1/auth/token/refresh/", {"refresh": pair["refresh"]}).json()
    # A refresh still mints a token, but one made from the old password's digest, refused too.
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {refreshed.get('access', '')}")
    assert api.get("/api/v1/loans/").status_code == 401


def test_wrong_password_is_401(api, manager):
    response = api.post("/api/v1/auth/token/", {"username": "manager", "password": "nope"})
    assert response.status_code == 401
    assert response.json()["code"] == "NOT_AUTHENTICATED"


def test_a_user_in_no_group_may_not_read(api):
    user = User.objects.create_user("nobody", password="x-pass-123456")
    response = api.as_user(user).get("/api/v1/employees/")
    assert response.status_code == 403
    assert response.json()["code"] == "PERMISSION_DENIED"


def test_access_tokens_live_fifteen_minutes_and_refresh_tokens_seven_days(settings):
    jwt = settings.SIMPLE_JWT
    assert jwt["ACCESS_TOKEN_LIFETIME"].total_seconds() == 15 * 60
    assert jwt["REFRESH_TOKEN_LIFETIME"].days == 7
