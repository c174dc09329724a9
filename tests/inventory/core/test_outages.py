"""A request that needs an unreachable database is answered 503 at once, saying so: JSON with a
stable code for programs, a page that reloads itself for people. (The same with the database
cut under a running server: tests/faults.)"""

import pytest
from django.contrib.auth.models import User


@pytest.fixture
def signed_in(client, api, transactional_db):
    """An administrator signed in to the admin and the API, before the database went away."""
    admin = User.objects.create_superuser("admin", password="admin-pass-123")
    api.as_user(admin)
    client.force_login(admin)


def test_the_api_answers_503_database_unavailable(api, signed_in, unreachable_database, english):
    response = api.get("/api/v1/employees/")

    assert response.status_code == 503
    assert response.json()["code"] == "DATABASE_UNAVAILABLE"
    assert "database" in response.json()["message"]
    assert response["Retry-After"]


def test_a_page_answers_503_with_a_page_that_reloads_itself(
    client, signed_in, unreachable_database
):
    response = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 503
    page = response.content.decode()
    assert "Database unavailable" in page and 'http-equiv="refresh"' in page
