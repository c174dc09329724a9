"""Drives the real PC/SC stack for tests: Debian's pcscd with vsmartcard-vpcd, and card processes.

Only one pcscd runs per machine, and card processes exit when pcscd goes away, so a test that
restarts pcscd must start its cards again afterwards.
"""

import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

PID_FILE = Path("/run/pcscd/pcscd.pid")
VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
SLOT_PORTS = {"Virtual PCD 00 00": 35963, "Virtual PCD 00 01": 35964}
CARD = Path(__file__).with_name("vpcd_card.py")


def pcscd_binary() -> str | None:
    return shutil.which("pcscd", path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")


def missing_parts() -> str | None:
    """Why the real PC/SC path cannot be tested here, or None when it can."""
    if pcscd_binary() is None:
        return "pcscd is not installed (apt-get install pcscd)"
    if not VPCD_DRIVER.exists():
        return "vsmartcard-vpcd is not installed (apt-get install vsmartcard-vpcd)"
    if importlib.util.find_spec("smartcard") is None:
        return "pyscard is not installed (pip install -r requirements/agent.txt)"
    return None


def _listening(port: int) -> bool:
    wanted = f":{port:04X}"
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as lines:
            for line in list(lines)[1:]:
                fields = line.split()
                if fields[1].endswith(wanted) and fields[3] == "0A":  # 0A: LISTEN
                    return True
    return False


def _wait(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


class Pcscd:
    def pid(self) -> int | None:
        try:
            pid = int(PID_FILE.read_bytes().strip(b"\0\n "))
        except (OSError, ValueError):
            return None
        try:
            comm = Path(f"/proc/{pid}/comm").read_text().strip()
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return None
        # An exited pcscd stays a zombie until init reaps it, which some inits do lazily.
        return pid if comm == "pcscd" and state != "Z" else None

    def running(self) -> bool:
        return self.pid() is not None

    def start(self) -> None:
        # Without -f it daemonizes and returns once it is set up; the readers follow shortly.
        subprocess.run([pcscd_binary()], check=True, timeout=10)
        # Probing the vpcd port by connecting would insert a mute card, so read /proc instead.
        _wait(lambda: all(_listening(p) for p in SLOT_PORTS.values()), 10, "pcscd's vpcd slots")

    def stop(self) -> None:
        pid = self.pid()
        if pid is None:
            return
        os.kill(pid, signal.SIGTERM)
        _wait(lambda: self.pid() != pid, 10, "pcscd to exit")
        _wait(lambda: not any(_listening(p) for p in SLOT_PORTS.values()), 10, "vpcd ports")

    def restart(self) -> None:
        self.stop()
        self.start()


class Card:
    """A virtual card on a vpcd slot: present while its process runs."""

    def __init__(self, uid: str, reader: str = "Virtual PCD 00 00"):
        self.uid = uid
        self.reader = reader
        self.process = subprocess.Popen(
            [sys.executable, str(CARD), "--uid", uid, "--port", str(SLOT_PORTS[reader])],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        line = self.process.stdout.readline()
        if line != "inserted\n":
            self.process.wait(5)
            raise RuntimeError(
                f"the card could not connect to pcscd (exit {self.process.returncode})"
            )

    def remove(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
        self.process.wait(5)
        self.process.stdout.close()


def wait_until_empty(reader: str, timeout: float = 5.0) -> None:
    """Until pcscd has noticed that no card is on `reader` (it polls about every 400 ms).

    A card removed at the end of one test may otherwise still look present to the next test's
    agent, and a card inserted within the same poll is then never seen as new.
    """
    from smartcard import scard

    hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if hresult != scard.SCARD_S_SUCCESS:
        return  # pcscd is not running: nothing is on any reader
    try:
        known, deadline = scard.SCARD_STATE_UNAWARE, time.monotonic() + timeout
        while time.monotonic() < deadline:
            hresult, states = scard.SCardGetStatusChange(context, 100, [(reader, known)])
            if hresult == scard.SCARD_S_SUCCESS:
                known = states[0][1] & ~scard.SCARD_STATE_CHANGED
                if known & scard.SCARD_STATE_EMPTY:
                    return
            elif hresult != scard.SCARD_E_TIMEOUT:
                return  # the reader or pcscd went away
        raise RuntimeError(f"{reader} still shows a card {timeout} s after it was removed")
    finally:
        scard.SCardReleaseContext(context)
