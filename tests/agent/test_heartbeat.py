import socket
import threading
from datetime import UTC, datetime, timedelta

from agent import __version__
from agent.heartbeat import HEARTBEAT_PATH, Housekeeping, beat, cpu_temperature, heartbeat_payload
from agent.outbox import DELIVERED, Settlement, utc_now
from agent.state import AgentState
from tests.agent.conftest import wait_until
from tests.agent.fake_transport import FakeTransport, status, unreachable

T0 = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)


def test_the_payload_has_every_field_of_the_contract(outbox):
    outbox.add("01010101", T0)

    payload = heartbeat_payload(True, "Sony RC-S300", outbox, started=0.0, interval=15.0)

    assert set(payload) == {
        "heartbeat_seconds",
        "reader_connected",
        "reader_name",
        "outbox_depth",
        "oldest_pending_seconds",
        "agent_version",
        "hostname",
        "uptime_seconds",
        "cpu_temperature",
        "replayable_since",
        "replay_done",
    }
    assert payload["heartbeat_seconds"] == 15.0
    assert payload["reader_connected"] is True
    assert payload["reader_name"] == "Sony RC-S300"
    assert payload["outbox_depth"] == 1
    assert payload["oldest_pending_seconds"] > 0
    assert payload["agent_version"] == __version__
    assert payload["hostname"] == socket.gethostname()
    assert payload["uptime_seconds"] > 0


def test_cpu_temperature_comes_from_the_thermal_zone_in_degrees(tmp_path):
    zone = tmp_path / "temp"
    zone.write_text("48312\n")

    assert cpu_temperature(zone) == 48.312


def test_cpu_temperature_is_null_where_there_is_no_thermal_zone(tmp_path):
    assert cpu_temperature(tmp_path / "missing") is None


def test_beat_posts_to_the_heartbeat_endpoint_and_reads_the_answer():
    transport = FakeTransport(status(204))

    assert beat(transport, {"x": 1}).problem is None
    assert transport.posts == [(HEARTBEAT_PATH, {"x": 1})]
    assert beat(FakeTransport(status(401)), {}).token_rejected
    assert not beat(FakeTransport(unreachable), {}).reachable
    assert not beat(FakeTransport(status(502)), {}).reachable


def test_a_heartbeat_answer_updates_what_the_kiosk_is_told(outbox):
    state = AgentState()
    keeper = Housekeeping(FakeTransport(status(401)), state, outbox, 15.0, 30)

    keeper.beat_once()
    assert state.token_rejected and state.server_reachable
    assert state.last_error.startswith("TOKEN REJECTED (401)")

    keeper.transport = FakeTransport(unreachable)
    keeper.beat_once()
    assert not state.server_reachable

    keeper.transport = FakeTransport(status(200))
    keeper.beat_once()
    assert state.server_reachable and not state.token_rejected
    assert state.last_error is None


def test_an_unexpected_failure_does_not_end_the_heartbeat(outbox):
    calls = []

    def fail_once(payload):
        calls.append(payload)
        if len(calls) == 1:
            raise RuntimeError("a bug nobody foresaw")
        return status(204)(payload)

    state = AgentState()
    keeper = Housekeeping(FakeTransport(fail_once), state, outbox, 0.01, 30)
    stop = threading.Event()
    thread = threading.Thread(target=keeper.run, args=(stop,))
    thread.start()
    try:
        wait_until(lambda: len(calls) >= 2 and state.last_error is None)
    finally:
        stop.set()
        thread.join(5)

    assert state.server_reachable


def test_housekeeping_prunes_deliveries_older_than_the_retention(outbox):
    long_ago = utc_now() - timedelta(days=31)
    old = outbox.add("01010101", long_ago)
    outbox.settle([Settlement(old.id, DELIVERED)], now=long_ago)
    recent = outbox.add("02020202", utc_now())
    outbox.settle([Settlement(recent.id, DELIVERED)])
    keeper = Housekeeping(FakeTransport(status(204)), AgentState(), outbox, 15.0, 30)

    keeper.prune()

    assert [e.uid for e in outbox.recent(10)] == ["02020202"]
