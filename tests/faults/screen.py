"""A kiosk screen without a browser: what `static/kiosk/kiosk.js` does with its WebSocket.

It pairs like a kiosk browser, listens for pushes, and when its socket closes it reconnects
within a second or two and fetches the whole state again, keeping a fetched answer only when it
is not older than what a push already showed (the page's `data-version` rule). The test reads
`version`: the station's `state_version` the screen shows now.
"""

import http.client
import re
import threading
import time
from urllib.parse import urlsplit

from websockets.exceptions import WebSocketException
from websockets.sync.client import connect

VERSION = re.compile(r'id="kiosk-timer"[^>]*data-version="(\d+)"')


class Screen:
    def __init__(self, base_url: str, pair_url: str):
        self.base = urlsplit(base_url)
        self.cookie = self._pair(urlsplit(pair_url).path)
        self.version = -1
        self.opened = 0  # how many times the socket opened (reconnects included)
        self.pushes = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._socket = None
        self._thread = threading.Thread(target=self._run, daemon=True, name="screen")

    def start(self) -> "Screen":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._socket is not None:
            self._socket.close()
        self._thread.join(timeout=10)

    def _http(self, method: str, path: str) -> http.client.HTTPResponse:
        conn = http.client.HTTPConnection(self.base.hostname, self.base.port, timeout=10)
        conn.request(method, path, headers={"Cookie": getattr(self, "cookie", "")})
        response = conn.getresponse()
        response.body = response.read()
        conn.close()
        return response

    def _pair(self, path: str) -> str:
        response = self._http("POST", path)
        assert response.status == 302, (response.status, response.body[:300])
        return response.getheader("Set-Cookie").split(";")[0]

    def _run(self) -> None:
        url = f"ws://{self.base.hostname}:{self.base.port}/ws/kiosk/"
        origin = f"http://{self.base.hostname}:{self.base.port}"
        while not self._stop.is_set():
            try:
                with connect(
                    url, additional_headers={"Cookie": self.cookie}, origin=origin, open_timeout=5
                ) as socket:
                    self._socket = socket
                    self.opened += 1
                    self._fetch_state()
                    for message in socket:
                        self.pushes += 1
                        self._show(message, pushed=True)
            except (OSError, WebSocketException, TimeoutError):
                pass
            self._socket = None
            # The page's reconnect delay: half a second to two, growing, with jitter.
            self._stop.wait(1.0)

    def _fetch_state(self, again: bool = False) -> None:
        try:
            response = self._http("GET", "/kiosk/state/")
        except OSError:
            return
        if response.status == 200:
            self._show(response.body.decode(), pushed=False, again=again)

    def _show(self, html: str, *, pushed: bool, again: bool = False) -> None:
        match = VERSION.search(html)
        if match is None:
            return  # a reader-only fragment: no state in it
        version = int(match.group(1))
        with self._lock:
            if pushed or again or version >= self.version:
                self.version = version
                return
        self._fetch_state(again=True)

    def wait_for_version(self, version: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.version == version:
                return True
            time.sleep(0.05)
        return False
