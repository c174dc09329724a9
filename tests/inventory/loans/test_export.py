import codecs
import csv
import datetime
import io
import os
import tracemalloc
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone, translation

from inventory.employees.models import Employee
from inventory.items.models import Item
from inventory.loans import services
from inventory.loans.export import export_loans, loans_to_export
from inventory.loans.models import Door, Loan
from tests.factories import EmployeeFactory, ItemFactory

pytestmark = pytest.mark.django_db
TOKYO = ZoneInfo("Asia/Tokyo")


def rows(data: bytes) -> list[list[str]]:
    assert data.startswith(codecs.BOM_UTF8)
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


@pytest.fixture
def history():
    now = timezone.now()
    alice = EmployeeFactory(code="ALICE", department="保全課")
    bob = EmployeeFactory(code="BOB")
    early = datetime.datetime(2026, 3, 1, 23, 30, tzinfo=TOKYO)  # 14:30 UTC, same local day
    returned = services.borrow(
        item=ItemFactory(code="T1"), employee=alice, door=Door.KIOSK, at=early
    )
    services.return_loan(loan=returned, door=Door.KIOSK, at=early + datetime.timedelta(minutes=20))
    overdue = services.borrow(
        item=ItemFactory(code="T2"),
        employee=bob,
        door=Door.API,
        at=now - datetime.timedelta(days=2),
        due_at=now - datetime.timedelta(days=1),
    )
    current = services.borrow(item=ItemFactory(code="T3"), employee=alice, door=Door.ADMIN)
    return returned, overdue, current


def exported_ids(**filters):
    return [int(row[0]) for row in rows(b"".join(export_loans(loans_to_export(**filters))))[1:]]


def test_exports_local_times_and_readable_states(history, english):
    returned, *_ = history
    header, first, *_ = rows(b"".join(export_loans(loans_to_export())))

    assert header[:3] == ["Loan", "Tool code", "Tool name"]
    assert first[0] == str(returned.pk)
    assert first[5] == "保全課"
    assert first[6:9] == ["2026-03-01 23:30:00", "2026-03-02 18:00:00", "2026-03-01 23:50:00"]
    assert first[10] == "Returned"


def test_headers_follow_the_language(history):
    with translation.override("ja"):
        header = rows(b"".join(export_loans(loans_to_export())))[0]
    with translation.override("en"):
        english = rows(b"".join(export_loans(loans_to_export())))[0]
    assert len(header) == len(english) == 15
    assert header != english


def test_filters_by_dates_people_tools_and_state(history):
    returned, overdue, current = history
    today = timezone.localdate()

    assert exported_ids() == [returned.pk, overdue.pk, current.pk]
    assert exported_ids(date_to=datetime.date(2026, 3, 1)) == [returned.pk]
    assert exported_ids(date_from=datetime.date(2026, 3, 2)) == [overdue.pk, current.pk]
    assert exported_ids(date_from=today, date_to=today) == [current.pk]
    assert exported_ids(employee="ALICE") == [returned.pk, current.pk]
    assert exported_ids(item="T2") == [overdue.pk]
    assert exported_ids(state="open") == [overdue.pk, current.pk]
    assert exported_ids(state="overdue") == [overdue.pk]
    assert exported_ids(state="returned") == [returned.pk]


def test_the_command_writes_every_matching_loan(history, tmp_path, capsys):
    returned, *_ = history
    out = tmp_path / "loans.csv"

    call_command("export_loans", "--output", out, "--from", "2026-03-01", "--to", "2026-03-01")

    assert [row[0] for row in rows(out.read_bytes())[1:]] == [str(returned.pk)]
    assert "1" in capsys.readouterr().out


def test_the_command_answers_a_bad_date_or_an_unwritable_path_in_one_line(db, tmp_path, english):
    with pytest.raises(CommandError, match="is not a date like 2026-04-01"):
        call_command("export_loans", "--output", tmp_path / "a.csv", "--from", "2026-13-45")
    with pytest.raises(CommandError, match=r"Cannot write .*Choose a folder"):
        call_command("export_loans", "--output", tmp_path / "missing" / "a.csv")
    with pytest.raises(CommandError, match="Cannot write"):
        call_command("export_master", "--items", tmp_path / "missing" / "items.csv")


def make_loans(count: int) -> None:
    """History written straight into the table (PostgreSQL's COPY, SQLite's executemany),
    bypassing the services and the ORM's per-object work, so 100,000 loans take seconds: this
    test is about reading them back, not about the rules of lending."""
    employees = Employee.objects.bulk_create(
        Employee(code=f"P{n:03d}", name=f"社員 {n}") for n in range(100)
    )
    items = Item.objects.bulk_create(Item(code=f"T{n:03d}", name=f"工具 {n}") for n in range(100))
    start = datetime.datetime(2025, 1, 1, tzinfo=TOKYO)
    hour = datetime.timedelta(hours=1)
    postgres = connection.vendor == "postgresql"
    adapt = (lambda moment: moment) if postgres else connection.ops.adapt_datetimefield_value
    rows = (
        (
            items[n % 100].pk,
            employees[n // 100 % 100].pk,
            adapt(at),
            adapt(at + 8 * hour),
            adapt(at + hour),
            Door.KIOSK.value,
            "",
            "棚卸し" if n % 7 == 0 else "",
        )
        for n, at in ((n, start + datetime.timedelta(seconds=864 * n)) for n in range(count))
    )
    table = Loan._meta.db_table
    columns = "item_id, employee_id, borrowed_at, due_at, returned_at, door, return_condition, note"
    with connection.cursor() as cursor:
        if postgres:
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                list(rows),
            )


def peak_while_exporting(loans) -> tuple[int, int]:
    """(lines written, peak bytes Python allocated while producing them)."""
    tracemalloc.start()
    try:
        lines = sum(1 for _line in export_loans(loans))
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return lines, peak


def resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_exporting_100000_loans_streams_in_bounded_memory(english):
    make_loans(100_000)

    # Every allocation is traced, which makes Python several times slower: trace two slices,
    # 5,000 and 20,000 loans, and check that four times the rows take the same memory.
    small_lines, small_peak = peak_while_exporting(
        loans_to_export(date_to=datetime.date(2025, 2, 19))
    )
    large_lines, large_peak = peak_while_exporting(
        loans_to_export(date_to=datetime.date(2025, 7, 19))
    )
    assert (small_lines, large_lines) == (5_000 + 1, 20_000 + 1)
    assert large_peak < small_peak * 1.25 + 256 * 1024, (small_peak, large_peak)

    # All 100,000, untraced: the process grows by far less than the rows would take if held
    # (over 30 MB as tuples, several times that as model instances).
    baseline, highest, lines = resident_bytes(), 0, 0
    for lines, _line in enumerate(export_loans(loans_to_export()), start=1):
        if lines % 1000 == 0:
            highest = max(highest, resident_bytes())
    assert lines == 100_000 + 1
    assert highest - baseline < 8 * 1024 * 1024, highest - baseline
    print(
        f"export: peak {small_peak} B for 2,500 loans, {large_peak} B for 10,000; "
        f"resident growth {highest - baseline} B for 100,000"
    )
