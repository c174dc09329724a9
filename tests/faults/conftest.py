"""The real server with PostgreSQL and Redis behind proxies the test controls (proxy.py).

Only the long-running processes (daphne, the huey consumer) go through the proxies; `manage`
commands that set up and read back the server's database take the direct route, so a test can
look at what was recorded while the server's own route is cut.
"""

import json
import os
import time
import urllib.error
import urllib.request

import pytest

from tests.faults.proxy import FaultProxy
from tests.live_server import LiveServer


def _proxy(variable: str, schemes: tuple[str, ...]):
    url = os.environ.get(variable, "")
    if not url.startswith(schemes):
        pytest.skip(f"fault tests need {variable} (PostgreSQL and Redis behind a proxy)")
    with FaultProxy.in_front_of(url) as proxy:
        yield proxy


@pytest.fixture(scope="module")
def database():
    yield from _proxy("DATABASE_URL", ("postgres://", "postgresql://"))


@pytest.fixture(scope="module")
def redis():
    yield from _proxy("REDIS_URL", ("redis://",))


def faulty_server(name: str, database: FaultProxy, redis: FaultProxy, **options) -> LiveServer:
    """A LiveServer with the demo data whose daphne and huey reach PostgreSQL and Redis only
    through the proxies."""
    server = LiveServer(name, **options)
    server.service_env.update(
        DATABASE_URL=database.url_for(server.env["DATABASE_URL"]),
        REDIS_URL=redis.url_for(os.environ["REDIS_URL"]),
    )
    server.setup()
    server.manage("seed_demo")
    return server


def call(method: str, url: str, body: dict | None = None, **headers) -> tuple[int, object, float]:
    """(status, decoded JSON or text, seconds it took)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            status, raw = answer.status, answer.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    seconds = time.monotonic() - started
    try:
        return status, json.loads(raw), seconds
    except ValueError:
        return status, raw.decode(errors="replace"), seconds


def eventually(probe, timeout: float, step: float = 0.25):
    """The first truthy result of probe() within `timeout` seconds, or AssertionError."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s (last: {result!r})")
        time.sleep(step)


_LAST_WATCH = """
from inventory.ops.models import PeriodicRun
run = PeriodicRun.objects.filter(job="station_watch", succeeded=True).first()
print(run.finished_at.timestamp() if run else 0)
"""


def job_runner_works(server: LiveServer, timeout: float) -> float:
    """Queue the station watch (as the scheduler does each minute) and wait until the huey
    consumer has run it; returns the seconds that took."""
    started = time.time()
    server.manage(
        "shell",
        "-v0",
        "-c",
        "from inventory.ops.tasks import station_watch; station_watch()",
        env={"HUEY_IMMEDIATE": "0"},
    )
    eventually(
        lambda: float(server.manage("shell", "-v0", "-c", _LAST_WATCH).strip() or 0) > started,
        timeout=timeout,
        step=0.5,
    )
    return time.time() - started
