"""No admin or API list reads the history (loans, history entries, taps) to show one page of it:
a year of history is millions of rows, and a list that reads them all takes seconds.

Each page is asked for over a small history (3,000 loans, 6,000 entries and taps), and every
statement it made is run again under EXPLAIN ANALYZE with sequential scans discouraged: the
rows read from the three tables must stay far below their size. Counting every row, a filter
or a search that no index serves, or a subquery per row over all loans all read thousands.
(Timings belong to tests/perf/history.py; this is what they come from.)
"""

import json

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory.core.paging import CappedCountPaginator

LOANS = 3000
HISTORY = {"loans_loan", "loans_loanevent", "kiosk_scanevent"}
# Fewer than this of the history's rows read by any one statement (the tables hold 3,000 to
# 6,000). An admin list shows 50 rows, an API list 50, and each counts up to its cap, set to
# 300 here.
MOST_ROWS_READ = 600

ADMIN_PAGES = [
    "/admin/employees/employee/",
    "/admin/employees/employee/?o=-6",
    "/admin/items/item/",
    "/admin/items/item/?on_loan=yes",
    "/admin/loans/loan/",
    "/admin/loans/loan/?state=open",
    "/admin/loans/loan/?state=overdue",
    "/admin/loans/loan/?state=returned",
    "/admin/loans/loan/?state=cancelled",
    "/admin/loans/loan/?door__exact=api",
    "/admin/loans/loan/?q=E0061",
    "/admin/loans/loan/?q=T0061",
    "/admin/loans/loan/?o=4",
    "/admin/loans/loanevent/",
    "/admin/loans/loanevent/?kind__exact=correction",
    "/admin/loans/loanevent/?door__exact=admin",
    "/admin/loans/loanevent/?q=T0061",
    "/admin/loans/loanevent/?q=%E4%BD%90%E8%97%A4",
    "/admin/kiosk/scanevent/",
    "/admin/kiosk/scanevent/?outcome__exact=unknown_tag",
    "/admin/kiosk/scanevent/?status__exact=rejected",
    "/admin/kiosk/scanevent/?live__exact=0",
    "/admin/kiosk/scanevent/?q=DEADBEEF0007",
    "/admin/kiosk/scanevent/?q=T0061",
    "/admin/kiosk/unknowntag/",
    "/admin/loans/loan/overdue/",
    "/admin/dashboard/",
]
API_PAGES = [
    "/api/v1/loans/",
    "/api/v1/loans/?open=false",
    "/api/v1/loans/?search=E0061",
    "/api/v1/history/",
    "/api/v1/history/?employee=e0061",
    "/api/v1/history/?item=T0061",
    "/api/v1/history/?search=T0061",
    "/api/v1/history/?search=%E4%BD%90%E8%97%A4",
    "/api/v1/overdue/",
]


