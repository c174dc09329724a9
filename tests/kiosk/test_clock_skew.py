"""A kiosk Pi has no real-time clock. Beyond 2 s between the agent's sent_at and the moment the
batch arrives, the agent's clock is taken to be off by that much, ahead or behind, and every tap of
the batch is dated by the server's clock; within 2 s its times are kept as they are."""

import uuid

import pytest

from kiosk.models import ScanEvent
from kiosk.scans import Scan, record_scans
from tests.factories import BadgeFactory
from tests.kiosk.conftest import T0, seconds

pytestmark = pytest.mark.django_db


def send_one(station, *, clock_off_by):
    """One tap read 3 s before it was sent, by an agent whose clock is `clock_off_by` ahead
    (negative: behind), arriving at T0. Returns the stored event."""
    sent_at = T0 + clock_off_by
    scan = Scan(id=uuid.uuid4(), raw_id="", uid=BadgeFactory().uid, read_at=sent_at - seconds(3))
    record_scans(station=station, scans=[scan], sent_at=sent_at, received_at=T0)
    return ScanEvent.objects.get(pk=scan.id)


@pytest.mark.parametrize(
    "clock_off_by", [2.5, 60, 600, 3 * 3600, -2.5, -60, -600, -3 * 3600], ids=lambda s: f"{s:+}s"
)
def test_a_clock_more_than_two_seconds_off_either_way_is_corrected(station, clock_off_by):
    stored = send_one(station, clock_off_by=seconds(clock_off_by))

    assert stored.read_at == T0 - seconds(3)
    assert stored.read_at_raw == T0 + seconds(clock_off_by) - seconds(3)


@pytest.mark.parametrize("clock_off_by", [0, 1.5, 2, -1.5, -2], ids=lambda s: f"{s:+}s")
def test_a_clock_within_two_seconds_is_trusted(station, clock_off_by):
    stored = send_one(station, clock_off_by=seconds(clock_off_by))

    assert stored.read_at == stored.read_at_raw == T0 + seconds(clock_off_by) - seconds(3)
