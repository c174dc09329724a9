"""PcscReader's handling of the PC/SC world changing under it, driven through a fake scard."""

import logging
import threading
import time

import pytest

from agent.reader import PcscReader
from tests.agent.conftest import wait_until
from tests.agent.fake_scard import FakeScard

SONY = "Sony FeliCa Port/PaSoRi 4.0 00 00"


class Running:
    """A PcscReader on its own thread, recording what it reads and reports."""

    def __init__(self, scard: FakeScard, reader_name: str | None = None):
        self.uids: list[str] = []
        self.reports: list[tuple] = []
        self.stop = threading.Event()
        reader = PcscReader(reader_name, scard=scard)
        reader.RETRY_SECONDS = 0.01
        reader.WAIT_MS = 20
        self.thread = threading.Thread(
            target=reader.run, args=(self.uids.append, self._report, self.stop)
        )
        self.thread.start()

    def _report(self, connected, name, problem) -> None:
        self.reports.append((connected, name, problem))

    @property
    def connected(self) -> bool:
        return bool(self.reports) and self.reports[-1][0]

    def close(self) -> None:
        self.stop.set()
        self.thread.join(2)
        assert not self.thread.is_alive()


@pytest.fixture
def running():
    started = []

    def start(scard, reader_name=None) -> Running:
        started.append(Running(scard, reader_name))
        return started[-1]

    yield start
    for reader in started:
        reader.close()


def test_the_fake_uses_the_real_pyscard_constants():
    scard = pytest.importorskip("smartcard.scard", reason="pyscard is not installed")
    names = [n for n in vars(FakeScard) if n.startswith("SCARD_")]

    assert {n: getattr(FakeScard, n) for n in names} == {n: getattr(scard, n) for n in names}


def test_reads_a_card_and_reports_the_reader_connected(running):
    scard = FakeScard()
    reader = running(scard)
    wait_until(lambda: reader.connected)

    scard.lay(SONY, "04A1B2C3D4E5F6")

    wait_until(lambda: reader.uids == ["04A1B2C3D4E5F6"])
    assert reader.reports[-1] == (True, SONY, None)


def test_reads_each_new_card_once_while_it_lies_on_the_reader(running):
    scard = FakeScard()
    reader = running(scard)
    scard.lay(SONY, "01020304")
    wait_until(lambda: reader.uids)

    scard.lift(SONY)
    scard.lay(SONY, "0A0B0C0D")

    wait_until(lambda: len(reader.uids) == 2)
    assert reader.uids == ["01020304", "0A0B0C0D"]


def test_a_card_swapped_between_two_polls_is_still_read(running):
    scard = FakeScard()
    reader = running(scard)
    scard.lay(SONY, "01020304")
    wait_until(lambda: reader.uids)

    scard.swap(SONY, "0A0B0C0D")

    wait_until(lambda: len(reader.uids) == 2)
    assert reader.uids[-1] == "0A0B0C0D"


def test_reads_a_card_already_on_the_reader_at_start(running):
    scard = FakeScard()
    scard.lay(SONY, "01020304")

    reader = running(scard)

    wait_until(lambda: reader.uids == ["01020304"])


def test_waits_for_pcscd_and_reports_it_missing(running):
    scard = FakeScard(service_up=False)
    reader = running(scard)

    wait_until(lambda: reader.reports)
    assert reader.reports[0][:2] == (False, None)
    assert reader.reports[0][2].startswith("pcscd is not available")

    scard.start_service()
    scard.lay(SONY, "01020304")

    wait_until(lambda: reader.uids == ["01020304"])
    assert reader.connected


def test_waits_for_a_reader_to_be_plugged_in(running):
    scard = FakeScard(readers=())
    reader = running(scard)
    wait_until(lambda: reader.reports)
    assert reader.reports[-1] == (False, None, "no PC/SC reader connected")

    scard.plug(SONY)
    scard.lay(SONY, "01020304")

    wait_until(lambda: reader.uids == ["01020304"])


