"""PostgreSQL cut off or not answering under a running server: every request that needs it
fails within seconds with a 503 that says why, /healthz stays up, /readyz names the database,
and when it is back the server, the job runner and the screens resume without a restart."""

import datetime
import uuid

import pytest

from tests.agent.live_kiosk import create_station
from tests.faults.conftest import call, eventually, faulty_server, job_runner_works
from tests.faults.screen import Screen

pytestmark = pytest.mark.faults

FAIL_FAST = 3  # seconds: a request that needs the database answers within this
RECOVERY = 15  # seconds: everything works again this soon after the database is back


@pytest.fixture(scope="module")
def server(database, redis):
    live = faulty_server("faults_db", database, redis, huey=True).start()
    try:
        yield live
    finally:
        live.remove()


@pytest.fixture(scope="module")
def station(server):
    return create_station(server, "Outage kiosk")


@pytest.fixture(scope="module")
def screen(server, station):
    screen = Screen(server.url, station["pair_url"]).start()
    eventually(lambda: screen.version >= 0, timeout=10)
    yield screen
    screen.stop()


@pytest.fixture(autouse=True)
def _restored(database):
    yield
    database.restore()


def tap(server, station, uid="0BAD0001"):
    now = datetime.datetime.now(datetime.UTC).isoformat()
    event = {"id": str(uuid.uuid4()), "uid": uid, "read_at": now}
    return call(
        "POST",
        f"{server.url}/api/v1/kiosk/scans",
        {"sent_at": now, "events": [event]},
        Authorization=f"Station {station['token']}",
        **{"Accept-Language": "en"},
    )


def test_a_cut_database_is_a_prompt_503_that_says_why_and_liveness_stays_up(
    server, station, screen, database
):
    database.cut()

    status, ready, seconds = call("GET", f"{server.url}/readyz")
    assert status == 503 and "database" in ready["failed"], ready
    assert seconds < FAIL_FAST

    status, answer, seconds = tap(server, station)
    assert status == 503, answer
    assert answer["code"] == "DATABASE_UNAVAILABLE"
    assert "database" in answer["message"]
    assert seconds < FAIL_FAST

    # The kiosk's own page, for people: a page saying so, that reloads itself.
    status, page, seconds = call("GET", f"{server.url}/kiosk/", Cookie=screen.cookie)
    assert status == 503 and 'http-equiv="refresh"' in page, page[:500]
    assert seconds < FAIL_FAST

    status, _, seconds = call("GET", f"{server.url}/healthz")
    assert status == 200 and seconds < 1


def test_everything_resumes_within_seconds_of_the_database_coming_back(
    server, station, screen, database
):
    database.cut()
    assert tap(server, station)[0] == 503
    database.restore()

    _, answer, _ = eventually(
        lambda: (result := tap(server, station, "0BAD0002"))[0] == 200 and result,
        timeout=RECOVERY,
    )
    assert answer["results"][0]["status"] == "applied"
    eventually(lambda: call("GET", f"{server.url}/readyz")[1]["checks"]["database"]["ok"], 5)
    # The screen shows the state that tap left (its push went through).
    shown = screen.version
    tap(server, station, "0BAD0003")
    eventually(lambda: screen.version > shown, timeout=5)
    assert job_runner_works(server, timeout=RECOVERY) < RECOVERY


def test_a_database_that_holds_every_packet_is_named_by_readyz_within_seconds(server, database):
    database.pause()

    status, ready, seconds = call("GET", f"{server.url}/readyz")

    assert status == 503 and "database" in ready["failed"], ready
    assert seconds < FAIL_FAST
    assert call("GET", f"{server.url}/healthz")[0] == 200
