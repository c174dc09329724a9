"""The numbers on the staff dashboard, read from the loans of the last 30 days (each loan once)
and from the open loans."""

from __future__ import annotations

import datetime
from collections import Counter
from dataclasses import dataclass

from django.db.models import Count
from django.db.models.functions import Trunc
from django.utils import timezone

from inventory.core.days import local_midnight
from inventory.items.models import Item
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
    # One pass over the month's loans, counted by local hour (at most 720 of them): the days
    # and the hours of the day both add up from it, where counting each apart reads every
    # loan of the month twice.
    counted, hours = Counter(), Counter()
    for hour, n in (
        recent.annotate(hour=Trunc("borrowed_at", "hour"))
        .values_list("hour")
        .annotate(n=Count("*"))
        .values_list("hour", "n")
    ):
        counted[hour.date()] += n
        hours[hour.hour] += n
    top = _most_lent(recent, 10)
    loans = Loan.objects.counts(now)
    return Dashboard(
        tools_out=loans["open"],
        overdue=loans["overdue"],
        per_day=[
            (day, counted[day])
            for day in (first_day + datetime.timedelta(days=n) for n in range(days))
        ],
        top_tools=top,
        per_hour=[(hour, hours[hour]) for hour in range(24)],
        stations=list(_stations()),
        last_backup=last_backup(),
        now=now,
    )


def _most_lent(loans, count: int) -> list[tuple[str, str, int]]:
    """(code, name, loans) of the `count` tools lent most, ties by code. The loans are counted
    by tool id alone (joining each of a month's loans to its tool to group them by code costs
    more than the rest of the page); then the codes of the few tools that can be among them."""
    # COUNT(*), not of the key: the key is not in the index that answers both counts.
    per_tool = dict(loans.values_list("item").annotate(n=Count("*")).values_list("item", "n"))
    if not per_tool:
        return []
    least = sorted(per_tool.values(), reverse=True)[:count][-1]
    among = Item.objects.filter(pk__in=[pk for pk, n in per_tool.items() if n >= least])
    ranked = sorted(
        ((code, name, per_tool[pk]) for pk, code, name in among.values_list("pk", "code", "name")),
        key=lambda tool: (-tool[2], tool[0]),
    )
    return ranked[:count]


def _stations():
    return Station.objects.only(
        "name", "location", "last_seen_at", "reader_connected", "reader_name", "outbox_depth"
    ).order_by("name")


def last_backup():
    """The newest backup run, successful or not (a failed last night is what staff must see),
    or None when no backup was ever recorded."""
    return BackupRun.objects.order_by("-finished_at").first()
