"""The check before use at the kiosk: the screen asks the checks of a tool whose category has a
checklist, and its answer (the button's POST) lends the tool or sends it to maintenance."""

import datetime
import uuid

import pytest
from django.test import Client
from django.utils import timezone

from inventory.items.models import Item
from inventory.loans import services
from inventory.loans.models import Door, Inspection, Loan
from kiosk import actions, pairing, state
from kiosk.models import Station
from kiosk.scans import Scan, record_scans
from tests.factories import BadgeFactory, CategoryFactory, ToolTagFactory

pytestmark = pytest.mark.django_db

CHECKS = ["Cable undamaged", "Zero checked"]


def live_tap(station, uid, at=None):
    at = at or timezone.now()
    scan = Scan(id=uuid.uuid4(), raw_id="", uid=uid, read_at=at)
    return record_scans(station=station, scans=[scan], sent_at=at, received_at=at)[0]


@pytest.fixture
def paired(station):
    kiosk = Client()
    kiosk.post(pairing.pair_url(station.code))
    return kiosk


@pytest.fixture
def megger():
    CategoryFactory(name="Meggers", checklist="\n".join(CHECKS))
    return ToolTagFactory(item__name="Megger", item__category="Meggers")


@pytest.fixture
def asked(station, megger):
    """Alice tapped her badge and the megger: the screen asks its two checks."""
    alice = BadgeFactory(employee__name="Alice")
    live_tap(station, alice.uid)
    assert live_tap(station, megger.uid).outcome == "checklist"
    return {"item": megger.item_id, "employee": alice.employee_id}


def answer(kiosk, asked, *said, path="/kiosk/checklist/"):
    form = {**asked, **{f"answer-{n}": value for n, value in enumerate(said)}}
    return kiosk.post(path, form)


def test_all_ok_lends_the_tool_with_its_check_and_offers_undo(paired, station, asked, megger):
    assert answer(paired, asked, "ok", "ok").status_code == 204

    loan = Loan.objects.open().get()
    assert (loan.item, loan.employee_id, loan.door, loan.station) == (
        megger.item,
        asked["employee"],
        "kiosk",
        station,
    )
    assert loan.inspection.passed
    assert loan.inspection.answers == [{"check": check, "ok": True} for check in CHECKS]
    here = Station.objects.get(pk=station.pk)
    assert state.checklist(here, timezone.now()) is None
    assert state.last_change(here, timezone.now()) == ("borrow", loan)
    # The undo of any borrow: the loan is cancelled, the check stays on record.
    assert paired.post("/kiosk/undo/", {"loan": loan.pk}).status_code == 204
    assert not Loan.objects.open().exists()
    assert Inspection.objects.count() == 1


