"""The employee, tool and category masters as CSV, in the columns `master_import` reads back
unchanged."""

from collections.abc import Iterator

from inventory.core.csv_text import stream_csv
from inventory.masterdata.columns import (
    CATEGORIES,
    EMPLOYEES,
    ITEMS,
    Master,
    format_cell,
    record_value,
)


def export_master(master: Master) -> Iterator[bytes]:
    """Header in the active language, then one row per record ordered by code (or name). A
    query for the records and one for each relation they show (tags, qualifications)."""
    return stream_csv(
        [column.label for column in master.columns],
        (
            [
                format_cell(master, column, record_value(record, column.field))
                for column in master.columns
            ]
            for record in master.records()
        ),
    )


def export_employees() -> Iterator[bytes]:
    return export_master(EMPLOYEES)


def export_items() -> Iterator[bytes]:
    return export_master(ITEMS)


def export_categories() -> Iterator[bytes]:
    return export_master(CATEGORIES)