@pytest.fixture
def history(db, monkeypatch):
    """A history of LOANS loans over 300 days: each tool's loans one after the other, a few
    open and overdue, some cancelled or lent through the API or the admin; a borrow and a return
    entry per loan (and a few corrections); a borrow and a return tap per kiosk loan, and some
    refused, replayed and unknown taps."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://…")
    monkeypatch.setattr(CappedCountPaginator, "cap", 300)
    with connection.cursor() as cursor:
        for statement in HISTORY_SQL:
            cursor.execute(statement.replace("LOANS", str(LOANS)))
        cursor.execute("ANALYZE")


HISTORY_SQL = [
    """INSERT INTO kiosk_station (name, location, token_hash, token_created_at,
        pairing_code_hash, browser_generation, reader_name, agent_version, hostname, last_uid,
        created_at, enrol_replace, state_version, waiting_items, undo_change, checklist_checks,
        screen_languages)
    SELECT 'station ' || s, '', md5('s' || s), now(), '', 1, '', '', '', '', now(), false, 0,
        '[]', '', '[]', '[]'
    FROM generate_series(1, 2) s""",
    """INSERT INTO employees_employee (code, name, reading, department, contact, status, notes,
        created_at, updated_at)
    SELECT 'E' || lpad(n::text, 4, '0'), (ARRAY['佐藤', '鈴木', '高橋'])[1 + n % 3] || ' ' || n,
        '', '', '', 'active', '', now(), now()
    FROM generate_series(1, 61) n""",
    """INSERT INTO items_item (code, name, category, location, status, notes, created_at,
        updated_at)
    SELECT 'T' || lpad(n::text, 4, '0'), 'tool ' || n, '', '', 'available', '', now(), now()
    FROM generate_series(1, 61) n""",
    """INSERT INTO items_tag (uid, active, note, created_at, employee_id)
    SELECT '04' || upper(substr(md5('b' || id), 1, 12)), true, '', now(), id
    FROM employees_employee""",
    """INSERT INTO items_tag (uid, active, note, created_at, item_id)
    SELECT '1D' || upper(substr(md5('t' || id), 1, 12)), true, '', now(), id FROM items_item""",
    # Loan n is of tool n % 60, in its turn, every 6 days: 50 loans per tool, the last ten (of
    # ten tools) still open, three of those overdue. Every 300th loan is of the 61st tool and
    # by the 61st person, who borrow rarely: what a search finds among the history's indexes.
    """CREATE TEMP TABLE planned ON COMMIT DROP AS
    SELECT n,
        (SELECT min(id) FROM items_item) + CASE WHEN n % 300 = 0 THEN 60 ELSE n % 60 END
            AS item_id,
        (SELECT min(id) FROM employees_employee)
            + CASE WHEN n % 300 = 0 THEN 60 ELSE (n * 7) % 60 END AS employee_id,
        (SELECT min(id) FROM kiosk_station) + n % 2 AS station_id,
        now() - (LOANS - n) * interval '144 minutes' - interval '1 hour' AS borrowed_at,
        n > LOANS - 10 AS open, n > LOANS - 3 AS late,
        CASE WHEN n % 40 = 0 THEN 'api' WHEN n % 41 = 0 THEN 'admin' ELSE 'kiosk' END AS door
    FROM generate_series(1, LOANS) n""",
    """INSERT INTO loans_loan (id, item_id, employee_id, borrowed_at, due_at, returned_at,
        cancelled_at, door, return_condition, note, station_id)
    SELECT n, item_id, employee_id, borrowed_at,
        CASE WHEN late THEN borrowed_at + interval '10 minutes'
            ELSE borrowed_at + interval '1 day' END,
        CASE WHEN NOT open AND n % 97 <> 0 THEN borrowed_at + interval '2 hours' END,
        CASE WHEN NOT open AND n % 97 = 0 THEN borrowed_at + interval '1 minute' END,
        door, '', '', station_id
    FROM planned""",
    """INSERT INTO loans_loanevent (kind, at, recorded_at, door, username, employee_code,
        employee_name, item_code, item_name, details, loan_id, station_id, station_name)
    SELECT kind, at, at, l.door, '', e.code, e.name, i.code, i.name, '{}', l.id, l.station_id, ''
    FROM loans_loan l
    JOIN employees_employee e ON e.id = l.employee_id
    JOIN items_item i ON i.id = l.item_id,
    LATERAL (VALUES ('borrow', l.borrowed_at), ('return', l.returned_at),
        ('cancel', l.cancelled_at),
        ('correction', CASE WHEN l.id % 500 = 0 THEN l.returned_at END)) AS what(kind, at)
    WHERE at IS NOT NULL
    ORDER BY at""",
    """INSERT INTO kiosk_scanevent (id, uid, read_at_raw, read_at, received_at, status,
        outcome, message, live, employee_id, item_id, loan_id, station_id)
    SELECT gen_random_uuid(), t.uid, at, at, at, status, outcome, '', l.id % 83 <> 0,
        CASE WHEN outcome = 'unknown_tag' THEN NULL ELSE l.employee_id END,
        CASE WHEN outcome = 'unknown_tag' THEN NULL ELSE l.item_id END,
        CASE WHEN outcome IN ('borrowed', 'returned') THEN l.id END, l.station_id
    FROM loans_loan l
    JOIN items_tag t ON t.item_id = l.item_id,
    LATERAL (VALUES ('applied', 'borrowed', l.borrowed_at),
        ('applied', 'returned', l.returned_at),
        ('rejected', 'refused', CASE WHEN l.id % 61 = 0 THEN l.borrowed_at END),
        ('applied', 'unknown_tag', CASE WHEN l.id % 71 = 0 THEN l.borrowed_at END))
        AS what(status, outcome, at)
    WHERE l.door = 'kiosk' AND at IS NOT NULL
    ORDER BY at""",
    """UPDATE kiosk_scanevent
    SET uid = 'DEADBEEF' || lpad((abs(hashtext(id::text)) % 10)::text, 4, '0')
    WHERE outcome = 'unknown_tag'""",
]


@pytest.fixture
def superuser(client):
    user = User.objects.create_superuser("boss", "boss@example.com", "boss-pass-1")
    client.force_login(user)
    return user


@pytest.fixture
def manager_api(api):
    user = User.objects.create_user("manager", password="manager-pass-123")
    user.groups.add(Group.objects.get(name="Managers"))
    return api.as_user(user)


def test_no_admin_list_reads_the_history_to_show_a_page_of_it(history, superuser, client):
    assert [reading for path in ADMIN_PAGES for reading in too_much_read(client, path)] == []


def test_no_api_list_reads_the_history_to_show_a_page_of_it(history, manager_api):
    assert [reading for path in API_PAGES for reading in too_much_read(manager_api, path)] == []


def too_much_read(client, path) -> list[str]:
    """The statements answering `path` that read MOST_ROWS_READ rows of the history or more."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200, path
    found = []
    with connection.cursor() as cursor:
        # What an index can answer is answered from it: a table small enough to read whole
        # would otherwise be read whole whatever the indexes, which says nothing of a year.
        cursor.execute("SET LOCAL enable_seqscan = off")
        for query in queries.captured_queries:
            if query["sql"].lstrip().upper().startswith("SELECT"):
                cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {query['sql']}")
                plan = cursor.fetchone()[0]
                plan = json.loads(plan) if isinstance(plan, str) else plan
                read = rows_read(plan[0]["Plan"])
                if read >= MOST_ROWS_READ:
                    found.append(f"{path}: {read} rows read by {query['sql']}")
        cursor.execute("SET LOCAL enable_seqscan = on")
    return found


def rows_read(node: dict) -> int:
    """Rows of the history tables that the plan's scans returned or threw away, every loop."""
    here = 0
    if node.get("Relation Name") in HISTORY:
        kept = node.get("Actual Rows", 0)
        thrown = sum(
            node.get(key, 0) for key in ("Rows Removed by Filter", "Rows Removed by Index Recheck")
        )
        here = (kept + thrown) * node.get("Actual Loops", 1)
    return here + sum(rows_read(child) for child in node.get("Plans", []))
