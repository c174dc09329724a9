"""A stand-in for the Django server's kiosk API, speaking the contract over a real socket."""

import json
import ssl
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOKEN = "test-station-token"


class FakeServer(ThreadingHTTPServer):
    """Answers scans per event: applied, duplicate (id seen before) or rejected.

    Tests steer it through attributes: `token`, `forced` (status codes answered, one per
    request, before normal service resumes), `reject_uids` (per-event "rejected" in a 200),
    `refuse_uids` (a whole-batch 400 when the batch holds one), `drop_after_answer` (close the
    kept-alive socket after answering, without saying so, as an idle timeout does),
    `lose_answers` (apply that many scan batches, then hang up instead of answering, as when the
    network fails after the server committed). With `tls` (an ssl.SSLContext) it speaks HTTPS.
    """

    daemon_threads = True

    def __init__(self, port: int = 0, tls: ssl.SSLContext | None = None):
        super().__init__(("127.0.0.1", port), _Handler)
        self.tls = tls
        if tls:
            self.socket = tls.wrap_socket(self.socket, server_side=True)
        self.lock = threading.Lock()
        self.token = TOKEN
        self.forced: list[int] = []
        self.reject_uids: set[str] = set()
        self.refuse_uids: set[str] = set()
        self.drop_after_answer = False
        self.lose_answers = 0
        self.seen_ids: set[str] = set()
        self.applied: list[dict] = []  # events in the order the server applied them
        self.scan_requests: list[dict] = []  # {"headers": ..., "body": ..., "status": ...}
        self.heartbeats: list[dict] = []
        self.connections = 0

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        host = "localhost" if self.tls else "127.0.0.1"  # the name in the test certificate
        return f"{scheme}://{host}:{self.server_address[1]}"

    def start(self) -> "FakeServer":
        threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    def applied_uids(self) -> list[str]:
        with self.lock:
            return [event["uid"] for event in self.applied]

    def wait_for(self, condition: Callable[[], bool], timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return True
            time.sleep(0.02)
        return condition()

    def answer_scans(self, body: dict) -> tuple[int, dict]:
        events = body.get("events")
        if not isinstance(events, list) or not 1 <= len(events) <= 500:
            return 400, {"code": "INVALID", "message": "events must be a list of 1 to 500"}
        if any(event.get("uid") in self.refuse_uids for event in events):
            return 400, {"code": "INVALID", "message": "malformed event in batch"}
        results = []
        for event in events:
            if event["uid"] in self.reject_uids:
                results.append(_result(event, "rejected", None, "unreadable uid"))
            elif event["id"] in self.seen_ids:
                results.append(_result(event, "duplicate", "borrowed", "already recorded"))
            else:
                self.seen_ids.add(event["id"])
                self.applied.append(event)
                results.append(_result(event, "applied", "borrowed", "ok"))
        return 200, {"results": results}


def _result(event: dict, status: str, outcome: str | None, message: str) -> dict:
    return {"id": event["id"], "status": status, "outcome": outcome, "message": message}


class _Handler(BaseHTTPRequestHandler):
    server: FakeServer
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, the body would wait for the agent's
    # delayed ACK (40 ms), a delay of this stand-in that the real server does not have.
    disable_nagle_algorithm = True

    def setup(self) -> None:
        super().setup()
        with self.server.lock:
            self.server.connections += 1

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        raw = self.rfile.read(length)
        server = self.server
        with server.lock:
            status, answer = self._answer(raw)
            if self.path.endswith("/scans"):
                server.scan_requests.append(
                    {"headers": dict(self.headers), "body": json.loads(raw), "status": status}
                )
            if self.path.endswith("/scans") and status == 200 and server.lose_answers:
                server.lose_answers -= 1
                self.close_connection = True
                return
        payload = json.dumps(answer).encode() if answer is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
        if server.drop_after_answer:
            self.close_connection = True

    def _answer(self, raw: bytes) -> tuple[int, dict | None]:
        server = self.server
        if server.forced:
            return server.forced.pop(0), {"detail": "forced by the test"}
        if self.headers.get("Authorization") != f"Station {server.token}":
            return 401, {"detail": "unknown station token"}
        if self.path == "/api/v1/kiosk/heartbeat":
            server.heartbeats.append(json.loads(raw))
            return 204, None
        if self.path == "/api/v1/kiosk/scans":
            return server.answer_scans(json.loads(raw))
        return 404, {"detail": "not found"}

    def log_message(self, format: str, *args) -> None:
        pass
