import datetime
import subprocess
import uuid

import pytest
from django.utils import timezone

from inventory.loans import services
from inventory.loans.models import Door
from kiosk.models import ScanEvent, Station
from tests.factories import EmployeeFactory, ItemFactory, ToolTagFactory


def make_station(name="Crib A", **fields):
    station = Station(name=name, **fields)
    station.issue_token()
    station.save()
    return station


def make_scan(station, *, outcome=ScanEvent.Outcome.BORROWED, read_at=None, **fields):
    read_at = read_at or timezone.now()
    return ScanEvent.objects.create(
        id=uuid.uuid4(),
        station=station,
        uid=fields.pop("uid", "04A1B2C3D4E5F6"),
        read_at_raw=read_at,
        read_at=read_at,
        status=fields.pop("status", ScanEvent.Status.APPLIED),
        outcome=outcome,
        **fields,
    )


@pytest.fixture
def crib(transactional_db):
    """A small crib with everything a backup must carry: people, tools, tags, open and closed
    loans with their history, a station with heartbeats and scans."""
    station = make_station(
        last_seen_at=timezone.now(), reader_connected=True, reader_name="RC-S300", outbox_depth=0
    )
    people = EmployeeFactory.create_batch(3)
    tools = [ToolTagFactory().item for _ in range(4)]
    hour_ago = timezone.now() - datetime.timedelta(hours=1)
    returned = services.borrow(
        item=tools[0], employee=people[0], door=Door.KIOSK, station=station, at=hour_ago
    )
    services.return_loan(loan=returned, door=Door.KIOSK, station=station)
    open_loan = services.borrow(item=tools[1], employee=people[1], door=Door.API)
    make_scan(station, outcome=ScanEvent.Outcome.BORROWED, loan=open_loan, item=tools[1])
    make_scan(station, outcome=ScanEvent.Outcome.UNKNOWN_TAG, uid="DEADBEEF")
    ItemFactory(name="測定具 ✓ with 'quotes' and \"double\"")
    return {"station": station, "people": people, "tools": tools, "open_loan": open_loan}


@pytest.fixture
def small_disk(tmp_path):
    """small_disk(size): a real file system with room for `size` bytes (tmpfs; mounting needs
    root, which CI has)."""
    mount = tmp_path / "small-disk"
    mount.mkdir()

    def of_size(size: int):
        result = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)],
            capture_output=True,
        )
        if result.returncode:
            pytest.skip(f"cannot mount a small tmpfs: {result.stderr.decode().strip()}")
        return mount

    yield of_size
    subprocess.run(["umount", str(mount)], check=False)
