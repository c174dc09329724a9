"""Where UIDs come from: a PC/SC reader through pyscard, or lines on stdin.

This is the only module that imports pyscard, and only when a PC/SC reader is built, so that
READER=stdin runs (demos, tests, CI without hardware) on a machine without pyscard or pcscd.
"""

import logging
import os
import re
import select
import threading
import time
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger("agent.reader")

UidSink = Callable[[str], None]
# (connected, reader name, problem for people or None)
ReaderReport = Callable[[bool, str | None, str | None], None]

GET_UID = [0xFF, 0xCA, 0x00, 0x00, 0x00]
_SEPARATORS = re.compile(r"[\s:\-]")
_HEX_UID = re.compile(r"(?:[0-9A-F]{2}){1,32}")


class Reader(Protocol):
    def run(self, on_uid: UidSink, report: ReaderReport, stop: threading.Event) -> None:
        """Call on_uid for each card read until stop is set; report reader changes."""


def normalise_uid(raw: str | bytes | list[int]) -> str | None:
    """Upper-case hex with no separators, or None when it is not a UID."""
    if isinstance(raw, bytes | list):
        text = bytes(raw).hex().upper()
    else:
        text = _SEPARATORS.sub("", raw).upper()
    return text if _HEX_UID.fullmatch(text) else None


class Debouncer:
    """Drops a UID seen again within the window of its last sighting.

    The window restarts on every sighting, dropped or not, so a tag fluttering at the edge of the
    field counts once however long it flutters. Only the last UID is remembered: badge, tool,
    badge in quick succession are three deliberate taps.
    """

    def __init__(self, window_seconds: float, clock: Callable[[], float] = time.monotonic):
        self.window = window_seconds
        self.clock = clock
        self._last_uid: str | None = None
        self._last_seen = 0.0

    def accept(self, uid: str) -> bool:
        now = self.clock()
        repeat = uid == self._last_uid and now - self._last_seen < self.window
        self._last_uid, self._last_seen = uid, now
        return not repeat


class StdinReader:
    """One UID per line; for demos and for tests that need no reader hardware."""

    def __init__(self, fd: int = 0):
        self.fd = fd

    def run(self, on_uid: UidSink, report: ReaderReport, stop: threading.Event) -> None:
        report(True, "stdin", None)
        buffer = b""
        while not stop.is_set():
            # select with a timeout, not a blocking read, so SIGTERM is honoured promptly.
            ready, _, _ = select.select([self.fd], [], [], 0.5)
            if not ready:
                continue
            chunk = os.read(self.fd, 4096)
            if not chunk:
                report(False, "stdin", "stdin closed: no more reads")
                return
            *lines, buffer = (buffer + chunk).split(b"\n")
            for line in lines:
                self._line(line.decode("utf-8", "replace"), on_uid)

    @staticmethod
    def _line(line: str, on_uid: UidSink) -> None:
        if not line.strip():
            return
        uid = normalise_uid(line)
        if uid is None:
            log.warning("ignored a stdin line that is not a hex UID: %r", line[:80])
        else:
            on_uid(uid)


class _ContextLost(Exception):
    """pcscd went away (stopped, restarted, crashed): the context must be established again."""


