"""The API's token endpoint asks for the second factor of those who have one."""

import pytest
from django.contrib.auth.models import User

from tests.inventory.mfa.conftest import PASSWORD, code_for, enrolled

TOKEN = "/api/v1/auth/token/"


@pytest.fixture
def person(db):
    return User.objects.create_user("tanaka", password=PASSWORD)


def test_without_the_code_a_person_with_a_device_gets_no_token(api, english, person):
    enrolled(person)

    answer = api.post(TOKEN, {"username": "tanaka", "password": PASSWORD})

    assert answer.status_code == 401
    assert answer.json()["code"] == "OTP_REQUIRED"
    assert "otp" in answer.json()["message"]
    assert "access" not in answer.json()


def test_a_wrong_code_gets_no_token(api, english, person):
    phone, _codes = enrolled(person)
    right = {code_for(phone, steps_ahead=step) for step in (-1, 0, 1, 2)}
    wrong = next(code for code in ("000000", "111111", "222222") if code not in right)

    answer = api.post(TOKEN, {"username": "tanaka", "password": PASSWORD, "otp": wrong})

    assert answer.status_code == 401
    assert answer.json() == {
        "code": "OTP_INVALID",
        "message": "The code is wrong, expired or already used. Wait for the next code in "
        "the authenticator app and try again.",
    }


def test_the_refusal_is_in_japanese_for_a_japanese_client(api, person):
    enrolled(person)
    api.defaults["HTTP_ACCEPT_LANGUAGE"] = "ja"

    answer = api.post(TOKEN, {"username": "tanaka", "password": PASSWORD})

    assert answer.json()["code"] == "OTP_REQUIRED"
    assert "認証アプリ" in answer.json()["message"]


def test_with_the_code_the_token_works(api, person):
    phone, codes = enrolled(person)

    answer = api.post(
        TOKEN,
        {"username": "tanaka", "password": PASSWORD, "otp": code_for(phone, steps_ahead=1)},
    )

    assert answer.status_code == 200
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {answer.json()['access']}")
    assert api.get("/api/v1/auth/token/").status_code == 405  # authenticated, wrong method
    with_backup = api.post(TOKEN, {"username": "tanaka", "password": PASSWORD, "otp": codes[3]})
    assert with_backup.status_code == 200
    reused = api.post(TOKEN, {"username": "tanaka", "password": PASSWORD, "otp": codes[3]})
    assert reused.json()["code"] == "OTP_INVALID"


def test_a_person_without_a_device_needs_no_code(api, person):
    answer = api.post(TOKEN, {"username": "tanaka", "password": PASSWORD})

    assert answer.status_code == 200
    assert "access" in answer.json()


def test_a_superuser_who_must_enrol_first_gets_no_token(production, api, english, superuser):
    answer = api.post(TOKEN, {"username": "boss", "password": PASSWORD})

    assert answer.status_code == 403
    assert answer.json()["code"] == "OTP_ENROLMENT_REQUIRED"


def test_a_wrong_password_is_still_refused_before_the_code(api, person):
    enrolled(person)

    answer = api.post(TOKEN, {"username": "tanaka", "password": "wrong", "otp": "123456"})

    assert answer.status_code == 401
    assert answer.json()["code"] == "NOT_AUTHENTICATED"
