import io
import json

import pytest
from django.core.management import CommandError, call_command

from kiosk.models import Station

pytestmark = pytest.mark.django_db


def run(*args):
    out = io.StringIO()
    call_command("create_station", *args, stdout=out)
    return out.getvalue()


def test_json_output_is_exactly_one_object_and_the_token_works(client):
    data = json.loads(run("Line 9", "--location", "B棟", "--json"))
    assert set(data) == {"id", "name", "token", "pair_url"}
    station = Station.objects.get(pk=data["id"])
    assert (station.name, station.location) == ("Line 9", "B棟")
    assert Station.objects.by_token(data["token"]) == station
    assert data["token"] not in station.token_hash
    assert data["pair_url"].startswith("/kiosk/pair/")
    assert client.post(data["pair_url"]).status_code == 302


def test_the_pairing_url_is_absolute_when_site_url_is_set(settings):
    settings.SITE_URL = "https://crib.example"
    data = json.loads(run("Line 10", "--json"))
    assert data["pair_url"].startswith("https://crib.example/kiosk/pair/")


def test_plain_output_names_token_and_url():
    text = run("Line 11")
    assert "Agent token" in text and "/kiosk/pair/" in text


def test_a_duplicate_name_is_a_clear_error():
    run("Line 12")
    with pytest.raises(CommandError, match="already exists"):
        run("Line 12")
