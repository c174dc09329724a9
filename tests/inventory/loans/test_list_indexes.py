"""A person's and a tool's loans, newest first (their pages link to these lists, the API
filters by them), are read from an index in that order: a page is its first rows, without
passing the loans of everyone else, however many there are."""

import datetime
import json

import pytest
from django.db import connection
from django.utils import timezone

from inventory.loans.models import Door, Loan
from tests.factories import EmployeeFactory, ItemFactory
from tests.inventory.test_lists_read_what_they_show import rows_read

pytestmark = pytest.mark.django_db

PAGE = 10


@pytest.fixture
def year():
    """200 loans over 200 days, one in ten by the rare person, of the rare tool."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://…")
    rare_person, busy_person = EmployeeFactory(), EmployeeFactory()
    rare_tool, busy_tool = ItemFactory(), ItemFactory()
    start = timezone.now() - datetime.timedelta(days=200)
    Loan.objects.bulk_create(
        Loan(
            item=rare_tool if n % 10 == 0 else busy_tool,
            employee=rare_person if n % 10 == 0 else busy_person,
            borrowed_at=start + datetime.timedelta(days=n),
            due_at=start + datetime.timedelta(days=n, hours=8),
            returned_at=start + datetime.timedelta(days=n, hours=2),
            door=Door.KIOSK,
        )
        for n in range(200)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE loans_loan")
    return rare_person, rare_tool


@pytest.mark.parametrize("whose", ["employee", "item"])
def test_a_page_of_someones_loans_newest_first_reads_only_their_loans(year, whose):
    rare_person, rare_tool = year
    page = Loan.objects.filter(**{whose: rare_person if whose == "employee" else rare_tool})
    sql, params = page.order_by("-borrowed_at", "-pk")[:PAGE].query.sql_with_params()

    with connection.cursor() as cursor:
        # A table this small would be read whole or sorted whatever its indexes: with both
        # discouraged, the plan shows whether an index holds these loans in their order.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
        cursor.execute("SET LOCAL enable_sort = on")
        cursor.execute("SET LOCAL enable_seqscan = on")
    plan = json.loads(plan) if isinstance(plan, str) else plan

    # The page, and one row more at most (where the index scan stops); not the 90 loans of
    # everyone else that lie between the rare person's ten.
    assert rows_read(plan[0]["Plan"]) <= PAGE + 1
