"""Query-string filters shared by the API's lists."""

import django_filters
from django import forms

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
