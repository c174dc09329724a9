import datetime
import json
import math
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inventory.loans import services
from inventory.loans.models import Door, Loan
from kiosk import actions
from kiosk.models import ScanEvent, Station
from tests.factories import BadgeFactory, ToolTagFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/kiosk/scans"


def event(uid, read_at, event_id=None):
    return {"id": str(event_id or uuid.uuid4()), "uid": uid, "read_at": read_at.isoformat()}


def post(client, station, body, token=None):
    return client.post(
        URL,
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Station {token or station.token}",
    )


def batch(*events, sent_at=None):
    return {"sent_at": (sent_at or timezone.now()).isoformat(), "events": list(events)}


@pytest.mark.parametrize(
    "header",
    [None, "Bearer abc", "Station", "Station wrong-token", "Station a b"],
)
def test_without_a_valid_station_token_it_is_401(client, station, header):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = client.post(
        URL, json.dumps(batch(event("04AA000001", timezone.now()))), "application/json", **extra
    )
    assert response.status_code == 401
    assert response.json()["code"] == "NOT_AUTHENTICATED"
    assert not ScanEvent.objects.exists()


def test_a_token_revoked_or_rotated_after_this_process_looked_it_up_is_401_and_records_nothing(
    client, station
):
    # The first tap has this process remember the token (kiosk.tokens).
    assert post(client, station, batch(event("04AA000001", timezone.now()))).status_code == 200
    actions.revoke_token(station=station)
    assert post(client, station, batch(event("04AA000002", timezone.now()))).status_code == 401
    new_token = actions.rotate_token(station=station)
    assert post(client, station, batch(event("04AA000003", timezone.now()))).status_code == 401
    body = batch(event("04AA000004", timezone.now()))
    assert post(client, station, body, token=new_token).status_code == 200
    recorded = ScanEvent.objects.order_by("read_at").values_list("uid", flat=True)
    assert list(recorded) == ["04AA000001", "04AA000004"]


def test_a_station_deleted_while_its_token_is_remembered_is_401(client, station):
    assert post(client, station, {"events": []}).status_code == 400  # the token is remembered
    Station.objects.filter(pk=station.pk).delete()
    assert post(client, station, batch(event("04AA000001", timezone.now()))).status_code == 401


def test_a_token_rotated_while_remembered_is_refused_with_its_station_untouched(client, station):
    assert post(client, station, batch(event("04AA000001", timezone.now()))).status_code == 200
    version = Station.objects.get(pk=station.pk).state_version
    actions.rotate_token(station=station)
    assert post(client, station, batch(event("04AA000002", timezone.now()))).status_code == 401
    assert Station.objects.get(pk=station.pk).state_version == version


def test_answers_each_event_in_order(client, station):
    badge, tool = BadgeFactory(), ToolTagFactory()
    now = timezone.now()
    events = [event(badge.uid, now), event(tool.uid, now + datetime.timedelta(seconds=1))]

    response = post(client, station, batch(*events))

    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["id"] for r in results] == [e["id"] for e in events]
    assert [(r["status"], r["outcome"]) for r in results] == [
        ("applied", "session_started"),
        ("applied", "borrowed"),
    ]
    assert all(r["message"] for r in results)


def test_an_event_twice_in_one_batch_is_applied_once_and_then_answered_as_a_duplicate(
    client, station
):
    badge = event(BadgeFactory().uid, timezone.now())
    bad = event("not-a-uid", timezone.now())

    results = post(client, station, batch(badge, badge, bad, bad)).json()["results"]

    assert [(r["status"], r["outcome"]) for r in results] == [
        ("applied", "session_started"),
        ("duplicate", "session_started"),
        ("rejected", None),
        ("rejected", None),
    ]
    assert ScanEvent.objects.count() == 2


def test_a_batch_reads_back_only_its_own_event_ids(client, station):
    """Not every event the station ever sent: a year of taps would be read on every request."""
    post(client, station, batch(*(event("04AA000001", timezone.now()) for _ in range(3))))
    fresh = [event("04AA000001", timezone.now()) for _ in range(2)]

    with CaptureQueriesContext(connection) as queries:
        post(client, station, batch(*fresh))

    (read,) = [q["sql"] for q in queries if q["sql"].startswith('SELECT "kiosk_scanevent"')]
    assert all(e["id"].replace("-", "") in read.replace("-", "") for e in fresh)
    assert " IN (" in read


