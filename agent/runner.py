"""Wires the agent's threads: reader -> outbox -> sender, plus heartbeat and status endpoint."""

import errno
import logging
import signal
import sqlite3
import threading
from collections.abc import Callable

from agent import __version__, clock
from agent.config import Config
from agent.heartbeat import Housekeeping
from agent.outbox import Outbox, foreign_owner
from agent.reader import Debouncer, Reader, make_reader
from agent.sender import Sender
from agent.state import AgentState
from agent.status import StatusServer
from agent.transport import HttpTransport

log = logging.getLogger("agent")

JOIN_SECONDS = 5.0


class Agent:
    def __init__(self, config: Config, reader: Reader | None = None):
        self.config = config
        self.state = AgentState()
        self.outbox = Outbox(config.outbox_path)
        self.reader = reader or make_reader(config.reader, config.reader_name)
        self.debouncer = Debouncer(config.debounce_seconds)
        self.stop = threading.Event()
        self.wake = threading.Event()
        self.sender = Sender(
            self.outbox,
            HttpTransport(config.server_url, config.station_token, config.ca_bundle),
            self.state,
            config.batch_max,
        )
        # Its own connection: a heartbeat must not wait behind a send stuck in a timeout.
        self.housekeeping = Housekeeping(
            HttpTransport(config.server_url, config.station_token, config.ca_bundle),
            self.state,
            self.outbox,
            config.heartbeat_seconds,
            config.retention_days,
            config.batch_max,
        )
        self.status_server = StatusServer(
            config.status_port, config.server_origin, self.state, self.outbox
        )

    def on_uid(self, uid: str) -> None:
        """Called on the reader thread for every card read."""
        if not self.debouncer.accept(uid):
            log.info(
                "ignored uid=%s: repeat within the %.1f s debounce window",
                uid,
                self.config.debounce_seconds,
            )
            return
        try:
            event = self.outbox.add(uid, *clock.now())
        except Exception as exc:
            # Disk full or the SD card failing: the tap is lost, so say so as loudly as we can.
            self.state.error("outbox", f"could not save a tap (uid={uid}): {exc}")
            return
        self.state.clear_error("outbox")
        log.info("saved seq=%d uid=%s id=%s", event.seq, event.uid, event.id)
        self.wake.set()

    def request_stop(self) -> None:
        self.stop.set()
        self.wake.set()

    def run(self) -> int:
        log.info(
            "toolcrib agent %s starting: reader=%s server=%s outbox=%s status=127.0.0.1:%d",
            __version__,
            self.config.reader,
            self.config.server_url,
            self.config.outbox_path,
            self.config.status_port,
        )
        depth = self.outbox.depth()
        if depth:
            log.info("%d events waiting in the outbox from before", depth)
        threads = [
            self._thread("reader", self._read),
            self._thread("sender", lambda: self.sender.run(self.stop, self.wake)),
            self._thread("heartbeat", lambda: self.housekeeping.run(self.stop)),
            self.status_server.start(),
        ]
        self.stop.wait()
        log.info("stopping")
        self.status_server.shutdown()
        self.status_server.server_close()
        stuck = []
        for thread in threads:
            thread.join(JOIN_SECONDS)
            if thread.is_alive():
                stuck.append(thread.name)
        if stuck:
            # A send blocked in its network timeout: its events stay pending and are resent
            # (and deduplicated by the server) on the next start, so leaving is safe.
            log.warning("leaving without waiting for: %s", ", ".join(stuck))
        else:
            self.outbox.close()
        log.info("stopped")
        return 0

    def _read(self) -> None:
        # The reader handles the failures it knows; this catches the ones nobody foresaw, so that
        # a bug costs a second of reading instead of a kiosk that silently stops taking taps.
        while not self.stop.is_set():
            try:
                self.reader.run(self.on_uid, self.state.reader, self.stop)
                return
            except Exception:
                log.exception("the reader failed; restarting it")
                self.state.reader(False, None, "the reader failed; see the log")
                self.stop.wait(1.0)

    def _thread(self, name: str, target: Callable[[], None]) -> threading.Thread:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        return thread


def run(config: Config) -> int:
    if problem := foreign_owner(config.outbox_path):
        log.error("cannot start: %s", problem)
        return 1
    try:
        agent = Agent(config)
    except (OSError, sqlite3.Error) as exc:
        log.error("cannot start: %s", _start_problem(config, exc))
        return 1

    def on_signal(signum, _frame) -> None:
        log.info("received %s", signal.Signals(signum).name)
        agent.request_stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    return agent.run()


def _start_problem(config: Config, exc: Exception) -> str:
    if isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE:
        return (
            f"port {config.status_port} on 127.0.0.1 is in use; is another agent running? "
            "(STATUS_PORT changes it)"
        )
    return f"outbox {config.outbox_path}: {exc}"
