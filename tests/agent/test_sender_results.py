import json
import threading
from datetime import UTC, datetime

import pytest

from agent.heartbeat import Housekeeping
from agent.outbox import DELIVERED, REJECTED, Outbox
from agent.sender import HELD_RETRY_SECONDS, TOKEN_RETRY_SECONDS, Backoff, Sender
from agent.state import AgentState
from agent.transport import Response
from tests.agent.conftest import wait_until
from tests.agent.fake_transport import FakeTransport, applied, status, unreachable

T0 = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)


def per_event(statuses: dict[str, str]):
    """Answer 200 with the given status per UID (applied when not listed)."""

    def answer(payload):
        results = [
            {
                "id": e["id"],
                "status": statuses.get(e["uid"], "applied"),
                "outcome": "returned",
                "message": f"message for {e['uid']}",
            }
            for e in payload["events"]
        ]
        return Response(200, {"results": results}, "")

    return answer


def states(outbox: Outbox) -> dict[str, str]:
    return {e.uid: e.state for e in outbox.recent(100)}


def make_sender(outbox, transport, state=None, batch_max=100) -> Sender:
    return Sender(outbox, transport, state or AgentState(), batch_max, Backoff(rng=lambda: 1.0))


def test_applied_and_duplicate_events_are_delivered(outbox):
    outbox.add("01010101", T0)
    outbox.add("02020202", T0)
    state = AgentState()

    sender = make_sender(outbox, FakeTransport(per_event({"02020202": "duplicate"})), state)

    assert sender.send_once() == 0

    assert states(outbox) == {"01010101": DELIVERED, "02020202": DELIVERED}
    assert outbox.recent(10)[0].outcome == "returned"
    assert state.last_delivery_at is not None
    assert state.server_reachable


def test_a_rejected_event_is_kept_as_rejected_and_never_resent(outbox):
    outbox.add("01010101", T0)
    outbox.add("BAD0BAD0", T0)
    transport = FakeTransport(per_event({"BAD0BAD0": "rejected"}))
    sender = make_sender(outbox, transport)

    sender.send_once()
    outbox.add("03030303", T0)
    sender.send_once()

    assert states(outbox)["BAD0BAD0"] == REJECTED
    assert outbox.rejected(10)[0].message == "message for BAD0BAD0"
    assert transport.batches() == [["01010101", "BAD0BAD0"], ["03030303"]]


def test_a_401_keeps_the_events_and_retries_slowly_and_loudly(outbox, caplog):
    outbox.add("01010101", T0)
    state = AgentState()
    sender = make_sender(outbox, FakeTransport(status(401)), state)

    delay = sender.send_once()

    assert delay == TOKEN_RETRY_SECONDS == 60.0
    assert outbox.depth() == 1
    assert state.token_rejected
    assert "TOKEN REJECTED" in state.last_error
    assert "TOKEN REJECTED" in caplog.text


def test_the_token_warning_clears_once_the_server_accepts_it_again(outbox):
    outbox.add("01010101", T0)
    state = AgentState()
    transport = FakeTransport(status(401))
    sender = make_sender(outbox, transport, state)
    sender.send_once()

    transport.answer = applied
    sender.send_once()

    assert not state.token_rejected
    assert state.last_error is None
    assert outbox.depth() == 0


@pytest.mark.parametrize("answer", [status(502), status(503), status(504), unreachable])
def test_network_errors_and_a_server_behind_caddy_down_keep_the_events_and_back_off(outbox, answer):
    outbox.add("01010101", T0)
    state = AgentState()
    sender = make_sender(outbox, FakeTransport(answer), state)

    delays = [sender.send_once() for _ in range(4)]

    assert delays == [0.5, 1.0, 2.0, 4.0]
    assert outbox.depth() == 1
    assert not state.server_reachable
    assert state.last_error.startswith(("server unreachable", "server unavailable"))


def test_a_server_error_keeps_the_events_and_backs_off(outbox):
    outbox.add("01010101", T0)
    state = AgentState()
    sender = make_sender(outbox, FakeTransport(status(500, "Internal Server Error")), state)

    delays = [sender.send_once() for _ in range(3)]

    assert delays == [0.5, 1.0, 2.0]
    assert outbox.depth() == 1
    assert state.last_error == "server answered 500: Internal Server Error"


def test_any_successful_exchange_clears_a_server_unreachable_error(outbox):
    state = AgentState()
    state.unreachable("server unreachable: timed out")  # as the heartbeat thread reports it
    outbox.add("01010101", T0)

    make_sender(outbox, FakeTransport(), state).send_once()

    assert state.last_error is None
    assert state.server_reachable


