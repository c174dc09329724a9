import datetime
from collections import Counter

import pytest
from django.utils import timezone

from inventory.loans import services
from inventory.loans.models import Door, Loan
from inventory.ops import dashboard
from inventory.ops.models import BackupRun
from kiosk.models import Station
from tests.factories import EmployeeFactory, ItemFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def month_of_loans():
    """Loans spread over 40 days and over the hours of the day; some returned, some late."""
    now = timezone.now()
    tools = [ItemFactory() for _ in range(4)]
    loans = []
    for n in range(60):
        at = now - datetime.timedelta(days=n % 40, hours=n % 9, minutes=7 * n)
        # Written directly (not through the services) to place loans anywhere in time.
        loans.append(
            Loan.objects.create(
                item=tools[n % 4] if n % 5 else ItemFactory(),
                employee=EmployeeFactory(),
                borrowed_at=at,
                due_at=at + datetime.timedelta(hours=4 if n % 2 else 400),
                returned_at=at + datetime.timedelta(hours=1) if n % 5 else None,
                door=Door.KIOSK,
            )
        )
    return now, loans


def test_the_numbers_match_counts_made_independently(month_of_loans):
    now, _ = month_of_loans
    loans = list(Loan.objects.select_related("item"))
    today = timezone.localdate(now)
    first_day = today - datetime.timedelta(days=29)
    recent = [loan for loan in loans if timezone.localdate(loan.borrowed_at) >= first_day]

    board = dashboard.build(now=now)

    assert board.tools_out == sum(1 for loan in loans if loan.is_open)
    assert board.overdue == sum(1 for loan in loans if loan.is_open and loan.due_at < now)
    per_day = Counter(timezone.localdate(loan.borrowed_at) for loan in recent)
    assert board.per_day == [
        (first_day + datetime.timedelta(days=n), per_day[first_day + datetime.timedelta(days=n)])
        for n in range(30)
    ]
    per_hour = Counter(timezone.localtime(loan.borrowed_at).hour for loan in recent)
    assert board.per_hour == [(hour, per_hour[hour]) for hour in range(24)]
    tools = Counter((loan.item.code, loan.item.name) for loan in recent)
    expected = sorted(tools.items(), key=lambda pair: (-pair[1], pair[0][0]))
    assert board.top_tools == [(code, name, count) for (code, name), count in expected][:10]
    assert sum(count for _day, count in board.per_day) == len(recent) < len(loans)


def test_stations_are_listed_with_their_health(client, manager):
    now = timezone.now()
    Station.objects.create(
        name="A", token_hash="a", last_seen_at=now, reader_connected=True, outbox_depth=0
    )
    Station.objects.create(name="B", token_hash="b", last_seen_at=now - datetime.timedelta(hours=1))
    board = dashboard.build(now=now)
    assert [(s.name, board.station_is_stale(s)) for s in board.stations] == [
        ("A", False),
        ("B", True),
    ]


def test_the_page_draws_its_charts_without_anything_from_the_internet(client, manager):
    manager.is_staff = True
    manager.save()
    client.force_login(manager)
    services.borrow(item=ItemFactory(code="TO0001"), employee=EmployeeFactory(), door=Door.KIOSK)

    response = client.get("/admin/dashboard/", HTTP_ACCEPT_LANGUAGE="en")

    page = response.content.decode()
    assert response.status_code == 200
    assert page.count('<svg class="chart"') == 2
    assert 'id="tools-out">1<' in page
    assert "No backup recorded" in page
    assert "TO0001" in page
    assert "http://" not in page.replace("http://www.w3.org", "")
    assert "https://" not in page


def test_the_dashboard_needs_the_loan_view_permission(client, django_user_model):
    staff_only = django_user_model.objects.create_user("staff", password="x", is_staff=True)
    client.force_login(staff_only)
    assert client.get("/admin/dashboard/").status_code == 403


@pytest.mark.parametrize(
    ("hours_ago", "succeeded", "late"), [(2, True, False), (30, True, True), (1, False, True)]
)
def test_the_last_backup_is_shown_and_flagged_when_late_or_failed(hours_ago, succeeded, late):
    now = timezone.now()
    finished = now - datetime.timedelta(hours=hours_ago)
    BackupRun.objects.create(
        trigger="command",
        started_at=finished - datetime.timedelta(minutes=1),
        finished_at=finished,
        succeeded=succeeded,
        path="/var/backups/toolcrib.tar.gz" if succeeded else "",
        size_bytes=1024 if succeeded else None,
        error="" if succeeded else "disk full",
    )
    BackupRun.objects.create(
        trigger="scheduled",
        started_at=now - datetime.timedelta(days=9),
        finished_at=now - datetime.timedelta(days=9),
        succeeded=True,
    )

    board = dashboard.build(now=now)

    assert board.last_backup.finished_at == finished
    assert board.backup_is_late() is late


def test_no_backup_at_all_is_late():
    assert dashboard.build().backup_is_late()
