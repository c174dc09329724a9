import datetime
import uuid
from zoneinfo import ZoneInfo

import pytest

from kiosk import actions
from kiosk.scans import Scan, record_scans

TOKYO = ZoneInfo("Asia/Tokyo")
T0 = datetime.datetime(2026, 11, 24, 9, 0, tzinfo=TOKYO)


def seconds(n: float) -> datetime.timedelta:
    return datetime.timedelta(seconds=n)


@pytest.fixture
def station(db):
    station, token, code = actions.create_station(name="Line 3", location="第3工場")
    station.token, station.code = token, code
    return station


@pytest.fixture
def tap(station):
    """tap(uid, at) records one live scan at `at` (agent clock right) and returns its Result."""

    def tap(uid, at, *, on=None):
        scan = Scan(id=uuid.uuid4(), raw_id="", uid=uid, read_at=at)
        (result,) = record_scans(station=on or station, scans=[scan], sent_at=at, received_at=at)
        return result

    return tap
