"""After a restore the server asks, in a heartbeat's answer, for the taps this kiosk delivered
since the archive was taken: they are sent again in outbox order, the agent remembers how far
it got, and says when it is done."""

from datetime import UTC, datetime, timedelta

from agent.heartbeat import HEARTBEAT_PATH, Housekeeping
from agent.outbox import DELIVERED, REJECTED, Outbox, Settlement, iso
from agent.replay import Replayer, ReplayRequest
from agent.sender import HELD_RETRY_SECONDS, SCANS_PATH, Sender
from agent.state import AgentState
from agent.transport import Response, TransportError
from tests.agent.fake_transport import FakeTransport, applied

ARCHIVE = datetime(2026, 11, 24, 2, 30, tzinfo=UTC)
REQUEST = ReplayRequest("7d0c3f5e-0f0a-4d4e-9a51-2f7a3f0c9b11", ARCHIVE)


def delivered(outbox: Outbox, uid: str, read_at: datetime, settled_at: datetime):
    event = outbox.add(uid, read_at)
    outbox.settle([Settlement(event.id, DELIVERED, "borrowed", "ok")], now=settled_at)
    return event


def replayer(outbox, transport, batch_max=100) -> Replayer:
    return Replayer(outbox, transport, AgentState(), batch_max, now=lambda: (ARCHIVE, None))


def sent_again(transport) -> list[str]:
    return [
        e["uid"] for path, body in transport.posts if path == SCANS_PATH for e in body["events"]
    ]


def test_every_tap_delivered_since_the_archive_is_sent_again_in_outbox_order(outbox):
    hour = timedelta(hours=1)
    delivered(outbox, "0A", ARCHIVE - 2 * hour, ARCHIVE - 2 * hour)  # in the archive
    delivered(outbox, "0B", ARCHIVE - hour, ARCHIVE + hour)  # read offline, delivered after
    delivered(outbox, "0C", ARCHIVE + hour, ARCHIVE + hour)
    refused = outbox.add("0D", ARCHIVE + 2 * hour)
    outbox.settle([Settlement(refused.id, REJECTED, None, "bad")])
    outbox.add("0E", ARCHIVE + 3 * hour)  # still waiting: the sender's, not the replay's
    delivered(outbox, "0F", ARCHIVE + 4 * hour, ARCHIVE + 4 * hour)
    transport = FakeTransport()

    assert replayer(outbox, transport).answer(REQUEST)

    assert sent_again(transport) == ["0B", "0C", "0F"]
    (_path, body), *_ = transport.posts
    assert body["replay"] == REQUEST.id
    assert body["sent_at"] == iso(ARCHIVE)
    assert outbox.last_finished_replay() == REQUEST.id


def test_a_replay_cut_off_midway_resumes_after_the_last_batch_the_server_took(outbox):
    for n in range(5):
        delivered(outbox, f"0{n}", ARCHIVE + timedelta(minutes=n), ARCHIVE + timedelta(minutes=n))
    answers = [applied, _unreachable, applied, applied]
    transport = FakeTransport(lambda payload: answers.pop(0)(payload))
    replay = replayer(outbox, transport, batch_max=2)

    assert not replay.answer(REQUEST)
    assert replay.answer(REQUEST)

    assert [e["uid"] for _, body in transport.posts for e in body["events"]] == [
        "00",
        "01",
        "02",  # the batch that got no answer
        "03",
        "02",
        "03",
        "04",
    ]
    assert outbox.last_finished_replay() == REQUEST.id


def test_a_finished_replay_is_not_sent_twice(outbox):
    delivered(outbox, "0A", ARCHIVE, ARCHIVE)
    transport = FakeTransport()
    replayer(outbox, transport).answer(REQUEST)

    assert replayer(outbox, transport).answer(REQUEST)

    assert sent_again(transport) == ["0A"]


def test_a_heartbeat_that_asks_for_a_replay_is_followed_at_once_by_one_saying_it_is_done(outbox):
    delivered(outbox, "0A", ARCHIVE + timedelta(hours=1), ARCHIVE + timedelta(hours=1))

    def server(payload):
        if "events" in payload:
            return applied(payload)
        done = payload["replay_done"] == REQUEST.id
        request = None if done else {"id": REQUEST.id, "since": ARCHIVE.isoformat()}
        return Response(200, {"replay": request}, "")

    transport = FakeTransport(server)
    keeper = Housekeeping(transport, AgentState(), outbox, 15.0, 30)

    keeper.beat_once()

    paths = [path for path, _ in transport.posts]
    assert paths == [HEARTBEAT_PATH, SCANS_PATH, HEARTBEAT_PATH]
    first, _, last = (body for _, body in transport.posts)
    assert (first["replay_done"], last["replay_done"]) == (None, REQUEST.id)


def test_a_heartbeat_answer_an_older_server_gives_asks_for_nothing(outbox):
    transport = FakeTransport(lambda payload: Response(204, None, ""))

    Housekeeping(transport, AgentState(), outbox, 15.0, 30).beat_once()

    assert [path for path, _ in transport.posts] == [HEARTBEAT_PATH]


def test_a_tap_the_server_holds_stays_waiting_until_it_says_what_became_of_it(outbox):
    tap = outbox.add("0A", ARCHIVE)
    answers = ["held", "held", "applied"]

    def server(payload):
        status = answers.pop(0)
        result = {"id": tap.id, "status": status, "outcome": None, "message": "kept"}
        if status == "applied":
            result["outcome"] = "returned"
        return Response(200, {"results": [result]}, "")

    state = AgentState()
    sender = Sender(outbox, FakeTransport(server), state)

    assert sender.send_once() == HELD_RETRY_SECONDS
    assert sender.send_once() == HELD_RETRY_SECONDS
    assert (outbox.depth(), state.last_error) == (1, None)
    assert sender.send_once() == 0.0
    assert outbox.depth() == 0
    assert outbox.recent(10)[0].outcome == "returned"


def test_the_outbox_says_since_when_it_holds_every_tap_it_delivered(tmp_path):
    before = datetime.now(UTC)
    box = Outbox(tmp_path / "outbox.db")
    assert before <= box.kept_since() <= datetime.now(UTC)

    long_ago = datetime.now(UTC) - timedelta(days=40)
    delivered(box, "0A", long_ago, long_ago)
    box.prune(30)

    assert box.kept_since() > long_ago + timedelta(days=9)
    box.close()


def test_an_outbox_from_before_replays_holds_taps_since_its_oldest(tmp_path):
    box = Outbox(tmp_path / "outbox.db")
    oldest = datetime(2026, 10, 1, tzinfo=UTC)
    delivered(box, "0A", oldest, oldest)
    box._db.execute("DROP TABLE meta")  # as an agent before this version left it
    box.close()

    reopened = Outbox(tmp_path / "outbox.db")
    assert reopened.kept_since() == oldest
    reopened.close()


def _unreachable(payload):
    raise TransportError("[Errno 111] Connection refused")


def test_an_outbox_with_no_note_of_what_it_holds_says_it_does_not_know(tmp_path):
    box = Outbox(tmp_path / "outbox.db")
    box._db.execute("DELETE FROM meta")

    assert box.kept_since() is None
    box.close()