def test_survives_the_reader_being_unplugged_and_plugged_back(running):
    scard = FakeScard()
    reader = running(scard)
    wait_until(lambda: reader.connected)

    scard.unplug(SONY)
    wait_until(lambda: not reader.connected)
    scard.plug(SONY)
    scard.lay(SONY, "01020304")

    wait_until(lambda: reader.uids == ["01020304"])
    assert reader.connected


def test_re_establishes_its_context_after_pcscd_restarts(running):
    scard = FakeScard()
    reader = running(scard)
    scard.lay(SONY, "01020304")
    wait_until(lambda: reader.uids)

    scard.stop_service()
    wait_until(lambda: not reader.connected)
    scard.start_service()
    scard.lift(SONY)
    scard.lay(SONY, "0A0B0C0D")

    wait_until(lambda: reader.uids == ["01020304", "0A0B0C0D"])
    assert scard.contexts_established >= 2
    assert any(p and p.startswith("lost the connection to pcscd") for _, _, p in reader.reports)


def test_a_card_left_on_the_reader_is_not_read_again_when_pcscd_comes_back(running):
    scard = FakeScard()
    reader = running(scard)
    scard.lay(SONY, "01020304")  # a tool left lying on the reader
    wait_until(lambda: reader.uids)

    scard.stop_service()
    wait_until(lambda: not reader.connected)
    scard.start_service()
    wait_until(lambda: reader.connected)
    time.sleep(0.2)
    assert reader.uids == ["01020304"]  # the same card, still lying there

    scard.lift(SONY)
    scard.lay(SONY, "01020304")  # lifted and laid again: a tap
    wait_until(lambda: len(reader.uids) == 2)


def test_a_listed_but_unusable_reader_is_reported_and_not_polled_in_a_loop(running):
    scard = FakeScard()
    scard.unavailable.add(SONY)
    reader = running(scard)
    wait_until(lambda: reader.reports)

    calls = scard.status_calls
    time.sleep(0.3)

    assert scard.status_calls - calls < 100  # one look per retry, not a spinning core
    assert not reader.connected
    assert reader.reports[-1][2] == f"{SONY} is unavailable"
    scard.unavailable.clear()
    wait_until(lambda: reader.connected)


def test_a_card_removed_mid_read_is_logged_and_the_next_one_read(running, caplog):
    scard = FakeScard()
    scard.remove_during_read = True
    reader = running(scard)

    scard.lay(SONY, "01020304")
    wait_until(lambda: "could not read the UID" in caplog.text)
    scard.lay(SONY, "0A0B0C0D")

    wait_until(lambda: reader.uids == ["0A0B0C0D"])
    assert "0x80100069" in caplog.text


def test_other_status_words_are_logged_with_the_reader_name(running, caplog):
    caplog.set_level(logging.WARNING)
    scard = FakeScard()
    scard.status_word = [0x6A, 0x81]
    reader = running(scard)

    scard.lay(SONY, "01020304")

    wait_until(lambda: "6A81" in caplog.text)
    assert f"{SONY} answered GET UID with status 6A81" in caplog.text
    assert reader.uids == []
    assert reader.connected


def test_reader_name_picks_a_reader_by_substring(running):
    scard = FakeScard(readers=("Virtual PCD 00 00", SONY))
    reader = running(scard, reader_name="pasori")

    scard.lay("Virtual PCD 00 00", "01020304")
    scard.lay(SONY, "0A0B0C0D")

    wait_until(lambda: reader.uids == ["0A0B0C0D"])
    assert reader.reports[-1] == (True, SONY, None)


def test_an_unmatched_reader_name_lists_the_readers_found(running):
    reader = running(FakeScard(readers=("Virtual PCD 00 00",)), reader_name="RC-S300")

    wait_until(lambda: reader.reports)

    assert reader.reports[-1] == (
        False,
        None,
        "no reader name contains 'RC-S300' (readers: Virtual PCD 00 00)",
    )


def test_probe_names_the_usable_reader_or_the_problem():
    assert PcscReader(scard=FakeScard()).probe() == (SONY, None)
    name, problem = PcscReader(scard=FakeScard(service_up=False)).probe()
    assert name is None and problem.startswith("pcscd is not available")
