"""Sends pending outbox events to the server, oldest first, and records each event's answer."""

import logging
import random
import threading
from collections.abc import Callable
from datetime import datetime

from agent import clock
from agent.outbox import DELIVERED, REJECTED, Event, Outbox, Settlement, iso
from agent.state import AgentState
from agent.transport import GATEWAY_ERRORS, Transport, TransportError

log = logging.getLogger("agent.sender")

SCANS_PATH = "/api/v1/kiosk/scans"
TOKEN_RETRY_SECONDS = 60.0
# After a restore the server holds taps until every kiosk has sent its older ones again: a held
# tap stays waiting and is sent again after this pause, to learn what became of it.
HELD_RETRY_SECONDS = 2.0
# Taps are rejected one by one only while the refusals look like a bad tap now and then.
MAX_REJECTED_IN_A_ROW = 3


class Backoff:
    """Exponential delays with jitter: attempt n waits between half and all of base * 2**n.

    The jitter keeps several kiosks that lost the server together from all retrying in the same
    instant when it comes back; the cap keeps the wait after a long outage short.
    """

    def __init__(
        self,
        base: float = 0.5,
        cap: float = 30.0,
        rng: Callable[[], float] = random.random,
    ):
        self.base, self.cap, self.rng = base, cap, rng
        self.attempts = 0

    def next_delay(self) -> float:
        ceiling = min(self.cap, self.base * 2**self.attempts)
        self.attempts += 1
        return ceiling / 2 + self.rng() * ceiling / 2

    def reset(self) -> None:
        self.attempts = 0