def test_the_same_batch_twice_has_one_set_of_effects_and_the_same_outcomes(client, station):
    badge, tool = BadgeFactory(), ToolTagFactory()
    now = timezone.now()
    body = batch(event(badge.uid, now), event(tool.uid, now + datetime.timedelta(seconds=1)))

    first = post(client, station, body).json()["results"]
    second = post(client, station, body).json()["results"]

    assert [r["status"] for r in second] == ["duplicate", "duplicate"]
    assert [r["outcome"] for r in second] == [r["outcome"] for r in first]
    assert Loan.objects.count() == 1
    assert ScanEvent.objects.count() == 2


def test_a_kiosk_clock_that_is_off_is_corrected_and_both_times_are_kept(client, station):
    badge = BadgeFactory()
    now = timezone.now()
    wrong = now - datetime.timedelta(hours=3)  # the Pi booted without network time

    post(
        client,
        station,
        batch(event(badge.uid, wrong - datetime.timedelta(seconds=1)), sent_at=wrong),
    )

    stored = ScanEvent.objects.get()
    assert stored.read_at_raw == wrong - datetime.timedelta(seconds=1)
    assert abs(stored.read_at - (now - datetime.timedelta(seconds=1))).total_seconds() < 1
    assert stored.live


def test_a_small_clock_difference_is_left_alone(client, station):
    badge = BadgeFactory()
    sent = timezone.now() - datetime.timedelta(seconds=1.5)
    post(client, station, batch(event(badge.uid, sent), sent_at=sent))
    stored = ScanEvent.objects.get()
    assert stored.read_at == stored.read_at_raw == sent


