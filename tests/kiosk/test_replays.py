"""After a restore the kiosks send their taps again: held until every kiosk in use has answered
(or the wait is over), then applied in read order across kiosks, through the agent API."""

import copy
import datetime
import json
import threading
import uuid

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.test import Client
from django.utils import timezone

from inventory.loans import services
from inventory.loans.models import Door, Loan
from kiosk import actions, replays
from kiosk.models import HeldTap, Replay, ReplayStation, ScanEvent, Station
from tests.factories import BadgeFactory, ToolTagFactory

pytestmark = pytest.mark.django_db


def hours(n: float) -> datetime.timedelta:
    return datetime.timedelta(hours=n)


class Kiosk:
    """One station as its agent sees the server: heartbeats and batches with its token."""

    def __init__(self, name: str, client: Client | None = None):
        station, self.token, _code = actions.create_station(name=name)
        # In use when the archive was taken: the replay waits for it.
        Station.objects.filter(pk=station.pk).update(last_seen_at=timezone.now() - hours(4))
        self.station = Station.objects.get(pk=station.pk)
        self.client = client or Client()

    def beat(self, **body) -> dict:
        response = self._post("/api/v1/kiosk/heartbeat", {"reader_connected": True, **body})
        assert response.status_code == 200, response.content
        return response.json()

    def send(self, *taps: tuple[str, datetime.datetime, str], replay=None) -> list[dict]:
        """taps: (uid, read_at, event id); answers as the agent gets them."""
        body = {
            "sent_at": timezone.now(),
            "events": [{"id": tap_id, "uid": uid, "read_at": at} for uid, at, tap_id in taps],
        }
        if replay:
            body["replay"] = replay
        response = self._post("/api/v1/kiosk/scans", body)
        assert response.status_code == 200, response.content
        return response.json()["results"]

    def replay(self, request: dict, *taps) -> None:
        """What the agent does when a heartbeat names a replay: send, then say so."""
        if taps:
            self.send(*taps, replay=request["id"])
        self.beat(replay_done=request["id"])

    def _post(self, url, body):
        return self.client.post(
            url,
            json.dumps(body, cls=DjangoJSONEncoder),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Station {self.token}",
        )


def tap(uid: str, at: datetime.datetime) -> tuple[str, datetime.datetime, str]:
    return (uid, at, str(uuid.uuid4()))


@pytest.fixture
def archive_taken():
    # Whole seconds: JSON carries milliseconds.
    return timezone.now().replace(microsecond=0) - hours(3)


@pytest.fixture
def two_kiosks():
    return Kiosk("Kiosk A"), Kiosk("Kiosk B")


def test_after_a_restore_each_heartbeat_asks_for_the_taps_since_the_archive_less_a_margin(
    two_kiosks, archive_taken
):
    a, _b = two_kiosks
    assert a.beat() == {"replay": None}

    replay = replays.open_after_restore(archive_taken_at=archive_taken)

    request = a.beat()["replay"]
    assert request["id"] == str(replay.pk)
    assert datetime.datetime.fromisoformat(request["since"]) == archive_taken - replays.MARGIN


def test_taps_sent_again_are_held_until_every_kiosk_in_use_has_answered(two_kiosks, archive_taken):
    a, b = two_kiosks
    badge, tool = BadgeFactory(), ToolTagFactory()
    replays.open_after_restore(archive_taken_at=archive_taken)
    request = a.beat()["replay"]

    results = a.send(
        tap(badge.uid, archive_taken + hours(1)),
        tap(tool.uid, archive_taken + hours(1.001)),
        replay=request["id"],
    )
    a.beat(replay_done=request["id"])

    assert {result["status"] for result in results} == {"held"}
    assert not Loan.objects.exists()
    assert a.beat() == {"replay": None}  # a kiosk that answered is not asked again

    b.replay(b.beat()["replay"])  # the last kiosk waited for answers, with nothing to send

    loan = Loan.objects.get()
    assert (loan.employee, loan.item, loan.borrowed_at) == (
        badge.employee,
        tool.item,
        archive_taken + hours(1.001),
    )
    assert Replay.objects.get().state == Replay.State.APPLIED


def test_while_a_replay_gathers_a_token_revoked_since_it_was_looked_up_holds_nothing(
    two_kiosks, archive_taken
):
    a, _b = two_kiosks
    replays.open_after_restore(archive_taken_at=archive_taken)
    request = a.beat()["replay"]  # this process remembers a's token
    actions.revoke_token(station=a.station)
    response = a._post(
        "/api/v1/kiosk/scans",
        {
            "sent_at": timezone.now(),
            "events": [{"id": str(uuid.uuid4()), "uid": "04AA000001", "read_at": timezone.now()}],
            "replay": request["id"],
        },
    )
    assert response.status_code == 401
    assert not HeldTap.objects.exists()