def test_a_success_after_errors_starts_the_backoff_over(outbox):
    outbox.add("01010101", T0)
    transport = FakeTransport(unreachable)
    sender = make_sender(outbox, transport)
    sender.send_once()
    sender.send_once()

    transport.answer = applied
    sender.send_once()
    outbox.add("02020202", T0)
    transport.answer = unreachable

    assert sender.send_once() == 0.5


def refusing(*bad_uids: str):
    """A server that answers 400 to any batch holding one of bad_uids."""

    def answer(payload):
        if any(e["uid"] in bad_uids for e in payload["events"]):
            refusal = {"code": "INVALID", "message": "bad"}
            return Response(400, refusal, json.dumps(refusal))
        return applied(payload)

    return answer


def test_a_whole_batch_refused_with_400_is_split_to_reject_only_the_bad_event(outbox):
    uids = [f"{n:08X}" for n in range(8)]
    for uid in uids:
        outbox.add(uid, T0)
    transport = FakeTransport(refusing("00000005"))
    sender = make_sender(outbox, transport, batch_max=8)

    while sender.send_once() is not None:
        pass

    assert states(outbox) == {uid: REJECTED if uid == "00000005" else DELIVERED for uid in uids}
    assert outbox.rejected(10)[0].message.startswith("server answered 400: ")
    assert '"message": "bad"' in outbox.rejected(10)[0].message
    assert transport.batches() == [
        uids,
        uids[0:4],
        uids[4:8],
        uids[4:6],
        uids[4:5],
        uids[5:6],
        uids[6:8],
    ]


@pytest.mark.parametrize(
    "body, text",
    [
        (None, "<h1>Bad Request (400)</h1>"),  # Django: a Host not in ALLOWED_HOSTS
        (None, "Client sent an HTTP request to an HTTPS server."),  # Caddy
        ({"detail": "not ours"}, '{"detail": "not ours"}'),
    ],
)
def test_a_400_that_is_not_the_apis_refusal_keeps_every_tap_for_a_retry(outbox, body, text):
    for n in range(4):
        outbox.add(f"{n:08X}", T0)
    transport = FakeTransport(lambda payload: Response(400, body, text))
    sender = make_sender(outbox, transport, batch_max=4)

    delays = [sender.send_once() for _ in range(3)]

    assert all(delay and delay > 0 for delay in delays)  # backing off, not bisecting
    assert outbox.depth() == 4
    assert outbox.rejected(10) == []
    assert [len(batch) for batch in transport.batches()] == [4, 4, 4]


def test_finding_a_bad_event_among_a_hundred_takes_few_requests(outbox):
    for n in range(100):
        outbox.add(f"{n:08X}", T0)
    transport = FakeTransport(refusing("0000003A"))
    sender = make_sender(outbox, transport, batch_max=100)

    while sender.send_once() is not None:
        pass

    assert outbox.depth() == 0
    assert [e.uid for e in outbox.rejected(10)] == ["0000003A"]
    assert len(transport.posts) <= 15


def test_full_batches_resume_once_the_bad_event_is_rejected(outbox):
    for n in range(40):
        outbox.add(f"{n:08X}", T0)
    transport = FakeTransport(refusing("00000000"))
    sender = make_sender(outbox, transport, batch_max=16)

    while sender.send_once() is not None:
        pass

    assert [len(batch) for batch in transport.batches()] == [16, 8, 4, 2, 1, 16, 16, 7]
    assert outbox.depth() == 0


def test_events_missing_from_the_answer_stay_pending_and_back_off(outbox):
    outbox.add("01010101", T0)
    outbox.add("02020202", T0)

    def answer_only_the_first(payload):
        first = payload["events"][0]
        return Response(200, {"results": [{"id": first["id"], "status": "applied"}]}, "")

    delay = make_sender(outbox, FakeTransport(answer_only_the_first)).send_once()

    assert delay == 0.5
    assert states(outbox) == {"01010101": DELIVERED, "02020202": "pending"}


@pytest.mark.parametrize("body", [None, {"results": "no"}, {"results": [{"status": "applied"}]}])
def test_an_answer_that_is_not_the_contract_keeps_everything_pending(outbox, body):
    outbox.add("01010101", T0)

    delay = make_sender(outbox, FakeTransport(lambda p: Response(200, body, ""))).send_once()

    assert delay == 0.5
    assert outbox.depth() == 1


