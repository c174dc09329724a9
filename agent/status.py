"""The loopback status endpoint the kiosk page polls while its WebSocket to the server is down."""

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from agent import __version__
from agent.outbox import REJECTED, Outbox, iso
from agent.state import AgentState

log = logging.getLogger("agent.status")

RECENT_READS = 10


def status_document(state: AgentState, outbox: Outbox) -> dict:
    document = state.snapshot()
    kept_since = outbox.kept_since()
    document.update(
        outbox_depth=outbox.depth(),
        replayable_since=iso(kept_since) if kept_since else None,
        oldest_pending_seconds=outbox.oldest_pending_seconds(),
        rejected_count=outbox.count(REJECTED),
        agent_version=__version__,
        recent=[
            {"id": e.id, "uid": e.uid, "read_at": iso(e.read_at), "state": e.state}
            for e in outbox.recent(RECENT_READS)
        ],
    )
    return document


class StatusServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, allowed_origin: str, state: AgentState, outbox: Outbox):
        # Loopback only: the status names recent badge UIDs, which the LAN has no business seeing.
        super().__init__(("127.0.0.1", port), _StatusHandler)
        self.allowed_origin = allowed_origin
        self.state = state
        self.outbox = outbox

    def start(self) -> threading.Thread:
        # shutdown() waits up to one poll interval; keep SIGTERM handling quick.
        thread = threading.Thread(
            target=self.serve_forever, args=(0.2,), name="status", daemon=True
        )
        thread.start()
        return thread


class _StatusHandler(BaseHTTPRequestHandler):
    server: StatusServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        if not self._host_is_loopback():
            return
        if self.path.split("?", 1)[0] != "/status":
            self._send(404, {"error": "not found; try /status"})
            return
        self._send(200, status_document(self.server.state, self.server.outbox))

    def do_OPTIONS(self) -> None:
        # Chromium's Private/Local Network Access preflights a secure page's request to loopback.
        if self._host_is_loopback():
            self._send(204, None)

    def _host_is_loopback(self) -> bool:
        """Refuse a Host that is not this loopback port: a page whose own name was made to point
        at 127.0.0.1 (DNS rebinding) would otherwise read recent badge UIDs as same-origin."""
        port = self.server.server_address[1]
        host = (self.headers.get("Host") or "").lower()
        if host in {f"127.0.0.1:{port}", f"localhost:{port}", "127.0.0.1", "localhost"}:
            return True
        self._send(421, {"error": f"use http://127.0.0.1:{port}/status"})
        return False

    def _send(self, code: int, document: dict | None) -> None:
        body = b"" if document is None else json.dumps(document).encode()
        self.send_response(code)
        if document is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Vary", "Origin")
        origin = self.headers.get("Origin")
        if origin and origin.lower() == self.server.allowed_origin:
            self.send_header("Access-Control-Allow-Origin", origin)
            self.send_header("Access-Control-Allow-Methods", "GET")
            if self.headers.get("Access-Control-Request-Private-Network"):
                self.send_header("Access-Control-Allow-Private-Network", "true")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:
        # The kiosk polls every second or so while offline: keep that out of the journal.
        log.debug("%s " + format, self.address_string(), *args)
