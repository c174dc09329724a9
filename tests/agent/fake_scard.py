"""A scripted stand-in for pyscard's smartcard.scard: readers, cards and pcscd itself.

Same function names and constant values as the real module (a test checks the constants), so
PcscReader runs unchanged while the test plugs readers, lays cards, and restarts "pcscd".
"""

import threading
import time


class FakeScard:
    SCARD_S_SUCCESS = 0x0
    SCARD_E_INVALID_HANDLE = 0x80100003
    SCARD_E_UNKNOWN_READER = 0x80100009
    SCARD_E_TIMEOUT = 0x8010000A
    SCARD_F_COMM_ERROR = 0x80100013
    SCARD_E_READER_UNAVAILABLE = 0x80100017
    SCARD_E_NO_SMARTCARD = 0x8010000C
    SCARD_E_NO_SERVICE = 0x8010001D
    SCARD_E_SERVICE_STOPPED = 0x8010001E
    SCARD_E_NO_READERS_AVAILABLE = 0x8010002E
    SCARD_W_REMOVED_CARD = 0x80100069
    SCARD_SCOPE_USER = 0
    SCARD_SHARE_SHARED = 2
    SCARD_PROTOCOL_T0 = 1
    SCARD_PROTOCOL_T1 = 2
    SCARD_LEAVE_CARD = 0
    SCARD_STATE_UNAWARE = 0x0
    SCARD_STATE_CHANGED = 0x2
    SCARD_STATE_UNKNOWN = 0x4
    SCARD_STATE_UNAVAILABLE = 0x8
    SCARD_STATE_EMPTY = 0x10
    SCARD_STATE_PRESENT = 0x20
    SCARD_STATE_MUTE = 0x200

    def __init__(self, readers=("Sony FeliCa Port/PaSoRi 4.0 00 00",), service_up=True):
        self.lock = threading.Lock()
        self.service_up = service_up
        self.generation = 0  # bumped by a pcscd restart: older contexts become dead
        self.readers = {name: {"uid": None, "count": 0, "mute": False} for name in readers}
        self.status_word = [0x90, 0x00]
        self.remove_during_read = False
        self.contexts_established = 0
        self.unavailable: set[str] = set()  # listed, but pcscd cannot use them (a failing USB)
        self.status_calls = 0

    # --- what a test does to the world ---

    def lay(self, reader: str, uid: str) -> None:
        with self.lock:
            slot = self.readers[reader]
            slot["uid"], slot["count"] = bytes.fromhex(uid), slot["count"] + 1

    def lift(self, reader: str) -> None:
        with self.lock:
            slot = self.readers[reader]
            slot["uid"], slot["count"] = None, slot["count"] + 1

    def swap(self, reader: str, uid: str) -> None:
        """Lift and lay within one of pcscd's polls: the reader never looks empty."""
        with self.lock:
            slot = self.readers[reader]
            slot["uid"], slot["count"] = bytes.fromhex(uid), slot["count"] + 2

    def plug(self, reader: str) -> None:
        with self.lock:
            self.readers[reader] = {"uid": None, "count": 0, "mute": False}

    def unplug(self, reader: str) -> None:
        with self.lock:
            del self.readers[reader]

    def stop_service(self) -> None:
        with self.lock:
            self.service_up = False
            self.generation += 1

    def start_service(self) -> None:
        with self.lock:
            self.service_up = True

    # --- the smartcard.scard API ---

    def SCardEstablishContext(self, scope):
        with self.lock:
            if not self.service_up:
                return self.SCARD_E_NO_SERVICE, 0
            self.contexts_established += 1
            return self.SCARD_S_SUCCESS, self.generation

    def SCardReleaseContext(self, context):
        return self.SCARD_S_SUCCESS

    def SCardListReaders(self, context, groups):
        with self.lock:
            if error := self._dead(context):
                return error, []
            if not self.readers:
                return self.SCARD_E_NO_READERS_AVAILABLE, []
            return self.SCARD_S_SUCCESS, list(self.readers)

    def SCardGetStatusChange(self, context, timeout_ms, states):
        deadline = time.monotonic() + timeout_ms / 1000
        [(name, known)] = states
        while True:
            with self.lock:
                self.status_calls += 1
                if error := self._dead(context):
                    return error, []
                if name not in self.readers:
                    return self.SCARD_E_UNKNOWN_READER, []
                if name in self.unavailable:
                    return self.SCARD_S_SUCCESS, [(name, self.SCARD_STATE_UNAVAILABLE, [])]
                slot = self.readers[name]
                event = slot["count"] << 16
                if slot["uid"] is None:
                    event |= self.SCARD_STATE_EMPTY
                else:
                    event |= self.SCARD_STATE_PRESENT
                    if slot["mute"]:
                        event |= self.SCARD_STATE_MUTE
                if event != known & ~self.SCARD_STATE_CHANGED:
                    return self.SCARD_S_SUCCESS, [(name, event | self.SCARD_STATE_CHANGED, [])]
            if time.monotonic() >= deadline:
                return self.SCARD_E_TIMEOUT, []
            time.sleep(0.002)

    def SCardConnect(self, context, name, share, protocols):
        with self.lock:
            if error := self._dead(context):
                return error, 0, 0
            if name not in self.readers:
                return self.SCARD_E_UNKNOWN_READER, 0, 0
            if self.readers[name]["uid"] is None:
                return self.SCARD_E_NO_SMARTCARD, 0, 0
            return self.SCARD_S_SUCCESS, name, self.SCARD_PROTOCOL_T1

    def SCardTransmit(self, card, protocol, apdu):
        with self.lock:
            slot = self.readers[card]
            if self.remove_during_read:
                self.remove_during_read = False
                slot["uid"], slot["count"] = None, slot["count"] + 1
                return self.SCARD_W_REMOVED_CARD, []
            if apdu != [0xFF, 0xCA, 0x00, 0x00, 0x00]:
                return self.SCARD_S_SUCCESS, [0x6D, 0x00]
            data = list(slot["uid"]) if self.status_word == [0x90, 0x00] else []
            return self.SCARD_S_SUCCESS, data + self.status_word

    def SCardDisconnect(self, card, disposition):
        return self.SCARD_S_SUCCESS

    def SCardGetErrorMessage(self, hresult):
        return f"fake error 0x{hresult:08X}"

    def _dead(self, context) -> int | None:
        if not self.service_up:
            return self.SCARD_E_NO_SERVICE
        if context != self.generation:
            return self.SCARD_F_COMM_ERROR  # what pyscard returned after a real pcscd restart
        return None
