"""The numbers on the staff dashboard, each from one aggregate query."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Count
from django.db.models.functions import ExtractHour, TruncDate
from django.utils import timezone

from inventory.core.days import local_midnight
from inventory.loans.models import Loan
from inventory.ops.models import BackupRun
from kiosk.models import Station

DAYS = 30


@dataclass
class Dashboard:
    tools_out: int
    overdue: int
    per_day: list[tuple[datetime.date, int]]  # oldest first, every day present
    top_tools: list[tuple[str, str, int]]  # (code, name, loans)
    per_hour: list[tuple[int, int]]  # (local hour 0-23, loans borrowed in it)
    stations: list
    last_backup: object | None
    now: datetime.datetime

    def backup_is_late(self) -> bool:
        return BackupRun.objects.is_late(self.now)

    def station_is_stale(self, station) -> bool:
        return not station.is_online(self.now)


def build(*, now: datetime.datetime | None = None, days: int = DAYS) -> Dashboard:
    now = now or timezone.now()
    today = timezone.localdate(now)
    first_day = today - datetime.timedelta(days=days - 1)
    # Loans that count as "of the last 30 days": borrowed on or after local midnight of day 1.
    recent = Loan.objects.filter(borrowed_at__gte=local_midnight(first_day))
    counted = dict(
        recent.annotate(day=TruncDate("borrowed_at"))
        .values_list("day")
        .annotate(n=Count("pk"))
        .values_list("day", "n")
    )
    hours = dict(
        recent.annotate(hour=ExtractHour("borrowed_at"))
        .values_list("hour")
        .annotate(n=Count("pk"))
        .values_list("hour", "n")
    )
    top = (
        recent.values_list("item__code", "item__name")
        .annotate(n=Count("pk"))
        .order_by("-n", "item__code")[:10]
    )
    loans = Loan.objects.counts(now)
    return Dashboard(
        tools_out=loans["open"],
        overdue=loans["overdue"],
        per_day=[
            (day, counted.get(day, 0))
            for day in (first_day + datetime.timedelta(days=n) for n in range(days))
        ],
        top_tools=list(top),
        per_hour=[(hour, hours.get(hour, 0)) for hour in range(24)],
        stations=list(_stations()),
        last_backup=last_backup(),
        now=now,
    )


def _stations():
    return Station.objects.only(
        "name", "location", "last_seen_at", "reader_connected", "reader_name", "outbox_depth"
    ).order_by("name")


def last_backup():
    """The newest backup run, successful or not (a failed last night is what staff must see),
    or None when no backup was ever recorded."""
    return BackupRun.objects.order_by("-finished_at").first()