def test_other_client_errors_back_off_instead_of_dropping_events(outbox):
    outbox.add("01010101", T0)
    state = AgentState()

    delay = make_sender(outbox, FakeTransport(status(404, "no such page")), state).send_once()

    assert delay == 0.5
    assert outbox.depth() == 1
    assert state.last_error == "server answered 404: no such page"


def test_an_unexpected_failure_does_not_end_sending(outbox):
    outbox.add("01010101", T0)
    calls = []

    def fail_once(payload):
        calls.append(payload)
        if len(calls) == 1:
            raise RuntimeError("a bug nobody foresaw")
        return applied(payload)

    state = AgentState()
    sender = make_sender(outbox, FakeTransport(fail_once), state)
    stop, wake = threading.Event(), threading.Event()
    thread = threading.Thread(target=sender.run, args=(stop, wake))
    thread.start()
    try:
        wait_until(lambda: outbox.depth() == 0)
    finally:
        stop.set()
        wake.set()
        thread.join(5)

    assert len(calls) == 2
    assert state.last_error is None


def test_the_token_error_reads_the_same_from_the_sender_and_the_heartbeat(outbox):
    outbox.add("01010101", T0)
    state = AgentState()
    make_sender(outbox, FakeTransport(status(401)), state).send_once()
    first = state.last_error

    Housekeeping(FakeTransport(status(401)), state, outbox, 15.0, 30).beat_once()

    assert state.last_error == first


def test_a_server_that_refuses_every_tap_does_not_get_them_all_rejected(outbox):
    for n in range(300):
        outbox.add(f"{n:08X}", T0)
    refusal = {"code": "INVALID", "message": "A value cannot be stored"}
    transport = FakeTransport(lambda payload: Response(400, refusal, json.dumps(refusal)))
    sender = make_sender(outbox, transport, batch_max=100)

    delays = [sender.send_once() for _ in range(40)]

    assert len(outbox.rejected(10)) == 3  # then it stops and waits, backing off
    assert outbox.depth() == 297
    assert delays[-1] > 0


def test_a_refused_batch_format_keeps_every_tap_waiting(outbox):
    for n in range(4):
        outbox.add(f"{n:08X}", T0)
    refusal = {"code": "INVALID", "message": "bad", "fields": {"sent_at": ["Invalid."]}}
    transport = FakeTransport(lambda payload: Response(400, refusal, json.dumps(refusal)))
    sender = make_sender(outbox, transport, batch_max=4)

    delays = [sender.send_once() for _ in range(3)]

    assert all(delay > 0 for delay in delays)
    assert outbox.rejected(10) == []
    assert [len(batch) for batch in transport.batches()] == [4, 4, 4]


def test_full_batches_resume_when_a_refusal_was_not_about_the_taps(outbox):
    for n in range(40):
        outbox.add(f"{n:08X}", T0)
    answers = iter([Response(400, {"code": "INVALID", "message": "bad"}, "")])
    transport = FakeTransport(lambda payload: next(answers, None) or applied(payload))
    sender = make_sender(outbox, transport, batch_max=16)

    while sender.send_once() is not None:
        pass

    assert [len(batch) for batch in transport.batches()] == [16, 8, 8, 16, 8]
    assert outbox.rejected(10) == []


def answering(statuses: list[str | None]):
    """Answer 200 with statuses[i] for the i-th event of the batch (None: no result for it)."""

    def answer(payload):
        results = [
            {"id": e["id"], "status": s, "outcome": "borrowed", "message": "ok"}
            for e, s in zip(payload["events"], statuses, strict=False)
            if s is not None
        ]
        return Response(200, {"results": results}, "")

    return answer


def test_several_held_taps_wait_quietly_for_the_held_retry(outbox):
    for n in range(3):
        outbox.add(f"{n:08X}", T0)
    state = AgentState()
    sender = make_sender(outbox, FakeTransport(answering(["applied", "held", "held"])), state)

    assert sender.send_once() == HELD_RETRY_SECONDS

    assert outbox.depth() == 2
    assert state.last_error is None
    assert sender.backoff.attempts == 0


def test_the_status_names_how_many_events_got_no_usable_result(outbox):
    for n in range(5):
        outbox.add(f"{n:08X}", T0)
    state = AgentState()
    answer = answering(["applied", "held", None, "something new", None])
    sender = make_sender(outbox, FakeTransport(answer), state)

    assert sender.send_once() == 0.5

    assert state.last_error == "server gave no usable result for 3 event(s)"
    assert state.server_reachable
    assert state.last_delivery_at is not None
    assert outbox.depth() == 4