class PcscReader:
    """Waits for cards with SCardGetStatusChange and reads each with GET DATA (FF CA 00 00 00).

    The low-level API is used rather than CardMonitor because every failure has to be handled
    here: pcscd missing at start, the reader unplugged, pcscd restarted under us, a card pulled
    away mid-read. `scard` is the smartcard.scard module; tests pass a fake with the same names.
    """

    RETRY_SECONDS = 1.0
    # Bounds how long stop waits for SCardGetStatusChange; pcscd itself polls every ~400 ms.
    WAIT_MS = 500

    def __init__(self, reader_name: str | None = None, scard=None):
        if scard is None:
            import smartcard.scard as scard
        self.s = scard
        self.wanted = reader_name
        # The UID of the card read last and not yet seen lifted: still the same card, if it is
        # on the reader when the reader comes back after a reset.
        self.lying: str | None = None
        self._context_lost_codes = {
            scard.SCARD_E_NO_SERVICE,
            scard.SCARD_E_SERVICE_STOPPED,
            scard.SCARD_F_COMM_ERROR,
            scard.SCARD_E_INVALID_HANDLE,
        }

    def probe(self) -> tuple[str | None, str | None]:
        """(reader name, None) if a reader is usable now, else (None, the problem)."""
        hresult, context = self.s.SCardEstablishContext(self.s.SCARD_SCOPE_USER)
        if hresult != self.s.SCARD_S_SUCCESS:
            return None, f"pcscd is not available: {self._describe(hresult)}"
        try:
            return self._pick_reader(context)
        except _ContextLost as exc:
            return None, f"lost the connection to pcscd: {exc}"
        finally:
            self.s.SCardReleaseContext(context)

    def run(self, on_uid: UidSink, report: ReaderReport, stop: threading.Event) -> None:
        while not stop.is_set():
            hresult, context = self.s.SCardEstablishContext(self.s.SCARD_SCOPE_USER)
            if hresult != self.s.SCARD_S_SUCCESS:
                report(False, None, f"pcscd is not available: {self._describe(hresult)}")
                stop.wait(self.RETRY_SECONDS)
                continue
            try:
                self._with_context(context, on_uid, report, stop)
            except _ContextLost as exc:
                report(False, None, f"lost the connection to pcscd: {exc}")
            finally:
                self.s.SCardReleaseContext(context)

    def _with_context(self, context, on_uid, report, stop) -> None:
        while not stop.is_set():
            name, problem = self._pick_reader(context)
            if name is None:
                report(False, None, problem)
                stop.wait(self.RETRY_SECONDS)
                continue
            report(True, name, None)
            gone = self._watch(context, name, on_uid, stop)
            if gone:
                # Listed but unusable (a failing USB device, a reset under way): say so, and
                # do not ask again at once, or this loop spins a CPU core.
                report(False, None, gone)
                stop.wait(self.RETRY_SECONDS)

    def _pick_reader(self, context) -> tuple[str | None, str | None]:
        hresult, readers = self.s.SCardListReaders(context, [])
        if hresult == self.s.SCARD_E_NO_READERS_AVAILABLE:
            readers = []
        elif hresult != self.s.SCARD_S_SUCCESS:
            raise _ContextLost(self._describe(hresult))
        if self.wanted:
            matching = [r for r in readers if self.wanted.lower() in r.lower()]
            if not matching:
                found = ", ".join(readers) or "none"
                return None, f"no reader name contains {self.wanted!r} (readers: {found})"
            return matching[0], None
        if not readers:
            return None, "no PC/SC reader connected"
        return readers[0], None

    def _watch(self, context, name: str, on_uid: UidSink, stop: threading.Event) -> str | None:
        """Read each new card until the reader disappears (returns why) or stop is set."""
        s = self.s
        known = s.SCARD_STATE_UNAWARE
        while not stop.is_set():
            hresult, states = s.SCardGetStatusChange(context, self.WAIT_MS, [(name, known)])
            if hresult == s.SCARD_E_TIMEOUT:
                continue
            if hresult in (s.SCARD_E_UNKNOWN_READER, s.SCARD_E_READER_UNAVAILABLE):
                return f"{name} disappeared ({self._describe(hresult)})"
            if hresult != s.SCARD_S_SUCCESS:
                raise _ContextLost(self._describe(hresult))
            event = states[0][1]
            if event & (s.SCARD_STATE_UNKNOWN | s.SCARD_STATE_UNAVAILABLE):
                return f"{name} is unavailable"
            present = event & s.SCARD_STATE_PRESENT and not event & s.SCARD_STATE_MUTE
            if not event & s.SCARD_STATE_PRESENT:
                self.lying = None  # the reader is empty: whatever is laid on it next is new
            # The high 16 bits count insertions and removals: a card swapped between two of
            # pcscd's polls looks PRESENT before and after, only the counter tells it is new.
            # A card already lying on the reader at start (known = UNAWARE) is read too: after a
            # restart it may be a tap that happened while the agent was down.
            is_new = present and (
                not known & s.SCARD_STATE_PRESENT or (event >> 16) != (known >> 16)
            )
            if event & s.SCARD_STATE_MUTE and not known & s.SCARD_STATE_MUTE:
                log.warning("a card on %s does not answer (mute); lay it flat on the reader", name)
            at_start = known == s.SCARD_STATE_UNAWARE
            known = event & ~s.SCARD_STATE_CHANGED
            if is_new:
                self._read_card(context, name, on_uid, at_start)
        return None

    def _read_card(self, context, name: str, on_uid: UidSink, at_start: bool) -> None:
        s = self.s
        hresult, card, protocol = s.SCardConnect(
            context, name, s.SCARD_SHARE_SHARED, s.SCARD_PROTOCOL_T0 | s.SCARD_PROTOCOL_T1
        )
        if hresult != s.SCARD_S_SUCCESS:
            self._card_failed(name, "connect to the card", hresult)
            return
        try:
            hresult, response = s.SCardTransmit(card, protocol, GET_UID)
        finally:
            s.SCardDisconnect(card, s.SCARD_LEAVE_CARD)
        if hresult != s.SCARD_S_SUCCESS:
            self._card_failed(name, "read the UID", hresult)
            return
        data, status = response[:-2], response[-2:]
        if list(status) != [0x90, 0x00]:
            status_word = bytes(status).hex().upper() or "nothing"
            log.warning(
                "%s answered GET UID with status %s, not 9000; card ignored", name, status_word
            )
            return
        uid = normalise_uid(data)
        if uid is None:
            log.warning("%s returned an empty or oversized UID; card ignored", name)
            return
        if at_start and uid == self.lying:
            # The reader came back (a USB reset, pcscd restarted) with the card that was lying
            # on it before: the same card, not a new tap.
            log.info("%s still lies on %s after it reconnected; not a new tap", uid, name)
            return
        self.lying = uid
        on_uid(uid)

    def _card_failed(self, name: str, action: str, hresult: int) -> None:
        if hresult in self._context_lost_codes:
            raise _ContextLost(self._describe(hresult))
        # Usually the card left the field mid-read (SCARD_W_REMOVED_CARD); the next tap retries.
        log.warning("could not %s on %s: %s", action, name, self._describe(hresult))

    def _describe(self, hresult: int) -> str:
        return f"{self.s.SCardGetErrorMessage(hresult)} (0x{hresult & 0xFFFFFFFF:08X})"


def make_reader(kind: str, reader_name: str | None) -> Reader:
    return StdinReader() if kind == "stdin" else PcscReader(reader_name)
