"""What the agent knows about itself right now, shared by its threads and logged on change."""

import logging
import threading
from datetime import datetime

from agent.outbox import iso, utc_now

log = logging.getLogger("agent")

TOKEN_REJECTED = (
    "TOKEN REJECTED (401): the server does not accept STATION_TOKEN; taps are kept and sent "
    "once the token is fixed"
)


class AgentState:
    """Thread-safe; every change of a field is logged once, so the journal reads as a story."""

    def __init__(self):
        self._lock = threading.Lock()
        self.reader_connected = False
        self.reader_name: str | None = None
        self.token_rejected = False
        self.server_reachable = False
        self.last_delivery_at: datetime | None = None
        # source -> message; the newest is shown, and it disappears when its source recovers, so
        # last_error describes a live problem. "server" (unreachable) and "token" (401) are about
        # the server as a whole: any exchange that succeeds clears them, whichever thread had it.
        self._errors: dict[str, str] = {}

    def reader(self, connected: bool, name: str | None, problem: str | None) -> None:
        with self._lock:
            changed = (connected, name) != (self.reader_connected, self.reader_name)
            self.reader_connected, self.reader_name = connected, name
        if connected and changed:
            log.info("reader connected: %s", name)
        if problem:
            self.error("reader", problem)
        else:
            self.clear_error("reader")

    def error(self, source: str, message: str) -> None:
        with self._lock:
            new = self._errors.get(source) != message
            self._errors.pop(source, None)
            self._errors[source] = message
        if new:
            log.error("%s: %s", source, message)

    def clear_error(self, source: str) -> None:
        with self._lock:
            message = self._errors.pop(source, None)
        if message:
            log.info("%s: recovered", source)

    def answered(self, source: str | None = None) -> None:
        """The server took a request (from source, "sender" or "heartbeat", if it succeeded)."""
        self.server_answered(True)
        self.token(False)
        for recovered in ("server", "token", source):
            if recovered:
                self.clear_error(recovered)

    def unreachable(self, problem: str) -> None:
        self.server_answered(False)
        self.error("server", problem)

    def token_refused(self) -> None:
        self.server_answered(True)
        self.token(True)
        self.error("token", TOKEN_REJECTED)

    def server_answered(self, reachable: bool) -> None:
        with self._lock:
            changed, self.server_reachable = self.server_reachable != reachable, reachable
        if changed:
            log.info("server %s", "reachable" if reachable else "unreachable")

    def token(self, rejected: bool) -> None:
        with self._lock:
            changed, self.token_rejected = self.token_rejected != rejected, rejected
        if changed and not rejected:
            log.info("the server accepts the station token again")

    def delivered(self, at: datetime | None = None) -> None:
        with self._lock:
            self.last_delivery_at = at or utc_now()

    @property
    def last_error(self) -> str | None:
        with self._lock:
            return next(reversed(self._errors.values()), None)

    def snapshot(self) -> dict:
        with self._lock:
            return {
                "reader_connected": self.reader_connected,
                "reader_name": self.reader_name,
                "last_error": next(reversed(self._errors.values()), None),
                "token_rejected": self.token_rejected,
                "server_reachable": self.server_reachable,
                "last_delivery_at": iso(self.last_delivery_at) if self.last_delivery_at else None,
            }