class Sender:
    def __init__(
        self,
        outbox: Outbox,
        transport: Transport,
        state: AgentState,
        batch_max: int = 100,
        backoff: Backoff | None = None,
        now: Callable[[], tuple[datetime, clock.BootTime | None]] = clock.now,
    ):
        self.outbox = outbox
        self.transport = transport
        self.state = state
        self.batch_max = batch_max
        self.backoff = backoff or Backoff()
        self.now = now
        self.limit = batch_max
        # While bisecting after a refused batch: how many events at the head of the queue the
        # refused one must be among, and how many single events were rejected in a row.
        self.suspects = 0
        self.rejected_in_a_row = 0

    def run(self, stop: threading.Event, wake: threading.Event) -> None:
        """Send until stop is set; the reader sets wake after each commit, so a tap goes at once.

        A wake also cuts a backoff wait short: a fresh tap is the best moment to try the server
        again, and taps come at human pace, so this cannot turn into a flood.
        """
        while not stop.is_set():
            wake.clear()  # before reading the outbox, so a commit racing with us is not missed
            try:
                delay = self.send_once()
            except Exception:
                # A bug or a failing disk must not end sending for good: say so, wait, go on.
                log.exception("sending failed unexpectedly")
                self.state.error("sender", "sending failed unexpectedly; see the log")
                delay = self.backoff.next_delay()
            if delay != 0:
                wake.wait(delay)

    def send_once(self) -> float | None:
        """Send one batch; returns seconds to wait before the next (None: until woken)."""
        batch = self.outbox.pending(self.limit)
        if not batch:
            return None
        sent_at, boot = self.now()
        events = [event.wire(sent_at, boot) for event in batch]
        payload = {"sent_at": iso(sent_at), "events": events}
        try:
            response = self.transport.post(SCANS_PATH, payload)
        except TransportError as exc:
            self.state.unreachable(f"server unreachable: {exc}")
            return self._retry_later()
        if response.status in GATEWAY_ERRORS:
            self.state.unreachable(f"server unavailable ({response.status})")
            return self._retry_later()
        if response.status == 401:
            if self.state.token_rejected:
                log.error("the station token is still rejected (401); %d taps waiting", len(batch))
            self.state.token_refused()
            return TOKEN_RETRY_SECONDS
        if response.status == 400 and _is_api_refusal(response.body):
            self.state.answered()
            if _refuses_the_events(response.body):
                return self._refused_batch(batch, response.text)
            # The batch's own fields (sent_at, the shape): a server and an agent that disagree
            # on the format, which no tap is to blame for. They wait for an upgrade.
            self.state.error("sender", f"server refused the batch format: {response.text[:200]}")
            return self._retry_later()
        if response.status != 200:
            self.state.server_answered(True)
            self.state.error("sender", f"server answered {response.status}: {response.text[:200]}")
            return self._retry_later()
        return self._record_results(batch, response.body)

    def _record_results(self, batch: list[Event], body) -> float:
        answers = _results_by_id(body)
        settlements = []
        held = 0
        for event in batch:
            answer = answers.get(event.id)
            if answer is None:
                continue
            status, outcome, message = answer
            if status in ("applied", "duplicate"):
                settlements.append(Settlement(event.id, DELIVERED, outcome, message))
                log.info("delivered seq=%d uid=%s %s: %s", event.seq, event.uid, status, outcome)
            elif status == "rejected":
                settlements.append(Settlement(event.id, REJECTED, outcome, message))
                log.error("server rejected seq=%d uid=%s: %s", event.seq, event.uid, message)
            elif status == "held":
                held += 1
        self.outbox.settle(settlements)
        if settlements:
            self.state.delivered()
        if len(settlements) + held < len(batch):
            self.state.server_answered(True)
            missing = len(batch) - len(settlements) - held
            self.state.error("sender", f"server gave no usable result for {missing} event(s)")
            return self._retry_later()
        self.state.answered("sender")
        self.backoff.reset()
        self.rejected_in_a_row = 0
        # Delivered events leave the suspects; none left means the refusal was not about them
        # (the server was fixed, or changed its mind): full batches again.
        self.suspects = max(0, self.suspects - len(batch))
        if not self.suspects:
            self.limit = self.batch_max
        if held:
            log.debug("%d taps held while the taps from before a restore come back", held)
            return HELD_RETRY_SECONDS
        return 0.0

    def _refused_batch(self, batch: list[Event], reason: str) -> float:
        """A 400 refuses the whole batch, so one bad event would block every later one.

        Rather than resend the same batch forever, bisect: halve the batch size after each
        refusal (successes in between deliver the events before the bad one, in order) until a
        single event is refused, and mark that one rejected with the server's reason: kept in the
        outbox, visible in `status`, never resent. Then full batches resume. Each answer is
        deterministic, so there is no backoff; 100 events take at most about 14 requests.
        """
        if len(batch) > 1:
            self.suspects = len(batch)
            self.limit = len(batch) // 2
            log.warning("server refused a batch of %d (400); retrying %d", len(batch), self.limit)
            return 0.0
        if self.rejected_in_a_row >= MAX_REJECTED_IN_A_ROW:
            # Every tap refused one after another is the server's fault, not the taps': they
            # wait (and the status says why) instead of all being rejected within a second.
            self.state.error("sender", f"server refuses every tap (400): {reason[:200]}")
            return self._retry_later()
        event = batch[0]
        message = f"server answered 400: {reason[:500]}"
        self.outbox.settle([Settlement(event.id, REJECTED, None, message)])
        log.error("rejected seq=%d uid=%s: %s", event.seq, event.uid, message)
        self.rejected_in_a_row += 1
        self.suspects = 0
        self.limit = self.batch_max
        return 0.0

    def _retry_later(self) -> float:
        delay = self.backoff.next_delay()
        # The problem itself is logged once when it starts (AgentState.error); not every retry.
        log.debug("will retry in %.1f s (attempt %d)", delay, self.backoff.attempts)
        return delay


def _is_api_refusal(body) -> bool:
    """The scans API's own answer to a batch it cannot accept, `{"code": "INVALID", ...}`.

    Any other 400 (a Host the server does not serve, plain HTTP to an HTTPS port, a proxy's
    limit) is a set-up fault that says nothing about the taps: they wait and are retried.
    """
    return isinstance(body, dict) and body.get("code") == "INVALID"


def _refuses_the_events(body) -> bool:
    """Whether a refusal can be one event's fault: unreadable JSON or a value the database
    refused (no field named), or the events themselves; not sent_at or the batch's shape."""
    fields = body.get("fields")
    return not isinstance(fields, dict) or bool({"events", "non_field_errors"} & set(fields))


def _results_by_id(body) -> dict[str, tuple[str, str | None, str | None]]:
    results = body.get("results") if isinstance(body, dict) else None
    if not isinstance(results, list):
        return {}
    answers = {}
    for result in results:
        if isinstance(result, dict) and isinstance(result.get("id"), str):
            outcome, message = result.get("outcome"), result.get("message")
            answers[result["id"]] = (
                result.get("status"),
                None if outcome is None else str(outcome),
                None if message is None else str(message),
            )
    return answers
