"""Sending delivered taps again after the server was restored from an archive.

A heartbeat's answer may name a replay: `{"replay": {"id": ..., "since": ...}}`. The agent then
sends every tap it delivered (or read) since that moment again, in outbox order, through the
scans API with the replay's id; the server answers each one (`duplicate` when the restored data
has it, `held` until every kiosk has answered) and applies them in read order across kiosks.
How far the agent got is kept in the outbox, so a restart or a lost connection resumes where it
stopped, and a finished replay is named in every heartbeat (`replay_done`) until the server
stops asking for it.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from agent import clock
from agent.outbox import Outbox, iso
from agent.sender import SCANS_PATH
from agent.state import AgentState
from agent.transport import GATEWAY_ERRORS, Transport, TransportError

log = logging.getLogger("agent.replay")


@dataclass(frozen=True)
class ReplayRequest:
    id: str
    since: datetime

    @classmethod
    def from_answer(cls, body) -> "ReplayRequest | None":
        """The replay a heartbeat's answer asks for; None when it asks for none (or for
        something this agent cannot read, which it then leaves alone)."""
        request = body.get("replay") if isinstance(body, dict) else None
        if not isinstance(request, dict):
            return None
        try:
            return cls(str(request["id"]), datetime.fromisoformat(request["since"]))
        except (KeyError, TypeError, ValueError):
            log.warning("cannot read the server's replay request: %r", request)
            return None


class Replayer:
    def __init__(
        self,
        outbox: Outbox,
        transport: Transport,
        state: AgentState,
        batch_max: int,
        now: Callable[[], tuple[datetime, clock.BootTime | None]] = clock.now,
    ):
        self.outbox = outbox
        self.transport = transport
        self.state = state
        self.batch_max = batch_max
        self.now = now

    def answer(self, request: ReplayRequest) -> bool:
        """Send what is left of this replay; True once all of it has been sent."""
        through, finished = self.outbox.replay_position(request.id)
        if finished:
            return True
        if not through:
            log.info("the server asks for the taps delivered since %s again", iso(request.since))
        while batch := self.outbox.delivered_since(request.since, through, self.batch_max):
            if not self._send(request, batch):
                return False  # asked again at the next heartbeat; resumes after `through`
            through = batch[-1].seq
            self.outbox.replay_sent(request.id, through)
        self.outbox.replay_finished(request.id)
        self.state.clear_error("replay")
        log.info("sent again every tap asked for by replay %s", request.id)
        return True

    def _send(self, request: ReplayRequest, batch) -> bool:
        sent_at, boot = self.now()
        payload = {
            "sent_at": iso(sent_at),
            "events": [event.wire(sent_at, boot) for event in batch],
            "replay": request.id,
        }
        try:
            response = self.transport.post(SCANS_PATH, payload)
        except TransportError as exc:
            self.state.unreachable(f"server unreachable: {exc}")
            return False
        if response.status == 200:
            # Every answer will do: these taps were delivered once; the server only needs them.
            return True
        if response.status in GATEWAY_ERRORS:
            self.state.unreachable(f"server unavailable ({response.status})")
        elif response.status == 401:
            self.state.token_refused()
        else:
            self.state.error(
                "replay",
                f"server refused taps sent again ({response.status}): {response.text[:200]}",
            )
        return False
