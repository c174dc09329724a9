"""The crib's rules at the kiosk door, through the agent's scan API: what the loan services
refuse is a refused tap, in the order the person taps (badge then tool, or tool then badge)."""

import datetime
import json
import uuid

import pytest
from django.utils import timezone

from inventory.loans import services
from inventory.loans.models import Door, Loan
from kiosk import actions
from kiosk.models import Station
from tests.factories import (
    BadgeFactory,
    CategoryFactory,
    ItemFactory,
    QualificationFactory,
    ToolTagFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def kiosk(db):
    _station, token, _code = actions.create_station(name="Line 3")
    return token


@pytest.fixture
def taps(client, kiosk, english):
    """taps(uid, ...) posts one batch, a second apart, and answers each tap's result."""

    def post(*uids):
        start = timezone.now() - datetime.timedelta(seconds=len(uids))
        events = [
            {
                "id": str(uuid.uuid4()),
                "uid": uid,
                "read_at": (start + datetime.timedelta(seconds=n)).isoformat(),
            }
            for n, uid in enumerate(uids)
        ]
        response = client.post(
            "/api/v1/kiosk/scans",
            json.dumps({"sent_at": timezone.now().isoformat(), "events": events}),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Station {kiosk}",
        )
        assert response.status_code == 200
        return response.json()["results"]

    return post


def test_a_tool_over_the_limit_is_a_refused_tap(taps, settings):
    settings.LOAN_LIMIT_PER_PERSON = 1
    badge = BadgeFactory(employee__name="Sato")
    first, second = ToolTagFactory(item__name="Caliper"), ToolTagFactory()

    results = taps(badge.uid, first.uid, second.uid)

    assert [r["outcome"] for r in results] == ["session_started", "borrowed", "refused"]
    assert "Sato holds 1 tools (Caliper) and may hold at most 1" in results[2]["message"]
    assert not Loan.objects.filter(item=second.item).exists()


def test_a_person_with_an_overdue_tool_is_refused_at_the_kiosk(taps, settings):
    settings.LOAN_BLOCK_WHEN_OVERDUE = True
    badge = BadgeFactory()
    now = timezone.now()
    services.borrow(
        item=ItemFactory(name="Old caliper"),
        employee=badge.employee,
        door=Door.API,
        at=now - datetime.timedelta(days=2),
        due_at=now - datetime.timedelta(days=1),
    )

    results = taps(badge.uid, ToolTagFactory().uid)

    assert results[1]["outcome"] == "refused"
    assert "overdue tools: Old caliper" in results[1]["message"]


@pytest.mark.parametrize("badge_first", [True, False])
def test_a_tool_needing_a_qualification_is_refused_in_either_order(taps, badge_first):
    CategoryFactory(name="Torque", qualification=QualificationFactory(name="Torque trained"))
    badge, tool = BadgeFactory(), ToolTagFactory(item__category="Torque")

    results = taps(*((badge.uid, tool.uid) if badge_first else (tool.uid, badge.uid)))

    refused = results[1]  # the second tap decides, whichever it is
    assert refused["outcome"] == "refused"
    assert "needs the qualification “Torque trained”" in refused["message"]
    assert not Loan.objects.exists()


def test_an_expired_calibration_is_refused_when_the_tool_is_tapped_alone(taps):
    tool = ToolTagFactory(item__calibration_due=timezone.localdate() - datetime.timedelta(days=1))
    (result,) = taps(tool.uid)
    assert result["outcome"] == "refused"
    assert "calibration was due on" in result["message"]


def test_a_tool_with_a_checklist_is_not_lent_by_the_tap_the_kiosk_asks_its_checks(taps):
    CategoryFactory(name="Meggers", checklist="Cable undamaged\nZero checked")
    tool = ToolTagFactory(item__category="Meggers")

    results = taps(BadgeFactory().uid, tool.uid)

    assert results[1]["outcome"] == "checklist"
    assert "answer its 2 checks" in results[1]["message"]
    assert not Loan.objects.exists()
    # The screen asks them; its answer lends the tool (tests/kiosk/test_checklist.py).
    station = Station.objects.get()
    assert (station.checklist_item, station.checklist_checks) == (
        tool.item,
        ["Cable undamaged", "Zero checked"],
    )


def test_an_instrument_nearly_due_is_lent_at_the_kiosk_with_the_warning(taps, settings):
    settings.CALIBRATION_WARN_DAYS = 14
    tool = ToolTagFactory(
        item__name="Caliper",
        item__calibration_due=timezone.localdate() + datetime.timedelta(days=2),
    )
    results = taps(BadgeFactory().uid, tool.uid)
    assert results[1]["outcome"] == "borrowed"
    assert "Caliper is due for calibration on" in results[1]["message"]
