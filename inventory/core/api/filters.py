"""Query-string filters shared by the API's lists."""

import django_filters
from django import forms
from django_filters.constants import EMPTY_VALUES

from inventory.core.days import before_end_of, on_or_after

# The largest id a BigAutoField holds (PostgreSQL bigint, SQLite INTEGER).
MAX_ID = 2**63 - 1


class IdFilter(django_filters.NumberFilter):
    """A row id: a whole number in the database's range, else a 400. A plain NumberFilter lets
    1e142 through to the driver, which fails with a 500."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class LocalDayFilter(django_filters.DateFilter):
    """From (or until, inclusive) a local calendar day, as a range on a datetime column: the
    column's index is used, where a `__date` lookup converts every row (per row in Python on
    SQLite)."""

    def __init__(self, *args, until=False, **kwargs):
        self.until = until
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if value in EMPTY_VALUES:
            return qs
        if self.until:
            bound, lookup = before_end_of(value), "lt"
        else:
            bound, lookup = on_or_after(value), "gte"
        return qs if bound is None else qs.filter(**{f"{self.field_name}__{lookup}": bound})
