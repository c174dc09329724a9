"""The API's session authentication follows the admin: no second factor, no user."""

from tests.inventory.mfa.conftest import code_for, enrolled, log_in


def test_a_session_without_the_code_it_needs_is_nobody_to_the_api(production, client, superuser):
    client.force_login(superuser)  # as a session made before MFA_REQUIRED was turned on

    assert client.get("/api/v1/items/").status_code in (401, 403)


def test_a_session_that_showed_the_code_reads_the_api(production, client, superuser):
    phone, _codes = enrolled(superuser)
    log_in(client, superuser)
    client.post("/admin/mfa/verify/", {"code": code_for(phone, steps_ahead=1)})

    assert client.get("/api/v1/items/").status_code == 200


def test_a_viewer_session_needs_no_code(production, client, viewer):
    client.force_login(viewer)

    assert client.get("/api/v1/items/").status_code == 200
