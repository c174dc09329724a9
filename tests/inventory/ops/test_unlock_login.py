"""An administrator lifts a login lockout from the admin, for a user name and an address;
only staff who may change users can."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

PAGE = "/admin/unlock-login/"
LOGIN = "/admin/login/?next=/admin/"
RIGHT = "manager-pass-123"


def lock_out(manager, address="10.0.0.5") -> Client:
    manager.is_staff = True
    manager.save()
    person = Client()
    for n in range(5):
        person.post(LOGIN, {"username": "manager", "password": f"guess-{n}"}, REMOTE_ADDR=address)
    return person


def log_in(person, address="10.0.0.5"):
    return person.post(LOGIN, {"username": "manager", "password": RIGHT}, REMOTE_ADDR=address)


def test_a_superuser_unlocks_the_user_name_and_the_address(admin_client, manager, english):
    person = lock_out(manager)
    assert log_in(person).status_code == 429

    answer = admin_client.post(PAGE, {"username": "manager", "address": "10.0.0.5"}, follow=True)

    assert answer.status_code == 200
    assert "Unlocked: manager / 10.0.0.5 can log in again." in answer.content.decode()
    assert log_in(person).status_code == 302


def test_unlocking_the_user_name_alone_leaves_the_address_blocked(admin_client, manager):
    person = lock_out(manager)

    admin_client.post(PAGE, {"username": "manager"})

    assert log_in(person).status_code == 429
    assert log_in(person, address="10.0.0.6").status_code == 302


def test_the_form_asks_for_something_to_unlock(admin_client, english):
    page = admin_client.get(PAGE)
    empty = admin_client.post(PAGE, {"username": "", "address": ""})
    bad = admin_client.post(PAGE, {"address": "not-an-address"})

    assert page.status_code == 200 and b'id="unlock-login"' in page.content
    assert empty.status_code == 200
    assert "Give a user name, an address, or both." in empty.content.decode()
    assert bad.status_code == 200 and "errorlist" in bad.content.decode()


def test_staff_who_may_not_change_users_cannot_unlock(client, staff, viewer):
    assert client.post(PAGE, {"username": "viewer"}).status_code == 403


def test_anonymous_visitors_are_sent_to_the_login(client):
    answer = client.get(PAGE)
    assert answer.status_code == 302 and answer["Location"].startswith("/admin/login/")