@pytest.mark.parametrize("chunk", [replays.CHUNK, 1])
def test_a_tool_borrowed_at_one_kiosk_and_returned_at_another_is_back_whichever_answers_first(
    two_kiosks, archive_taken, chunk, monkeypatch
):
    monkeypatch.setattr(replays, "CHUNK", chunk)  # one transaction, or one per tap
    a, b = two_kiosks
    badge, tool = BadgeFactory(), ToolTagFactory()
    replays.open_after_restore(archive_taken_at=archive_taken)
    request = a.beat()["replay"]
    b.beat()
    borrowed_at_a = [
        tap(badge.uid, archive_taken + hours(1)),
        tap(tool.uid, archive_taken + hours(1.001)),
    ]
    returned_at_b = [tap(tool.uid, archive_taken + hours(2))]

    b.replay(request, *returned_at_b)  # B answers first: its return is older news than A's borrow
    a.replay(request, *borrowed_at_a)

    loan = Loan.objects.get()
    assert (loan.borrowed_at, loan.returned_at) == (
        archive_taken + hours(1.001),
        archive_taken + hours(2),
    )
    outcomes = dict(ScanEvent.objects.values_list("read_at", "outcome"))
    assert outcomes[archive_taken + hours(2)] == ScanEvent.Outcome.RETURNED


def test_a_tap_read_after_the_restore_waits_for_the_taps_from_before_it(two_kiosks, archive_taken):
    a, b = two_kiosks
    badge, tool = BadgeFactory(), ToolTagFactory()
    replays.open_after_restore(archive_taken_at=archive_taken)
    request = a.beat()["replay"]
    b.beat()
    a.replay(
        request,
        tap(badge.uid, archive_taken + hours(1)),
        tap(tool.uid, archive_taken + hours(1.001)),
    )

    # Brought back at kiosk B just now, before B has answered: applied now, it would find no
    # loan (the borrow is not back) and wait for a badge to lend the tool out again.
    (brought_back,) = b.send(tap(tool.uid, timezone.now()))
    assert brought_back["status"] == "held"
    assert not Loan.objects.exists()

    b.replay(request)

    assert not Loan.objects.open().exists()
    assert ScanEvent.objects.get(id=brought_back["id"]).outcome == ScanEvent.Outcome.RETURNED
    # Sent again, as the agent keeps a held tap: now it learns what became of it.
    (again,) = b.send((tool.uid, timezone.now(), brought_back["id"]))
    assert (again["status"], again["outcome"]) == ("duplicate", "returned")


def test_taps_the_restored_data_holds_are_answered_duplicate_and_change_nothing(
    two_kiosks, archive_taken
):
    a, b = two_kiosks
    badge, tool = BadgeFactory(), ToolTagFactory()
    before = [
        tap(badge.uid, archive_taken - hours(0.01)),
        tap(tool.uid, archive_taken - hours(0.009)),
    ]
    a.send(*before)
    replays.open_after_restore(archive_taken_at=archive_taken)
    request = a.beat()["replay"]
    b.beat()

    answers = a.send(*before, replay=request["id"])
    a.beat(replay_done=request["id"])
    b.replay(request)

    assert [answer["status"] for answer in answers] == ["duplicate", "duplicate"]
    assert Loan.objects.count() == ScanEvent.objects.count() - 1 == 1
    assert ReplayStation.objects.get(station=a.station).duplicates == 2


def test_taps_sent_again_are_late_taps_they_never_flash_on_a_screen_nor_offer_an_undo(
    two_kiosks, archive_taken, django_capture_on_commit_callbacks
):
    a, b = two_kiosks
    badge, tool = BadgeFactory(), ToolTagFactory()
    replays.open_after_restore(archive_taken_at=archive_taken)
    request = a.beat()["replay"]
    b.beat()
    read = timezone.now() - datetime.timedelta(seconds=5)  # read just before the restore

    a.replay(request, tap(badge.uid, read), tap(tool.uid, read + datetime.timedelta(seconds=1)))
    b.replay(request)

    assert not ScanEvent.objects.filter(live=True).exists()
    assert Station.objects.get(pk=a.station.pk).undoable_loan is None
    assert Loan.objects.open().count() == 1


def test_a_tap_sent_again_older_than_a_loan_opened_since_is_refused_with_its_reason(
    two_kiosks, archive_taken
):
    a, b = two_kiosks
    alice, bob, tool = BadgeFactory(), BadgeFactory(), ToolTagFactory()
    replays.open_after_restore(archive_taken_at=archive_taken)
    # At the desk, after the restore: Bob holds the tool now.
    bobs = services.borrow(item=tool.item, employee=bob.employee, door=Door.API)
    request = a.beat()["replay"]
    b.beat()

    a.replay(
        request,
        tap(alice.uid, archive_taken + hours(1)),
        tap(tool.uid, archive_taken + hours(1.001)),
    )
    b.replay(request)

    assert Loan.objects.open().get() == bobs
    refused = HeldTap.objects.get(uid=tool.uid)
    assert refused.outcome == ScanEvent.Outcome.REFUSED
    assert bob.employee.name in refused.message


