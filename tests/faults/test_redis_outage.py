"""Redis cut off or not answering under a running server: taps are still applied and answered
at once (only their push to the screen is lost), /readyz names the channel layer, and when
Redis is back the screens get pushes again and the job runner takes jobs, without a restart."""

import pytest

from tests.agent.live_kiosk import create_station
from tests.faults.conftest import call, eventually, faulty_server, job_runner_works
from tests.faults.screen import Screen
from tests.faults.test_database_outage import FAIL_FAST, RECOVERY, tap

pytestmark = pytest.mark.faults

# A tap waits at most this long for its push to be handed to Redis (kiosk.broadcast).
PUSH_GIVEN_UP = 2


@pytest.fixture(scope="module")
def server(database, redis):
    live = faulty_server("faults_redis", database, redis, huey=True).start()
    try:
        yield live
    finally:
        live.remove()


@pytest.fixture(scope="module")
def station(server):
    return create_station(server, "Redis kiosk")


@pytest.fixture(scope="module")
def screen(server, station):
    screen = Screen(server.url, station["pair_url"]).start()
    eventually(lambda: screen.version >= 0, timeout=10)
    yield screen
    screen.stop()


@pytest.fixture(autouse=True)
def _restored(redis):
    yield
    redis.restore()


@pytest.mark.parametrize("fault", ["cut", "pause"])
def test_taps_are_applied_and_answered_at_once_while_redis_is_away(
    server, station, screen, redis, fault
):
    getattr(redis, fault)()

    status, answer, seconds = tap(server, station)
    assert status == 200 and answer["results"][0]["status"] == "applied", answer
    assert seconds < PUSH_GIVEN_UP

    status, ready, seconds = call("GET", f"{server.url}/readyz")
    assert status == 503 and ready["failed"] == ["channel_layer"], ready
    assert seconds < FAIL_FAST


@pytest.mark.parametrize("fault", ["cut", "pause"])
def test_screens_and_jobs_resume_within_seconds_of_redis_coming_back(
    server, station, screen, redis, fault
):
    getattr(redis, fault)()
    tap(server, station, "0BAD0002")
    redis.restore()

    # The taps after the outage reach the screen again (the one during it did not).
    shown = screen.version

    def pushed():
        tap(server, station, "0BAD0003")
        tap(server, station, "0BAD0004")
        return screen.version > shown + 1

    eventually(pushed, timeout=RECOVERY, step=0.5)
    eventually(lambda: call("GET", f"{server.url}/readyz")[0] == 200, timeout=RECOVERY)
    assert job_runner_works(server, timeout=RECOVERY) < RECOVERY
