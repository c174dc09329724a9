import os
import threading

from agent.reader import StdinReader
from tests.agent.conftest import wait_until


class Recorder:
    def __init__(self):
        self.uids: list[str] = []
        self.reports: list[tuple] = []

    def on_uid(self, uid: str) -> None:
        self.uids.append(uid)

    def report(self, connected, name, problem) -> None:
        self.reports.append((connected, name, problem))


def start(reader: StdinReader, recorder: Recorder, stop: threading.Event) -> threading.Thread:
    thread = threading.Thread(target=reader.run, args=(recorder.on_uid, recorder.report, stop))
    thread.start()
    return thread


def test_reads_one_uid_per_line_and_skips_lines_that_are_not_uids():
    read_fd, write_fd = os.pipe()
    recorder, stop = Recorder(), threading.Event()
    thread = start(StdinReader(read_fd), recorder, stop)

    os.write(write_fd, b"04a1b2c3\n\nnot a uid\n04:A1:B2:C3:D4")
    os.write(write_fd, b"\n")  # a line split across two writes is still one line
    wait_until(lambda: len(recorder.uids) == 2)
    stop.set()
    thread.join(2)

    assert recorder.uids == ["04A1B2C3", "04A1B2C3D4"]
    assert recorder.reports[0] == (True, "stdin", None)
    os.close(read_fd)
    os.close(write_fd)


def test_reports_the_reader_gone_when_stdin_closes():
    read_fd, write_fd = os.pipe()
    recorder = Recorder()
    thread = start(StdinReader(read_fd), recorder, threading.Event())

    os.close(write_fd)
    thread.join(2)

    assert not thread.is_alive()
    assert recorder.reports[-1] == (False, "stdin", "stdin closed: no more reads")
    os.close(read_fd)


def test_stops_promptly_while_waiting_for_input():
    read_fd, write_fd = os.pipe()
    stop = threading.Event()
    thread = start(StdinReader(read_fd), Recorder(), stop)

    stop.set()
    thread.join(2)

    assert not thread.is_alive()
    os.close(read_fd)
    os.close(write_fd)
