"""Five failed logins, for one user name or from one address, block the admin login and the
API token endpoint (the right password too) with a message that says what to do; the reset
commands unlock at once; a Redis that is away does not stop logins."""

import datetime
import time

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/?next=/admin/"
TOKEN = "/api/v1/auth/token/"
RIGHT = "manager-pass-123"


@pytest.fixture
def admin_manager(manager):
    manager.is_staff = True
    manager.save()
    return manager


def admin_login(client, password, username="manager", address="127.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_the_admin_login_is_blocked_after_five_wrong_passwords_even_the_right_one(
    client, admin_manager, english
):
    tries = [admin_login(client, f"guess-{n}") for n in range(5)]

    # Four times the login form again; the fifth failure blocks.
    assert [t.status_code for t in tries] == [200, 200, 200, 200, 429]
    right = admin_login(client, RIGHT)
    assert right.status_code == 429
    assert not logged_in(client)
    page = right.content.decode()
    assert "too many wrong passwords" in page and "Wait 15 minutes" in page
    assert "ask an administrator to unlock it" in page
    assert right["Retry-After"] == "900"


def test_the_lockout_page_speaks_japanese_by_default(client, admin_manager):
    for n in range(5):
        admin_login(client, f"guess-{n}")

    page = admin_login(client, RIGHT).content.decode()

    assert "パスワードの誤りが多すぎます" in page and "15 分" in page


def test_guessing_many_user_names_from_one_address_blocks_that_address(client, admin_manager):
    for n in range(5):
        admin_login(client, "wrong", username=f"someone-{n}", address="10.0.0.5")

    assert admin_login(client, RIGHT, address="10.0.0.5").status_code == 429
    # The manager at another desk is not blocked: it was the address that guessed.
    assert admin_login(client, RIGHT, address="10.0.0.6").status_code == 302
    assert logged_in(client)


def test_guessing_one_account_from_many_addresses_blocks_that_account(client, admin_manager):
    for n in range(5):
        admin_login(client, "wrong", address=f"10.0.1.{n}")

    assert admin_login(client, RIGHT, address="10.0.1.99").status_code == 429
    assert not logged_in(client)


def test_the_token_endpoint_locks_out_with_the_api_error_shape(api, manager, english):
    tries = [api.post(TOKEN, {"username": "manager", "password": f"guess-{n}"}) for n in range(5)]
    right = api.post(TOKEN, {"username": "manager", "password": RIGHT})

    assert [t.status_code for t in tries] == [401, 401, 401, 401, 429]
    assert right.status_code == 429
    assert right["Retry-After"] == "900"
    body = right.json()
    assert body["code"] == "LOCKED_OUT" and set(body) == {"code", "message"}
    assert "Wait 15 minutes" in body["message"] and "administrator" in body["message"]


def test_failures_at_the_admin_and_the_api_add_up(client, api, admin_manager):
    for n in range(3):
        admin_login(client, f"guess-{n}")
    for n in range(2):
        api.post(TOKEN, {"username": "manager", "password": f"again-{n}"})

    assert api.post(TOKEN, {"username": "manager", "password": RIGHT}).status_code == 429
    assert admin_login(client, RIGHT).status_code == 429


def test_an_administrator_unlocks_with_the_reset_commands(client, admin_manager):
    for n in range(5):
        admin_login(client, f"guess-{n}")

    call_command("axes_reset_username", "manager")
    # The address that made the five failures is still blocked on its own count.
    assert admin_login(client, RIGHT).status_code == 429
    call_command("axes_reset_ip", "127.0.0.1")
    assert admin_login(client, RIGHT).status_code == 302
    assert logged_in(client)


def test_the_block_ends_by_itself_after_the_wait(client, settings):
    # A fast hasher, so that the six tries surely take far less than the short wait.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    User.objects.create_user("quick", password=RIGHT, is_staff=True)
    settings.AXES_COOLOFF_TIME = datetime.timedelta(seconds=3)
    for n in range(5):
        admin_login(client, f"guess-{n}", username="quick")
    assert admin_login(client, RIGHT, username="quick").status_code == 429

    time.sleep(4)  # the try above started the wait again

    assert admin_login(client, RIGHT, username="quick").status_code == 302


def test_logins_go_on_while_redis_is_away(client, admin_manager, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens: refused at once
        }
    }
    for n in range(6):
        assert admin_login(client, f"guess-{n}").status_code == 200

    assert admin_login(client, RIGHT).status_code == 302
