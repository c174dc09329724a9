from datetime import UTC, datetime

from agent.outbox import Outbox
from agent.sender import SCANS_PATH, Sender
from agent.state import AgentState
from tests.agent.fake_transport import FakeTransport

T0 = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)


def fill(outbox: Outbox, count: int) -> list[str]:
    uids = [f"{n:08X}" for n in range(count)]
    for uid in uids:
        outbox.add(uid, T0)
    return uids


def drain(sender: Sender) -> None:
    while sender.send_once() == 0:
        pass


def test_sends_pending_events_oldest_first_in_batches_of_batch_max(outbox):
    uids = fill(outbox, 7)
    transport = FakeTransport()

    drain(Sender(outbox, transport, AgentState(), batch_max=3))

    assert transport.batches() == [uids[0:3], uids[3:6], uids[6:7]]
    assert outbox.depth() == 0


def test_posts_the_contract_body_to_the_scans_endpoint(outbox):
    event = outbox.add("04A1B2C3D4E5F6", T0)
    transport = FakeTransport()

    Sender(outbox, transport, AgentState()).send_once()

    [(path, payload)] = transport.posts
    assert path == SCANS_PATH
    assert payload["events"] == [
        {"id": event.id, "uid": "04A1B2C3D4E5F6", "read_at": "2026-11-23T07:00:00.000000Z"}
    ]
    sent_at = datetime.fromisoformat(payload["sent_at"])
    assert sent_at.tzinfo is not None and sent_at > T0


def test_an_empty_outbox_sends_nothing_and_waits_to_be_woken(outbox):
    transport = FakeTransport()

    assert Sender(outbox, transport, AgentState()).send_once() is None
    assert transport.posts == []


def test_events_saved_while_sending_go_in_the_next_batch(outbox):
    fill(outbox, 2)

    def answer_and_tap(payload):
        outbox.add("FFFFFFFF", T0)
        return FakeTransport().answer(payload)

    transport = FakeTransport(answer_and_tap)
    sender = Sender(outbox, transport, AgentState(), batch_max=10)
    sender.send_once()
    sender.send_once()

    assert transport.batches() == [["00000000", "00000001"], ["FFFFFFFF"]]
