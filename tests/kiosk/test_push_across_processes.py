"""Two real daphne processes on one database and the Redis channel layer, as production runs one
per core behind Caddy: a kiosk's agent may post its taps to one process while its screen's
WebSocket is held by another, and a button pressed on a screen may be answered by either.

Each process has a screen of the same station connected to it. A tap posted to the first
process shows on the screen held by the second; an undo posted to the second shows on the
screen held by the first. (With the in-memory layer neither would arrive: it only reaches
sockets of the process that sent.)
"""

import datetime
import http.client
import json
import os
import re
import time
import uuid
from urllib.parse import urlencode, urlsplit

import pytest
from websockets.sync.client import connect

from kiosk import pairing
from kiosk.demo import badge_uid, tool_uid
from tests.live_server import LiveServer

pytestmark = pytest.mark.timeout(180)

PERSON = "山田 太郎"  # demo badge 1
TOOL = "トルクレンチ 50N·m"  # demo tool 1
UNDO_LOAN = re.compile(r"""hx-post="/kiosk/undo/" hx-vals='\{"loan": "(\d+)"\}'""")


@pytest.fixture(scope="module")
def server():
    if not os.environ.get("REDIS_URL"):
        pytest.skip("needs REDIS_URL: several processes share pushes only through Redis")
    live = LiveServer("two_processes", processes=2).setup()
    live.manage("seed_demo")
    try:
        yield live.start()
    finally:
        live.remove()


def request(base: str, method: str, path: str, *, body: bytes = b"", headers=None):
    """(status, headers, body) of one HTTP request to one process, not through a balancer."""
    address = urlsplit(base)
    conn = http.client.HTTPConnection(address.hostname, address.port, timeout=15)
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    answer = (response.status, response.headers, response.read().decode())
    conn.close()
    return answer


def cookie(headers, name: str) -> str:
    for value in headers.get_all("Set-Cookie"):
        if value.startswith(f"{name}="):
            return value.split(";", 1)[0]
    raise AssertionError(f"no {name} cookie in {headers.get_all('Set-Cookie')}")


def screen(base: str, paired: str):
    """The kiosk page's WebSocket, in English, opened on the process at `base`."""
    address = urlsplit(base)
    return connect(
        f"ws://{address.netloc}/ws/kiosk/?lang=en",
        origin=base,
        additional_headers={"Cookie": paired},
        open_timeout=10,
    )


def pushed_with(socket, *texts: str, timeout: float = 10) -> str:
    """The first fragment pushed to `socket` that shows every one of `texts`."""
    seen = []
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        try:
            message = socket.recv(timeout=left)
        except TimeoutError:
            break
        if all(text in message for text in texts):
            return message
        seen.append(message)
    raise AssertionError(f"no push showing {texts} within {timeout} s; pushed: {seen}")


def tap(base: str, token: str, uid: str) -> str:
    """The agent's POST of one tap; the outcome the server answered."""
    now = datetime.datetime.now(datetime.UTC).isoformat()
    body = {"sent_at": now, "events": [{"id": str(uuid.uuid4()), "uid": uid, "read_at": now}]}
    status, _, answer = request(
        base,
        "POST",
        "/api/v1/kiosk/scans",
        body=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Station {token}"},
    )
    assert status == 200, answer
    (result,) = json.loads(answer)["results"]
    assert result["status"] == "applied", result
    return result["outcome"]


def press_undo(base: str, paired: str, loan: str) -> int:
    """The screen's Undo button as htmx sends it: the CSRF token of the page it loaded."""
    status, headers, page = request(base, "GET", "/kiosk/", headers={"Cookie": paired})
    assert status == 200, page
    token = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
    status, _, _ = request(
        base,
        "POST",
        "/kiosk/undo/",
        body=urlencode({"loan": loan}).encode(),
        headers={
            "Cookie": f"{paired}; {cookie(headers, 'csrftoken')}",
            "X-CSRFToken": token,
            "Content-Type": "application/x-www-form-urlencoded",
            "HX-Request": "true",
        },
    )
    return status


def test_a_tap_on_one_process_and_an_undo_on_the_other_reach_the_screens_on_both(server):
    first, second = server.urls()
    station = json.loads(server.manage("create_station", "Line 1", "--json"))
    status, headers, _ = request(first, "POST", urlsplit(station["pair_url"]).path)
    assert status == 302
    paired = cookie(headers, pairing.COOKIE)

    with screen(first, paired) as on_first, screen(second, paired) as on_second:
        assert tap(first, station["token"], badge_uid(1)) == "session_started"
        pushed_with(on_second, f"Hello, {PERSON}")
        pushed_with(on_first, f"Hello, {PERSON}")

        assert tap(first, station["token"], tool_uid(1)) == "borrowed"
        borrowed = pushed_with(on_second, "Borrowed", TOOL)
        assert f"Borrowed by {PERSON}: {TOOL}" in borrowed  # the undo offer names the loan
        loan = UNDO_LOAN.search(borrowed).group(1)
        pushed_with(on_first, "Borrowed", TOOL)

        assert press_undo(second, paired, loan) == 204
        undone = pushed_with(on_first, "Borrow undone", TOOL)
        assert f"It is not on loan to {PERSON}." in undone
        assert 'hx-post="/kiosk/undo/"' not in undone  # nothing left to undo
        pushed_with(on_second, "Borrow undone", TOOL)
