"""The employee and tool masters as CSV, in the columns `master_import` reads back unchanged."""

from collections.abc import Iterator

from django.db.models import Prefetch

from inventory.core.csv_text import stream_csv
from inventory.items.models import Tag
from inventory.masterdata.columns import EMPLOYEES, ITEMS, Master, format_cell


def export_master(master: Master) -> Iterator[bytes]:
    """Header in the active language, then one row per record ordered by code. Two queries:
    the records and their active tags."""
    records = master.model.objects.order_by("code").prefetch_related(
        Prefetch("tags", queryset=Tag.objects.active().order_by("uid"), to_attr="active_tags")
    )
    return stream_csv(
        [column.label for column in master.columns],
        (
            [format_cell(master, column, _value(record, column.field)) for column in master.columns]
            for record in records
        ),
    )


def _value(record, name: str):
    if name == "uids":
        return [tag.uid for tag in record.active_tags]
    return getattr(record, name)


def export_employees() -> Iterator[bytes]:
    return export_master(EMPLOYEES)


def export_items() -> Iterator[bytes]:
    return export_master(ITEMS)
