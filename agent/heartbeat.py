"""Tells the server every HEARTBEAT_SECONDS that this kiosk is alive, answers the replay the
server may ask for after a restore, and prunes the outbox."""

import logging
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from agent import __version__
from agent.outbox import Outbox, iso
from agent.replay import Replayer, ReplayRequest
from agent.state import TOKEN_REJECTED, AgentState
from agent.transport import GATEWAY_ERRORS, Transport, TransportError

log = logging.getLogger("agent.heartbeat")

HEARTBEAT_PATH = "/api/v1/kiosk/heartbeat"
THERMAL_ZONE = Path("/sys/class/thermal/thermal_zone0/temp")
PRUNE_EVERY_SECONDS = 3600.0


def cpu_temperature(path: Path = THERMAL_ZONE) -> float | None:
    try:
        return int(path.read_text().strip()) / 1000
    except (OSError, ValueError):
        return None


def heartbeat_payload(
    reader_connected: bool,
    reader_name: str | None,
    outbox: Outbox | None,
    started: float,
    interval: float,
) -> dict:
    """started is a time.monotonic() reading: the uptime is the agent's, not the machine's.

    outbox is None for `check` on a kiosk whose outbox does not exist yet. interval is
    HEARTBEAT_SECONDS: the kiosk screen calls the reader silent after about two missed beats.
    """
    kept_since = outbox.kept_since() if outbox else None
    return {
        "heartbeat_seconds": interval,
        "reader_connected": reader_connected,
        "reader_name": reader_name,
        "outbox_depth": outbox.depth() if outbox else 0,
        "oldest_pending_seconds": outbox.oldest_pending_seconds() if outbox else None,
        "agent_version": __version__,
        "hostname": socket.gethostname(),
        "uptime_seconds": round(time.monotonic() - started, 1),
        "cpu_temperature": cpu_temperature(),
        # How far back this kiosk can send its taps again, and the last replay it finished.
        "replayable_since": iso(kept_since) if kept_since else None,
        "replay_done": outbox.last_finished_replay() if outbox else None,
    }


@dataclass(frozen=True)
class BeatResult:
    problem: str | None = None  # None: the server took the heartbeat
    reachable: bool = True
    token_rejected: bool = False
    replay: ReplayRequest | None = None  # what the server asks to be sent again


def beat(transport: Transport, payload: dict) -> BeatResult:
    try:
        response = transport.post(HEARTBEAT_PATH, payload)
    except TransportError as exc:
        return BeatResult(f"server unreachable: {exc}", reachable=False)
    if response.status in (200, 204):
        return BeatResult(replay=ReplayRequest.from_answer(response.body))
    if response.status == 401:
        return BeatResult(TOKEN_REJECTED, token_rejected=True)
    if response.status in GATEWAY_ERRORS:
        return BeatResult(f"server unavailable ({response.status})", reachable=False)
    return BeatResult(f"server answered {response.status}: {response.text[:200]}")


class Housekeeping:
    """The heartbeat and the outbox pruning share one unhurried thread."""

    def __init__(
        self,
        transport: Transport,
        state: AgentState,
        outbox: Outbox,
        interval: float,
        retention_days: int,
        batch_max: int = 100,
    ):
        self.transport = transport
        self.state = state
        self.outbox = outbox
        self.interval = interval
        self.retention_days = retention_days
        self.started = time.monotonic()
        self.replayer = Replayer(outbox, transport, state, batch_max)

    def run(self, stop: threading.Event) -> None:
        next_prune = 0.0
        while not stop.is_set():
            try:
                if time.monotonic() >= next_prune:
                    next_prune = time.monotonic() + PRUNE_EVERY_SECONDS
                    self.prune()
                self.beat_once()
            except Exception:
                # As with the sender: a surprise must not silence the kiosk for good.
                log.exception("heartbeat failed unexpectedly")
                self.state.error("heartbeat", "heartbeat failed unexpectedly; see the log")
            stop.wait(self.interval)

    def prune(self) -> None:
        pruned = self.outbox.prune(self.retention_days)
        if pruned:
            log.info("pruned %d delivered events older than %d days", pruned, self.retention_days)

    def beat_once(self) -> None:
        result = self._beat()
        if result.replay is not None and self.replayer.answer(result.replay):
            # Said at once, not a heartbeat later: the server applies the taps it holds when
            # the last kiosk has answered.
            self._beat()

    def _beat(self) -> BeatResult:
        state = self.state
        payload = heartbeat_payload(
            state.reader_connected, state.reader_name, self.outbox, self.started, self.interval
        )
        result = beat(self.transport, payload)
        if result.problem is None:
            state.answered("heartbeat")
        elif not result.reachable:
            state.unreachable(result.problem)
        elif result.token_rejected:
            state.token_refused()
        else:
            state.server_answered(True)
            state.error("heartbeat", result.problem)
        return result