def test_malformed_events_are_rejected_and_the_others_applied(client, station, english):
    badge = BadgeFactory()
    now = timezone.now()
    good = event(badge.uid, now)
    bad_uid = event("not-a-uid" + "X" * 55, now)  # 64 characters, the most the API takes
    bad_time = {"id": str(uuid.uuid4()), "uid": badge.uid, "read_at": "yesterday"}
    bad_id = {"id": "42", "uid": badge.uid, "read_at": now.isoformat()}
    # Naive year 1 is before year 1 once read as Tokyo time: DRF's own field made it a 500.
    year_one = {"id": str(uuid.uuid4()), "uid": badge.uid, "read_at": "0001-01-01T00:00:00"}

    body = batch(bad_uid, good, bad_time, bad_id, year_one)
    received = timezone.now()
    results = post(client, station, body).json()["results"]

    assert [(r["id"], r["status"]) for r in results] == [
        (bad_uid["id"], "rejected"),
        (good["id"], "applied"),
        (bad_time["id"], "rejected"),
        ("42", "rejected"),  # the id as sent, for the agent to find its event
        (year_one["id"], "rejected"),
    ]
    assert results[1]["outcome"] == "session_started"
    assert results[0]["outcome"] is None
    assert results[0]["message"].startswith("Rejected: ")
    # The malformed event with a usable id and time is kept as evidence.
    kept = ScanEvent.objects.get(pk=bad_uid["id"])
    assert (kept.status, kept.uid, kept.message, kept.live) == (
        "rejected",
        bad_uid["uid"],
        results[0]["message"],
        False,
    )
    assert received <= kept.received_at <= timezone.now()
    assert ScanEvent.objects.count() == 2


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[]",
        "{}",
        '{"sent_at": "2026-11-24T00:00:00Z"}',
        '{"sent_at": "2026-11-24T00:00:00Z", "events": []}',
        '{"sent_at": "nope", "events": [{"id": "x"}]}',
        '{"sent_at": "0001-01-01T00:00:00", "events": [{"id": "x"}]}',
        '{"sent_at": "2026-11-24T00:00:00Z", "events": "x"}',
        '{"sent_at": "2026-11-24T00:00:00Z", "events": [1, 2]}',
    ],
)
def test_a_body_that_is_not_a_batch_is_400_and_writes_nothing(client, station, body):
    response = client.post(
        URL, body, content_type="application/json", HTTP_AUTHORIZATION=f"Station {station.token}"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID"
    assert not ScanEvent.objects.exists()


def test_more_than_five_hundred_events_is_400(client, station):
    now = timezone.now()
    body = batch(*[event("04AA000001", now) for _ in range(501)])
    assert post(client, station, body).status_code == 400
    assert not ScanEvent.objects.exists()


def test_one_tap_costs_a_fixed_number_of_queries(client, station, django_assert_num_queries):
    tool = ToolTagFactory()
    body = batch(event(tool.uid, timezone.now()))
    # station by token, is a replay gathering (taps are held then), savepoint, lock station,
    # read it, known event ids, tags of the batch, the tool's savepoint, lock tool, its latest
    # loan, release, insert scans (one statement per batch), update station, release
    with django_assert_num_queries(14):
        assert post(client, station, body).status_code == 200


def test_a_return_in_someone_elses_session_costs_a_fixed_number_of_queries(
    client, station, django_assert_num_queries
):
    holder, person, tool = BadgeFactory(), BadgeFactory(), ToolTagFactory()
    services.borrow(item=tool.item, employee=holder.employee, door=Door.API)
    post(client, station, batch(event(person.uid, timezone.now())))
    body = batch(event(tool.uid, timezone.now()))
    # is a replay gathering (the station's token was looked up by the badge's request), savepoint,
    # lock station, read it (with the session's person and the last change's loan), known event
    # ids, tags of the batch, the tool's savepoint, lock tool, its latest loan, close the loan,
    # insert its history, release, insert scans, update station, release
    with django_assert_num_queries(15):
        assert post(client, station, body).json()["results"][0]["outcome"] == "returned"


def test_a_badge_borrowing_a_tray_costs_a_fixed_number_of_queries_per_tool(
    client, station, django_assert_num_queries
):
    badge, tools = BadgeFactory(), [ToolTagFactory() for _ in range(3)]
    post(client, station, batch(*[event(tool.uid, timezone.now()) for tool in tools]))
    body = batch(event(badge.uid, timezone.now()))
    # is a replay gathering (the token is remembered from the tools' request), savepoint, lock
    # station, read it, known event ids, tags of the batch; for each of the 3 tools: its
    # savepoint, lock tool (with its category's rules), its latest loan, lock the person (with
    # their shift), the closed days ahead, insert loan, insert history, release; then insert
    # scans, update station, release
    with django_assert_num_queries(6 + 3 * 8 + 3):
        assert post(client, station, body).json()["results"][0]["outcome"] == "borrowed"
    assert Loan.objects.open().count() == 3


def test_a_batch_of_a_hundred_borrows_costs_a_fixed_number_of_queries_per_tap(
    client, station, django_assert_num_queries
):
    badge = BadgeFactory()
    tools = [ToolTagFactory() for _ in range(99)]
    start = timezone.now()
    events = [event(badge.uid, start)] + [
        event(tool.uid, start + datetime.timedelta(milliseconds=10 * (i + 1)))
        for i, tool in enumerate(tools)
    ]
    # 10 for the batch (station by token, is a replay gathering, savepoint, lock station, read
    # it, known event ids, tags of the batch, insert all scans, update station, release) plus 8
    # per borrow: the tool's savepoint and release, lock the tool (with its category's rules),
    # its open loan, lock the employee (with their shift), the closed days ahead, insert loan,
    # insert history. The badge itself costs nothing more: the session is in the station row.
    # (SQLite takes the scans' insert in several statements, at its limit of bound values.)
    fields = ScanEvent._meta.concrete_fields
    scan_inserts = math.ceil(100 / connection.ops.bulk_batch_size(fields, events))
    with django_assert_num_queries(9 + scan_inserts + 8 * 99):
        results = post(client, station, batch(*events)).json()["results"]

    assert [r["outcome"] for r in results].count("borrowed") == 99


def test_a_badge_tap_costs_a_fixed_number_of_queries(client, station, django_assert_num_queries):
    badge = BadgeFactory()
    # station by token, is a replay gathering, savepoint, lock station, read it, known event
    # ids, tags of the batch, insert scans, update station (the session), release
    with django_assert_num_queries(10):
        answer = post(client, station, batch(event(badge.uid, timezone.now()))).json()
    assert answer["results"][0]["outcome"] == "session_started"


def test_a_tool_tapped_after_a_badge_costs_a_fixed_number_of_queries(
    client, station, django_assert_num_queries
):
    badge, tool = BadgeFactory(), ToolTagFactory()
    post(client, station, batch(event(badge.uid, timezone.now())))
    # the badge tap's 10 less the token's lookup, which this process remembers, plus the
    # borrow's 8: the tool's savepoint and release, lock the tool, its open loan, lock the
    # person, the closed days ahead, insert loan, insert history
    with django_assert_num_queries(17):
        outcome = post(client, station, batch(event(tool.uid, timezone.now()))).json()
    assert outcome["results"][0]["outcome"] == "borrowed"


def test_the_push_after_a_borrow_costs_one_query(
    client, station, django_assert_num_queries, django_capture_on_commit_callbacks
):
    badge, tool = BadgeFactory(), ToolTagFactory()
    post(client, station, batch(event(badge.uid, timezone.now())))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        post(client, station, batch(event(tool.uid, timezone.now())))

    # The push renders from the station the batch left in memory: only the session person's
    # open loans are read, once for every screen language.
    assert len(callbacks) == 1
    with django_assert_num_queries(1):
        callbacks[0]()


def test_taps_are_recorded_and_answered_when_the_screens_cannot_be_reached(
    client, station, monkeypatch, django_capture_on_commit_callbacks
):
    def channel_layer_down(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr("kiosk.broadcast.send", channel_layer_down)
    badge = BadgeFactory()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = post(client, station, batch(event(badge.uid, timezone.now())))

    assert len(callbacks) == 1
    assert response.status_code == 200
    assert response.json()["results"][0]["outcome"] == "session_started"
    assert ScanEvent.objects.count() == 1


def test_log_lines_of_a_scan_request_name_the_station(client, station, monkeypatch):
    import logging

    from inventory.core.logging import ContextFilter

    seen = []

    def record(**kwargs):
        record = logging.LogRecord("kiosk", logging.INFO, __file__, 1, "tap", (), None)
        ContextFilter().filter(record)
        seen.append(record.station)
        return []

    monkeypatch.setattr("kiosk.replays.record", record)
    post(client, station, batch(event("04AA000001", timezone.now())))
    assert seen == ["Line 3"]


def test_a_rejected_event_sent_again_is_still_rejected(client, station):
    # Its first answer may have been lost: "duplicate" would tell the agent it was delivered.
    bad_uid = event("not-a-uid", timezone.now())
    first = post(client, station, batch(bad_uid)).json()["results"]

    again = post(client, station, batch(bad_uid)).json()["results"]

    assert [r["status"] for r in first] == [r["status"] for r in again] == ["rejected"]
    assert again[0]["message"] == first[0]["message"]


def test_an_event_id_of_another_station_is_rejected_and_tells_nothing_of_it(
    client, station, english
):
    other, token, _code = actions.create_station(name="Line 4")
    badge = BadgeFactory()
    taken = event(badge.uid, timezone.now())
    assert (
        post(client, other, batch(taken), token=token).json()["results"][0]["status"] == "applied"
    )

    (result,) = post(client, station, batch(taken)).json()["results"]

    assert result == {
        "id": taken["id"],
        "status": "rejected",
        "outcome": None,
        "message": "This event id was used by another station.",
    }
    assert ScanEvent.objects.get().station == other


def test_times_too_far_apart_to_add_up_are_rejected_not_a_server_error(client, station, english):
    sent_at = timezone.now() - datetime.timedelta(days=3)  # a clock far behind: a big shift
    # A real time on its own (the last day there is, in Tokyo); three days later there is none.
    last_day = "9999-12-31T00:00:00+09:00"
    impossible = {"id": str(uuid.uuid4()), "uid": "04AA000001", "read_at": last_day}

    badge = event(BadgeFactory().uid, sent_at)

    response = post(client, station, batch(impossible, impossible, badge, sent_at=sent_at))

    assert response.status_code == 200
    rejected, again_in_batch, applied = response.json()["results"]
    assert again_in_batch == rejected
    assert rejected == {
        "id": impossible["id"],
        "status": "rejected",
        "outcome": None,
        "message": "Rejected: read_at and sent_at are too far apart to be real times.",
    }
    assert applied["status"] == "applied"  # the batch goes on after it
    kept = ScanEvent.objects.get(pk=impossible["id"])
    assert (kept.status, kept.uid, kept.read_at.year) == ("rejected", "04AA000001", 9999)
    # Kept as evidence, and still rejected when sent again with a clock set right.
    again = post(client, station, batch(impossible)).json()["results"]
    assert again == [rejected]
