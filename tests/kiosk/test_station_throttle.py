"""Each station's scans and heartbeats are throttled on their own, generously enough that a
replay of 10,000 taps goes through without one 429 (kiosk.api.StationThrottle has the math)."""

import math
import uuid

import pytest
from django.utils import timezone

from agent.config import load_config
from agent.sender import HELD_RETRY_SECONDS
from kiosk import actions

pytestmark = pytest.mark.django_db


def rate_per_minute(settings) -> int:
    count, period = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["station"].split("/")
    assert period == "minute"
    return int(count)


def post_scans(client, station, n=1):
    now = timezone.now().isoformat()
    events = [{"id": str(uuid.uuid4()), "uid": "04AABBCCDDEE01", "read_at": now} for _ in range(n)]
    return client.post(
        "/api/v1/kiosk/scans",
        {"sent_at": now, "events": events},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Station {station.token}",
    )


def beat(client, station):
    return client.post(
        "/api/v1/kiosk/heartbeat",
        {"reader_connected": True},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Station {station.token}",
    )


def test_a_replay_of_ten_thousand_taps_fits_in_a_minute_of_one_station(settings):
    agent = load_config({"SERVER_URL": "https://toolcrib.local", "STATION_TOKEN": "t"})
    replay = math.ceil(10_000 / agent.batch_max)  # batches, sent back to back
    # While it runs: the outbox drained after the outage (as many again), held taps asked
    # about again, and people tapping about once a second.
    busiest_minute = 2 * replay + 60 / HELD_RETRY_SECONDS + 60

    assert busiest_minute <= rate_per_minute(settings) / 2


def test_a_burst_of_a_replays_size_is_answered_without_a_429(client, station, settings):
    agent = load_config({"SERVER_URL": "https://toolcrib.local", "STATION_TOKEN": "t"})
    replay = math.ceil(10_000 / agent.batch_max)

    # The requests of a 10,000-tap replay (one tap each here: the throttle counts requests).
    statuses = {post_scans(client, station).status_code for _ in range(replay)}

    assert statuses == {200}
    assert beat(client, station).status_code == 200


def test_a_station_past_its_rate_gets_429_and_no_other_station_does(client, station, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "station": "3/minute",
        },
    }
    other, token, _ = actions.create_station(name="Line 4", location="")
    other.token = token

    beats = [beat(client, station).status_code for _ in range(4)]

    assert beats == [200, 200, 200, 429]
    refused = beat(client, station)
    assert refused.json()["code"] == "THROTTLED" and 0 < int(refused["Retry-After"]) <= 60
    # Its scans are counted apart from its heartbeats, and the other kiosk apart from it.
    assert post_scans(client, station).status_code == 200
    assert beat(client, other).status_code == 200
