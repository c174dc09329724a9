"""The Agent's wiring, in process, with a scripted reader instead of hardware."""

import sqlite3
import threading

import pytest

from agent.runner import Agent
from tests.agent.conftest import wait_until


class ScriptedReader:
    """Fails on its first run (a bug nobody foresaw), then reads the given UIDs."""

    def __init__(self, uids: list[str], crash_first: bool = False):
        self.uids = uids
        self.crash_first = crash_first
        self.runs = 0

    def run(self, on_uid, report, stop: threading.Event) -> None:
        self.runs += 1
        if self.crash_first and self.runs == 1:
            raise RuntimeError("unexpected reader bug")
        report(True, "scripted", None)
        for uid in self.uids:
            on_uid(uid)
        stop.wait()


@pytest.fixture
def run_agent():
    started = []

    def start(agent: Agent) -> Agent:
        thread = threading.Thread(target=agent.run)
        thread.start()
        started.append((agent, thread))
        return agent

    yield start
    for agent, thread in started:
        agent.request_stop()
        thread.join(10)
        assert not thread.is_alive()


def test_a_crashed_reader_is_restarted_and_taps_still_arrive(make_config, fake_server, run_agent):
    reader = ScriptedReader(["01010101"], crash_first=True)

    run_agent(Agent(make_config(), reader=reader))

    wait_until(lambda: fake_server.applied_uids() == ["01010101"])
    assert reader.runs == 2


def test_a_tap_that_cannot_be_saved_is_reported_loudly(make_config, run_agent, caplog):
    agent = Agent(make_config(), reader=ScriptedReader(["01010101"]))

    def disk_failure(uid, read_at, boot):
        raise sqlite3.OperationalError("disk I/O error")

    agent.outbox.add = disk_failure
    run_agent(agent)

    wait_until(lambda: agent.state.last_error)
    assert agent.state.last_error == "could not save a tap (uid=01010101): disk I/O error"
    assert "outbox: could not save a tap (uid=01010101): disk I/O error" in caplog.text


def test_debounced_repeats_are_not_saved(make_config, fake_server, run_agent):
    config = make_config(debounce_seconds=5.0)
    agent = run_agent(Agent(config, reader=ScriptedReader(["01010101", "01010101", "02020202"])))

    wait_until(lambda: len(fake_server.applied) == 2)
    assert [e.uid for e in agent.outbox.recent(10)] == ["02020202", "01010101"]


def test_stopping_closes_the_outbox_after_the_threads_end(make_config):
    agent = Agent(make_config(), reader=ScriptedReader([]))
    thread = threading.Thread(target=agent.run)
    thread.start()
    wait_until(lambda: agent.state.reader_connected)

    agent.request_stop()
    thread.join(10)

    assert not thread.is_alive()
    with pytest.raises(sqlite3.ProgrammingError):
        agent.outbox.depth()
