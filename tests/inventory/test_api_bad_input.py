"""Inputs found by hand against a real server that once answered 500: each is a clear 4xx now."""

import io

import pytest

from inventory.api_parsers import BodyTooLarge, JSONParser
from inventory.items.models import Tag
from tests.factories import EmployeeFactory, ItemFactory

pytestmark = pytest.mark.django_db

DEEP = "[" * 5000


def test_json_nested_too_deeply_is_400_even_before_authentication(api):
    response = api.post("/api/v1/auth/token/", DEEP, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "INVALID"


def test_a_body_over_the_upload_limit_is_413_before_it_is_parsed(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = '{"username": "' + "x" * 2000 + '", "password": "p"}'

    response = api.post("/api/v1/auth/token/", body, content_type="application/json")

    assert response.status_code == 413
    assert response.json()["code"] == "TOO_LARGE"


def test_the_parser_stops_reading_a_stream_past_the_limit(settings):
    # What happens when no middleware read request.body (where Django checks the limit) first.
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10
    with pytest.raises(BodyTooLarge):
        JSONParser().parse(io.BytesIO(b'{"a": "' + b"x" * 100 + b'"}'))
    assert JSONParser().parse(io.BytesIO(b'{"a": 1}')) == {"a": 1}
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = None  # Django's "no limit"
    assert JSONParser().parse(io.BytesIO(b'{"a": "' + b"x" * 100 + b'"}'))["a"] == "x" * 100


def test_a_body_at_the_upload_limit_is_still_read(api, settings):
    body = '{"username": "nobody", "password": "p"}'
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = len(body)

    response = api.post("/api/v1/auth/token/", body, content_type="application/json")

    assert response.status_code == 401


def test_a_form_or_a_file_upload_is_415_the_api_reads_json(api, manager):
    response = api.as_user(manager).post(
        "/api/v1/employees/", {"code": "E1", "name": "x"}, format="multipart"
    )

    assert response.status_code == 415
    assert response.json()["code"] == "UNSUPPORTED_MEDIA_TYPE"


@pytest.mark.parametrize("path", ["/api/v1/employees/E%00/", "/api/v1/items/a%00b/"])
def test_a_nul_character_in_an_address_is_a_4xx(api, manager, path):
    EmployeeFactory(code="E")
    ItemFactory(code="ab")

    response = api.as_user(manager).get(path)

    assert 400 <= response.status_code < 500
    assert "code" in response.json()


def test_a_nul_character_naming_a_tags_owner_is_400_and_enrols_nothing(api, manager):
    response = api.as_user(manager).post("/api/v1/tags/", {"uid": "04A1B2C3", "employee": "\u0000"})

    assert response.status_code == 400
    assert response.json()["code"] == "INVALID"
    assert not Tag.objects.exists()


@pytest.mark.parametrize("path", ["/api/v1/loans/abc/", "/api/v1/nothing-here/"])
def test_an_address_no_api_route_matches_is_a_json_404(api, manager, path):
    response = api.as_user(manager).get(path)

    assert response.status_code == 404
    assert response.json()["code"] == "NOT_FOUND"


def test_outside_the_api_a_missing_page_is_still_a_page(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
