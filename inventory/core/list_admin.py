"""The admin's lists. Every list with actions draws its row checkboxes without the form
renderer (ListAdmin). The lists of what happened (loans, their history, the kiosks' taps) hold
a year of rows and more, millions: Django's list counts every row twice per page and finds the
dates of its date hierarchy with a DISTINCT over every row; these lists (LongListAdmin) count
up to a cap and find the dates cheaply.
"""

import calendar
import datetime
from functools import cached_property

from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.admin.views.main import SEARCH_VAR, ChangeList
from django.db import connection
from django.db.models import Max, Min
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from inventory.core.paging import CappedCountPaginator


class ListChangeList(ChangeList):
    """Django's list, with each row's link to its page made without resolving it: Django's
    add_preserved_filters resolves every row's URL to learn whether it is the list's own (it
    never is) before it adds the list's filters, a quarter of a filtered page's rows' time."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The rows only read it (items_for_result); the page's own links take theirs from the
        # view's context. Empty, Django adds nothing to what url_for_result gives.
        self.row_filters, self.preserved_filters = self.preserved_filters, ""

    def url_for_result(self, result):
        url = super().url_for_result(result)
        return f"{url}?{self.row_filters}" if self.row_filters else url


class LongChangeList(ListChangeList):
    @cached_property
    def date_links(self) -> dict:
        """The links of Django's date hierarchy (the same links and titles, for a DateTimeField),
        without its first step, the oldest and newest row of the list (on a filtered list, a walk
        along the date's index to the first row that passes the filter: for the open loans,
        nearly the whole table), and with cheap periods when the list is long (see below)."""
        year, month, day = (self.params.get(self._part(part)) for part in ("year", "month", "day"))
        if year and month and day:
            shown = datetime.date(int(year), int(month), int(day))
            return {
                "show": True,
                "back": {
                    "link": self._link(year=year, month=month),
                    "title": capfirst(formats.date_format(shown, "YEAR_MONTH_FORMAT")),
                },
                "choices": [{"title": capfirst(formats.date_format(shown, "MONTH_DAY_FORMAT"))}],
            }
        if year and month:
            return self._days(int(year), int(month))
        if year:
            return self._months(int(year), self._months_holding_rows(int(year)))
        years = self._holding_rows(self._years(), "year")
        if len(years) == 1:
            # All in one year: its months straight away (its days, if one month), as Django.
            months = self._months_holding_rows(years[0].year)
            if len(months) == 1:
                return self._days(years[0].year, months[0].month)
            return self._months(years[0].year, months)
        return {
            "show": True,
            "back": None,
            "choices": [{"link": self._link(year=y.year), "title": str(y.year)} for y in years],
        }

    def _months_holding_rows(self, year: int) -> list[datetime.date]:
        return self._holding_rows([datetime.date(year, m, 1) for m in range(1, 13)], "month")

    def _months(self, year: int, months: list[datetime.date]) -> dict:
        return {
            "show": True,
            "back": {"link": self._link(), "title": _("All dates")},
            "choices": [
                {
                    "link": self._link(year=year, month=m.month),
                    "title": capfirst(formats.date_format(m, "YEAR_MONTH_FORMAT")),
                }
                for m in months
            ],
        }

    def _days(self, year: int, month: int) -> dict:
        last = calendar.monthrange(year, month)[1]
        days = self._holding_rows(
            [datetime.date(year, month, d) for d in range(1, last + 1)], "day"
        )
        return {
            "show": True,
            "back": {"link": self._link(year=year), "title": str(year)},
            "choices": [
                {
                    "link": self._link(year=year, month=month, day=d.day),
                    "title": capfirst(formats.date_format(d, "MONTH_DAY_FORMAT")),
                }
                for d in days
            ],
        }

    def _part(self, part: str) -> str:
        return f"{self.date_hierarchy}__{part}"

    def _link(self, **parts) -> str:
        return self.get_query_string(
            {self._part(part): value for part, value in parts.items()},
            [f"{self.date_hierarchy}__"],
        )

    def _years(self) -> list[datetime.date]:
        """Every year from the table's first row to its last (two ends of an index)."""
        bounds = self.root_queryset.aggregate(
            first=Min(self.date_hierarchy), last=Max(self.date_hierarchy)
        )
        if bounds["first"] is None:
            return []
        first, last = (timezone.localtime(bounds[end]).year for end in ("first", "last"))
        return [datetime.date(y, 1, 1) for y in range(first, last + 1)]

    def _holding_rows(self, starts: list[datetime.date], kind: str) -> list[datetime.date]:
        """Those of the periods (a `kind`: year, month or day, beginning at each of `starts`)
        in which the list has a row."""
        field = self.date_hierarchy
        if self.paginator.count_exact:
            # At most COUNT_CAP rows: their distinct periods in one pass over them.
            found = {moment.date() for moment in self.queryset.datetimes(field, kind)}
            return [start for start in starts if start in found]
        # Longer: each period's first row by the date's own index, all periods in one statement.
        # (Not "is there any row": the planner, guessing the rows spread evenly over the table,
        # would read the table from its start to find one.)
        following = {"year": _next_year, "month": _next_month, "day": _next_day}[kind]
        probes = [
            self.queryset.filter(
                **{f"{field}__gte": _midnight(start), f"{field}__lt": _midnight(following(start))}
            )
            .order_by(field)
            .values(field)[:1]
            .query.sql_with_params()
            for start in starts
        ]
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT " + ", ".join(f"({sql})" for sql, _params in probes),
                [param for _sql, params in probes for param in params],
            )
            firsts = cursor.fetchone()
        return [start for start, first in zip(starts, firsts, strict=True) if first is not None]


def _midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time()))


def _next_day(day: datetime.date) -> datetime.date:
    return day + datetime.timedelta(days=1)


def _next_month(day: datetime.date) -> datetime.date:
    return (day.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)


def _next_year(day: datetime.date) -> datetime.date:
    return day.replace(year=day.year + 1, month=1, day=1)


class ListAdmin(admin.ModelAdmin):
    def get_changelist(self, request, **kwargs):
        return ListChangeList

    def action_checkbox(self, obj):
        """Django's checkbox for the actions, written as its widget writes it: through the
        form renderer (three templates a row) it was a third of a 100-row page's time."""
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME,
            obj.pk,
            format_html(_("Select this object for an action - {}"), str(obj)),
        )


class LongListAdmin(ListAdmin):
    """A list of a year of history or more: counted up to COUNT_CAP rows (beyond, "10000+" and
    every page can still be opened), without the second count of the unfiltered table, and
    with a date hierarchy that probes periods instead of reading every row."""

    paginator = CappedCountPaginator
    show_full_result_count = False
    # Half of Django's 100: a row costs ~0.5 ms of the admin's cell rendering (most of a page's
    # CPU), and a filter or search the planner answers by walking the date's index backwards
    # reads rows in proportion to the page. 50 rows still fill a screen or two; the date
    # hierarchy, filters and search narrow a year faster than paging does.
    list_per_page = 50
    change_list_template = "admin/long_change_list.html"

    def get_changelist(self, request, **kwargs):
        return LongChangeList

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        paginator = super().get_paginator(
            request, queryset, per_page, orphans, allow_empty_first_page
        )
        # A search is an OR of indexes that none holds in the list's order (paging.py).
        paginator.sort_found = bool(request.GET.get(SEARCH_VAR, "").strip())
        return paginator