def test_an_answer_with_no_usable_result_at_all_delivers_nothing(outbox):
    outbox.add("01010101", T0)
    state = AgentState()

    make_sender(outbox, FakeTransport(answering([None])), state).send_once()

    assert state.last_delivery_at is None
    assert state.last_error == "server gave no usable result for 1 event(s)"


def test_a_client_error_counts_as_the_server_answering(outbox):
    outbox.add("01010101", T0)
    state = AgentState()
    state.unreachable("server unreachable: timed out")

    make_sender(outbox, FakeTransport(status(404, "no such page")), state).send_once()

    assert state.server_reachable
    assert state.last_error == "server answered 404: no such page"


def test_the_error_shown_for_a_failing_server_is_cut_to_200_characters(outbox):
    outbox.add("01010101", T0)
    state = AgentState()

    make_sender(outbox, FakeTransport(status(500, "x" * 300)), state).send_once()

    assert state.last_error == "server answered 500: " + "x" * 200


def test_a_refused_batch_format_says_so_in_the_status(outbox):
    outbox.add("01010101", T0)
    state = AgentState()
    state.unreachable("server unreachable: timed out")
    refusal = {"code": "INVALID", "message": "bad", "fields": {"sent_at": ["Invalid."]}}
    text = json.dumps(refusal) + " " * 300
    transport = FakeTransport(lambda payload: Response(400, refusal, text))

    assert make_sender(outbox, transport, state).send_once() == 0.5

    assert state.last_error == f"server refused the batch format: {text[:200]}"
    assert state.server_reachable


def test_a_server_that_refuses_every_tap_says_so_in_the_status(outbox):
    for n in range(5):
        outbox.add(f"{n:08X}", T0)
    refusal = {"code": "INVALID", "message": "A value cannot be stored"}
    text = json.dumps(refusal) + "y" * 600
    state = AgentState()
    transport = FakeTransport(lambda payload: Response(400, refusal, text))
    sender = make_sender(outbox, transport, state, batch_max=1)

    delays = [sender.send_once() for _ in range(5)]

    assert delays == [0.0, 0.0, 0.0, 0.5, 1.0]
    assert state.last_error == f"server refuses every tap (400): {text[:200]}"
    assert outbox.rejected(10)[0].message == f"server answered 400: {text[:500]}"


def test_a_delivered_batch_clears_the_run_of_rejected_taps(outbox):
    for n in range(8):
        outbox.add(f"{n:08X}", T0)
    bad = {"00000000", "00000001", "00000003", "00000004", "00000005"}
    transport = FakeTransport(refusing(*bad))
    sender = make_sender(outbox, transport, batch_max=1)

    for _ in range(8):
        sender.send_once()

    # Two rejected, one delivered, then three rejected: the delivery started the count over, so
    # every bad tap is rejected and nothing waits.
    assert {e.uid for e in outbox.rejected(10)} == bad
    assert outbox.depth() == 0


class RecordingWake(threading.Event):
    """A wake event that records each wait and stops the loop after `turns` of them."""

    def __init__(self, stop: threading.Event, turns: int):
        super().__init__()
        self.stop, self.turns, self.waits = stop, turns, []

    def wait(self, timeout=None):
        self.waits.append(timeout)
        if len(self.waits) >= self.turns:
            self.stop.set()
        return False


def run_for(sender: Sender, turns: int) -> list:
    stop = threading.Event()
    wake = RecordingWake(stop, turns)
    sender.run(stop, wake)
    return wake.waits


def test_the_loop_sends_again_at_once_after_a_delivery_and_then_waits_to_be_woken(outbox):
    outbox.add("01010101", T0)
    outbox.add("02020202", T0)
    transport = FakeTransport()

    waits = run_for(make_sender(outbox, transport, batch_max=1), 1)

    assert waits == [None]
    assert transport.batches() == [["01010101"], ["02020202"]]


def test_the_loop_backs_off_after_an_unexpected_failure_and_says_so(outbox):
    outbox.add("01010101", T0)

    def fail(payload):
        raise RuntimeError("a bug nobody foresaw")

    state = AgentState()
    waits = run_for(make_sender(outbox, FakeTransport(fail), state), 3)

    assert waits == [0.5, 1.0, 2.0]
    assert state.last_error == "sending failed unexpectedly; see the log"