def test_an_ng_keeps_the_answers_sends_the_tool_to_maintenance_and_lends_nothing(
    paired, station, asked, megger, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as pushes:
        assert answer(paired, asked, "ok", "ng").status_code == 204

    assert not Loan.objects.exists()
    inspection = Inspection.objects.get()
    assert (inspection.passed, inspection.failed_checks, inspection.station) == (
        False,
        ["Zero checked"],
        station,
    )
    assert Item.objects.get(pk=megger.item_id).status == "maintenance"
    here = Station.objects.get(pk=station.pk)
    assert state.checklist(here, timezone.now()) is None
    assert state.last_change(here, timezone.now()) is None  # nothing to undo
    assert len(pushes) == 1


def test_the_answer_is_taken_once(paired, asked):
    assert answer(paired, asked, "ok", "ok").status_code == 204
    assert answer(paired, asked, "ok", "ok").status_code == 409
    assert Loan.objects.count() == 1


def test_an_answer_naming_another_tool_or_person_lends_nothing(paired, station, asked):
    other_tool = ToolTagFactory(item__category="Meggers")
    someone = BadgeFactory()
    for named in ({"item": other_tool.item_id}, {"employee": someone.employee_id}):
        assert answer(paired, {**asked, **named}, "ok", "ok").status_code == 409
    assert not Loan.objects.exists()
    # The question still stands for what the screen showed.
    assert answer(paired, asked, "ok", "ok").status_code == 204


def test_an_answer_after_the_next_badge_lends_nothing(paired, station, asked):
    live_tap(station, BadgeFactory().uid)
    assert answer(paired, asked, "ok", "ok").status_code == 409
    assert not Loan.objects.exists()


def test_an_answer_after_done_lends_nothing(paired, station, asked):
    assert paired.post("/kiosk/end/", {"employee": asked["employee"]}).status_code == 204
    assert answer(paired, asked, "ok", "ok").status_code == 409
    assert not Loan.objects.exists()


def test_an_answer_after_the_question_ran_out_lends_nothing(paired, station, asked):
    # The tap asked it a session window ago (30 s in tests).
    Station.objects.filter(pk=station.pk).update(
        checklist_expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    assert answer(paired, asked, "ok", "ok").status_code == 409
    assert not Loan.objects.exists()


def test_answers_to_other_checks_than_those_asked_lend_nothing(paired, asked):
    assert answer(paired, asked, "ok").status_code == 409
    assert answer(paired, asked, "ok", "ok", "ok").status_code == 409
    assert not Loan.objects.exists()
    assert not Inspection.objects.exists()


@pytest.mark.parametrize(
    "form",
    [
        {},
        {"answer-0": "yes", "answer-1": "ok"},
        {"answer-0": "", "answer-1": "ok"},
        {f"answer-{n}": "ok" for n in range(9)},  # more than any checklist has
        {"answer-1": "ok"},
    ],
)
def test_malformed_answers_are_400(paired, asked, form):
    assert paired.post("/kiosk/checklist/", {**asked, **form}).status_code == 400
    assert not Inspection.objects.exists()


@pytest.mark.parametrize("value", ["", "x", "1" * 30])
def test_the_answer_needs_the_tool_and_person_the_screen_showed(paired, asked, value):
    for field in ("item", "employee"):
        assert answer(paired, {**asked, field: value}, "ok", "ok").status_code == 400


def test_only_the_paired_kiosk_may_answer_not_a_monitor_nor_a_stranger(
    station, asked, staff, client
):
    # A staff user watching the station's screen (read-only), then a browser never paired.
    monitor = answer(client, asked, "ok", "ok", path=f"/kiosk/checklist/?station={station.pk}")
    stranger = answer(Client(), asked, "ok", "ok")
    assert (monitor.status_code, stranger.status_code) == (403, 403)
    assert not Loan.objects.exists()


def test_a_kiosk_paired_to_another_station_cannot_answer(station, asked):
    _other, _token, code = actions.create_station(name="Line 9")
    elsewhere = Client()
    elsewhere.post(pairing.pair_url(code))
    assert answer(elsewhere, asked, "ok", "ok").status_code == 409
    assert not Loan.objects.exists()


def test_a_tool_lent_elsewhere_while_asked_is_refused_and_the_question_withdrawn(
    paired, station, asked, megger
):
    services.borrow(
        item=megger.item, employee=BadgeFactory().employee, door=Door.API, answers=[True, True]
    )
    assert answer(paired, asked, "ok", "ok").status_code == 409
    assert Loan.objects.count() == 1
    assert state.checklist(Station.objects.get(pk=station.pk), timezone.now()) is None


def test_answering_costs_a_fixed_number_of_queries(paired, asked, django_assert_num_queries):
    # The paired browser's station (pairing cookie) and the station with its state's rows;
    # savepoint, lock the station, read it (with the session's person, the last change's loan,
    # the question's tool and person); the tool's savepoint, lock the tool (with its category's
    # rules), its latest loan, its category (the checks), insert the inspection, lock the
    # person (with their shift), the closed days ahead, insert the loan, insert its history,
    # release; update the station, release
    with django_assert_num_queries(17):
        assert answer(paired, asked, "ok", "ok").status_code == 204


def test_an_ng_answer_costs_a_fixed_number_of_queries(paired, asked, django_assert_num_queries):
    # As above up to the inspection, then the tool to maintenance; release; update the station,
    # release
    with django_assert_num_queries(14):
        assert answer(paired, asked, "ng", "ok").status_code == 204