def test_after_the_wait_the_held_taps_are_applied_without_the_kiosk_that_did_not_answer(
    two_kiosks, archive_taken, settings
):
    a, b = two_kiosks
    badge, tool = BadgeFactory(), ToolTagFactory()
    replay = replays.open_after_restore(archive_taken_at=archive_taken)
    request = a.beat()["replay"]
    a.replay(
        request,
        tap(badge.uid, archive_taken + hours(1)),
        tap(tool.uid, archive_taken + hours(1.001)),
    )
    first_heard = Replay.objects.get().first_heard_at

    assert not replays.apply_ready(
        now=first_heard + datetime.timedelta(seconds=settings.REPLAY_WAIT_SECONDS - 1)
    )
    assert replays.apply_ready(
        now=first_heard + datetime.timedelta(seconds=settings.REPLAY_WAIT_SECONDS)
    )

    assert Loan.objects.open().count() == 1
    silent = ReplayStation.objects.filter(replay=replay, expected=True, answered_at=None)
    assert [part.station for part in silent] == [b.station]


def test_a_kiosk_that_answers_after_the_wait_has_its_taps_applied_as_they_come(
    two_kiosks, archive_taken
):
    a, b = two_kiosks
    badge, tool = BadgeFactory(), ToolTagFactory()
    replays.open_after_restore(archive_taken_at=archive_taken)
    request = a.beat()["replay"]
    a.replay(request)
    replays.apply_ready(now=timezone.now() + hours(1))

    request = b.beat()["replay"]  # still asked: it never answered
    answers = b.send(
        tap(badge.uid, archive_taken + hours(1)),
        tap(tool.uid, archive_taken + hours(1.001)),
        replay=request["id"],
    )
    b.beat(replay_done=request["id"])

    assert [answer["outcome"] for answer in answers] == ["session_started", "borrowed"]
    assert HeldTap.objects.filter(station=b.station, status="applied").count() == 2
    assert b.beat() == {"replay": None}


def test_the_wait_starts_when_the_first_kiosk_is_heard_not_at_the_restore(
    two_kiosks, archive_taken
):
    a, _b = two_kiosks
    # Restored while the server was stopped: nobody could answer for a long time.
    replay = replays.open_after_restore(
        archive_taken_at=archive_taken, now=timezone.now() - hours(1)
    )
    assert not replays.apply_ready()

    a.beat()

    assert not replays.apply_ready()
    assert Replay.objects.get(pk=replay.pk).state == Replay.State.GATHERING


def test_a_kiosk_made_after_the_restore_is_not_asked(archive_taken):
    replays.open_after_restore(archive_taken_at=archive_taken)

    assert Kiosk("New kiosk").beat() == {"replay": None}


def test_a_second_restore_while_a_replay_gathers_replaces_it_and_reaches_back_as_far(
    two_kiosks, archive_taken
):
    a, _b = two_kiosks
    badge = BadgeFactory()
    first = replays.open_after_restore(archive_taken_at=archive_taken)
    a.send(tap(badge.uid, archive_taken + hours(1)), replay=str(first.pk))

    # Restored again, from an archive taken while the first replay was gathering.
    second = replays.open_after_restore(archive_taken_at=archive_taken + hours(2))

    assert Replay.objects.get(pk=first.pk).state == Replay.State.SUPERSEDED
    assert second.since == first.since
    assert not HeldTap.objects.exists()  # the agents send them again for the new replay
    assert a.beat()["replay"]["id"] == str(second.pk)


@pytest.mark.django_db(transaction=True)
def test_taps_racing_with_the_last_answer_are_each_applied_once_none_left_held(
    postgres, archive_taken
):
    """Batches that arrive while the held taps are being applied wait for the replay's lock:
    held before the apply, or applied after it, never held in a replay already applied."""
    a, b = Kiosk("Kiosk A"), Kiosk("Kiosk B")
    tools = [ToolTagFactory() for _ in range(20)]
    replays.open_after_restore(archive_taken_at=archive_taken)
    request = a.beat()["replay"]
    b.beat()
    a.replay(request)
    errors = []

    def taps_at_b():
        try:
            kiosk = copy.copy(b)
            kiosk.client = Client()  # a connection of its own
            for tool in tools:
                kiosk.send(tap(tool.uid, timezone.now()))
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    racer = threading.Thread(target=taps_at_b)
    racer.start()
    b.replay(request)
    racer.join()

    assert not errors
    assert not HeldTap.objects.filter(applied_at__isnull=True).exists()
    assert ScanEvent.objects.filter(station=b.station).count() == len(tools)
    assert Loan.objects.count() == 0  # tools tapped alone wait for a badge: none lent twice