def test_the_loop_waits_the_token_retry_after_a_401(outbox):
    outbox.add("01010101", T0)

    waits = run_for(make_sender(outbox, FakeTransport(status(401))), 2)

    assert waits == [TOKEN_RETRY_SECONDS, TOKEN_RETRY_SECONDS]


def test_a_401_does_not_use_up_the_backoff(outbox):
    outbox.add("01010101", T0)
    transport = FakeTransport(status(401))
    sender = make_sender(outbox, transport)
    for _ in range(3):
        sender.send_once()

    transport.answer = unreachable

    assert sender.send_once() == 0.5


def test_a_second_401_in_a_row_is_logged_with_the_taps_waiting(outbox, caplog):
    outbox.add("01010101", T0)
    outbox.add("02020202", T0)
    sender = make_sender(outbox, FakeTransport(status(401)))
    sender.send_once()
    assert "still rejected" not in caplog.text

    sender.send_once()

    assert "the station token is still rejected (401); 2 taps waiting" in caplog.text


@pytest.mark.parametrize("fields", [{"events": {"0": ["bad"]}}, {"non_field_errors": ["bad"]}])
def test_a_refusal_that_names_the_events_is_split_to_find_the_bad_one(outbox, fields):
    for n in range(4):
        outbox.add(f"{n:08X}", T0)
    refusal = {"code": "INVALID", "message": "bad", "fields": fields}

    def answer(payload):
        if any(e["uid"] == "00000002" for e in payload["events"]):
            return Response(400, refusal, json.dumps(refusal))
        return applied(payload)

    transport = FakeTransport(answer)
    sender = make_sender(outbox, transport, batch_max=4)

    delays = []
    while (delay := sender.send_once()) is not None:
        delays.append(delay)

    assert [e.uid for e in outbox.rejected(10)] == ["00000002"]
    assert outbox.depth() == 0
    assert set(delays) == {0.0}  # each answer is deterministic: no waiting while splitting


def test_events_after_one_missing_from_the_answer_are_still_settled(outbox):
    outbox.add("01010101", T0)
    outbox.add("02020202", T0)

    make_sender(outbox, FakeTransport(answering([None, "applied"]))).send_once()

    assert states(outbox) == {"01010101": "pending", "02020202": DELIVERED}


def test_an_answer_without_outcome_or_message_is_stored_as_none_not_as_text(outbox):
    outbox.add("01010101", T0)
    outbox.add("02020202", T0)

    def answer(payload):
        first, second = (e["id"] for e in payload["events"])
        results = [{"id": first, "status": "applied"}, {"id": second, "status": "rejected"}]
        return Response(200, {"results": results}, "")

    make_sender(outbox, FakeTransport(answer)).send_once()

    assert [(e.outcome, e.message) for e in outbox.recent(10)] == [(None, None), (None, None)]


def test_a_rejected_event_keeps_the_servers_outcome_and_message(outbox):
    outbox.add("01010101", T0)
    answer = per_event({"01010101": "rejected"})

    make_sender(outbox, FakeTransport(answer)).send_once()

    [event] = outbox.rejected(10)
    assert (event.outcome, event.message) == ("returned", "message for 01010101")


def test_a_sender_sends_at_most_a_hundred_taps_per_request_by_default(outbox):
    for n in range(150):
        outbox.add(f"{n:08X}", T0)
    transport = FakeTransport()

    Sender(outbox, transport, AgentState()).send_once()

    assert [len(batch) for batch in transport.batches()] == [100]


def refuse_format(payload):
    refusal = {"code": "INVALID", "message": "bad", "fields": {"sent_at": ["Invalid."]}}
    return Response(400, refusal, json.dumps(refusal))


def refuse_every_tap(payload):
    refusal = {"code": "INVALID", "message": "A value cannot be stored"}
    return Response(400, refusal, json.dumps(refusal))


@pytest.mark.parametrize(
    "failing",
    [answering([None]), status(404, "no such page"), refuse_format, refuse_every_tap],
)
def test_the_senders_error_clears_once_the_server_takes_the_taps(outbox, failing):
    for n in range(4):
        outbox.add(f"{n:08X}", T0)
    state = AgentState()
    transport = FakeTransport(failing)
    sender = make_sender(outbox, transport, state, batch_max=1)
    for _ in range(5):
        sender.send_once()
    assert state.last_error is not None

    transport.answer = applied
    sender.send_once()

    assert state.last_error is None
