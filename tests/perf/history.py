"""A year of history: every admin list and every API list, timed on a real server, printed as one
JSON object.

    python tests/perf/history.py [--requests 9] [--users superuser,manager] [--keep | --reuse NAME]

A fresh PostgreSQL database (named after DATABASE_URL's, with `_live_history`) is migrated and
filled with SQL: 2,000 employees, 3,000 tools with their tags, 4 stations, 1 M loans spread
over the last 365 days (a few tools are far more popular than the rest, a few people borrow far
more than the rest; each tool's loans follow one another, a few hundred are open now and some
of those overdue), the history entries of those loans (about 2 M: borrow, return, cancel,
correction) and the kiosk taps that made them (about 2 M: badge, borrow, return, refused,
repeats, unknown tags). Then a real daphne serves it and each page is asked for `--requests`
times after two warm-ups, by a superuser and by a Manager (the admin over a session, the API
with a JWT), each request followed by one of the admin's index page: the index's median is
the floor the pages are measured against (the same server, users and load, no list).

`--keep` leaves the database behind (for EXPLAIN ANALYZE) and prints its name; `--reuse NAME`
measures a kept one again after migrating it, without building the history anew. The database
is dropped at the end otherwise.
"""

import argparse
import json
import os
import re
import shutil
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
import requests  # noqa: E402

from tests.live_server import LiveServer  # noqa: E402
from tests.perf.kiosk_latency import cpu_seconds  # noqa: E402

EMPLOYEES, TOOLS, STATIONS, LOANS = 2000, 3000, 4, 1_000_000
BIG_TABLES = ["loans_loan", "loans_loanevent", "kiosk_scanevent"]
SCAN_KEY = "kiosk_scanevent_pkey"
TARGET_MS = 150
PASSWORD = "history-bench-pass-123"
TZ = ZoneInfo("Asia/Tokyo")

SURNAMES = (
    "佐藤 鈴木 高橋 田中 伊藤 渡辺 山本 中村 小林 加藤 吉田 山田 佐々木 山口 松本 井上 "
    "木村 林 斎藤 清水"
)
SURNAME_KANA = (
    "さとう すずき たかはし たなか いとう わたなべ やまもと なかむら こばやし かとう よしだ やまだ "
    "ささき やまぐち まつもと いのうえ きむら はやし さいとう しみず"
)
GIVEN = "太郎 花子 一郎 美咲 健太 陽子 大輔 裕子 翔 恵"
GIVEN_KANA = "たろう はなこ いちろう みさき けんた ようこ だいすけ ゆうこ しょう めぐみ"
DEPARTMENTS = "製造一課 製造二課 製造三課 保全課 品質保証課 生産技術課 物流課 試作課"
TOOLS_KINDS = [
    ("トルクレンチ 50N·m", "トルクレンチ"),
    ("トルクレンチ 200N·m", "トルクレンチ"),
    ("ノギス 150mm", "測定具"),
    ("マイクロメーター 0-25mm", "測定具"),
    ("ダイヤルゲージ", "測定具"),
    ("インパクトドライバー", "電動工具"),
    ("電動ドリル", "電動工具"),
    ("グラインダー", "電動工具"),
    ("六角レンチセット", "手工具"),
    ("ラチェットセット", "手工具"),
    ("ニッパー", "手工具"),
    ("圧着ペンチ", "手工具"),
    ("テスター", "電気計測"),
    ("絶縁抵抗計", "電気計測"),
    ("はんだごて", "電気"),
]


def progress(step: str, began: float) -> None:
    print(f"{time.monotonic() - began:6.1f} s  {' '.join(step.split())[:90]}", file=sys.stderr)


def sql_array(words: str) -> str:
    return "ARRAY[" + ",".join(f"'{word}'" for word in words.split()) + "]"


def build_history(url: str, manager_id: int) -> dict:
    """The whole year in one transaction of INSERT … SELECT, then VACUUM ANALYZE (as autovacuum
    would have left a database that ran for a year: statistics and the visibility map)."""
    started = time.monotonic()
    names = "ARRAY[" + ",".join(f"'{name}'" for name, _ in TOOLS_KINDS) + "]"
    categories = "ARRAY[" + ",".join(f"'{category}'" for _, category in TOOLS_KINDS) + "]"
    kinds = len(TOOLS_KINDS)
    steps = [
        "SET synchronous_commit = off",
        "SET work_mem = '256MB'",
        "SET maintenance_work_mem = '512MB'",
        f"""INSERT INTO kiosk_station (name, location, token_hash, token_created_at,
            pairing_code_hash, browser_generation, last_seen_at, reader_connected, reader_name,
            outbox_depth, agent_version, hostname, uptime_seconds, last_uid, created_at,
            enrol_replace, state_version, waiting_items, undo_change, checklist_checks,
            screen_languages)
        SELECT '第' || s || '工具室', s || '号棟 1F', md5('token' || s) || md5('hash' || s),
            now() - interval '400 days', '', 1, now(), true, 'SONY FeliCa RC-S300/P', 0,
            '1.0.0', 'kiosk-' || s, 86400, '', now() - interval '400 days', false, 0, '[]', '',
            '[]', '[]'
        FROM generate_series(1, {STATIONS}) s""",
        f"""INSERT INTO employees_employee (code, name, reading, department, contact, status,
            notes, created_at, updated_at)
        SELECT 'E' || lpad(n::text, 5, '0'),
            ({sql_array(SURNAMES)})[1 + n % 20] || ' ' || ({sql_array(GIVEN)})[1 + (n / 20) % 10],
            ({sql_array(SURNAME_KANA)})[1 + n % 20] || ' '
                || ({sql_array(GIVEN_KANA)})[1 + (n / 20) % 10],
            ({sql_array(DEPARTMENTS)})[1 + n % 8], '内線 ' || (100 + n % 900),
            CASE WHEN n % 50 = 0 THEN 'inactive' WHEN n % 97 = 0 THEN 'suspended'
                ELSE 'active' END,
            '', now() - interval '400 days', now() - interval '400 days'
        FROM generate_series(1, {EMPLOYEES}) n""",
        f"""INSERT INTO items_item (code, name, category, location, status, calibration_due,
            loan_period, notes, created_at, updated_at)
        SELECT 'T' || lpad(n::text, 5, '0'), ({names})[1 + n % {kinds}] || ' #' || n,
            ({categories})[1 + n % {kinds}], 'ラック ' || chr(65 + n % 12) || '-' || (1 + n % 30),
            CASE WHEN n % 101 = 0 THEN 'retired' WHEN n % 67 = 0 THEN 'maintenance'
                ELSE 'available' END,
            CASE WHEN n % 3 = 0 THEN (now() + (n % 400 - 30) * interval '1 day')::date END,
            CASE WHEN n % 10 = 0 THEN interval '4 hours' END,
            '', now() - interval '400 days', now() - interval '400 days'
        FROM generate_series(1, {TOOLS}) n""",
        # A badge for everyone (and a lost, deactivated one for every tenth), a tag per tool.
        """INSERT INTO items_tag (uid, active, note, created_at, deactivated_at, employee_id)
        SELECT '04' || upper(substr(md5('badge' || id), 1, 12)), true, '', created_at, NULL, id
        FROM employees_employee
        UNION ALL
        SELECT '04' || upper(substr(md5('lost' || id), 1, 12)), false, '紛失', created_at,
            now() - (id % 300) * interval '1 day', id
        FROM employees_employee WHERE id % 10 = 0""",
        """INSERT INTO items_tag (uid, active, note, created_at, item_id)
        SELECT 'E0' || upper(substr(md5('tool' || id), 1, 12)), true, '', created_at, id
        FROM items_item""",
        # Which tool and whom each loan is of: a few tools and people far busier than the rest.
        f"""CREATE TEMP TABLE plan AS
        SELECT n,
            (SELECT min(id) FROM items_item) + floor({TOOLS} * power(random(), 1.6))::int
                AS item_id,
            (SELECT min(id) FROM employees_employee)
                + floor({EMPLOYEES} * power(random(), 1.4))::int AS employee_id
        FROM generate_series(1, {LOANS}) n""",
        # A tool's loans follow one another: its year cut in as many slots as it has loans,
        # each loan inside its own slot. The last loan of every seventh tool is still open
        # (every 49th overdue); one loan in 200 was cancelled.
        """CREATE TEMP TABLE slotted AS
        SELECT plan.*, row_number() OVER (PARTITION BY item_id ORDER BY n) AS j,
            count(*) OVER (PARTITION BY item_id) AS k
        FROM plan""",
        """CREATE TEMP TABLE l AS
        SELECT s.n, s.item_id, s.employee_id, t.borrowed_at,
            s.j = s.k AND s.item_id % 7 = 0 AS open, s.item_id % 49 = 0 AS late,
            t.borrowed_at + least(t.slot * (0.1 + 0.4 * random()), interval '3 days') AS back,
            CASE WHEN s.n % 100 < 90 THEN 'kiosk' WHEN s.n % 100 < 93 THEN 'api'
                ELSE 'admin' END AS door,
            CASE WHEN s.n % 25 = 0 THEN 'admin' ELSE 'kiosk' END AS return_door,
            (SELECT min(id) FROM kiosk_station) + s.item_id % 4 AS station_id
        FROM slotted s, LATERAL (
            SELECT now() - interval '365 days'
                    + (s.j - 1 + 0.1 + 0.4 * random()) * (interval '365 days' / s.k)
                    AS borrowed_at,
                interval '365 days' / s.k AS slot) t""",
        f"""CREATE TEMP TABLE loans AS
        SELECT row_number() OVER (ORDER BY borrowed_at, n) AS id, l.*,
            CASE WHEN open AND late THEN borrowed_at + (now() - borrowed_at) / 2
                WHEN open THEN now() + random() * interval '2 days'
                ELSE borrowed_at + interval '8 hours' END AS due_at,
            CASE WHEN NOT open AND n % 200 <> 0 THEN back END AS returned_at,
            CASE WHEN NOT open AND n % 200 = 0 THEN borrowed_at + interval '20 seconds' END
                AS cancelled_at,
            CASE WHEN door <> 'kiosk' THEN {manager_id} END AS borrowed_by_id
        FROM l""",
        f"""INSERT INTO loans_loan (id, item_id, employee_id, borrowed_at, due_at, returned_at,
            cancelled_at, door, borrowed_by_id, closed_by_id, return_condition, note,
            station_id)
        SELECT id, item_id, employee_id, borrowed_at, due_at, returned_at, cancelled_at, door,
            borrowed_by_id,
            CASE WHEN cancelled_at IS NOT NULL OR (returned_at IS NOT NULL
                AND return_door = 'admin') THEN {manager_id} END,
            CASE WHEN returned_at IS NULL THEN '' WHEN n % 500 = 0 THEN 'damaged'
                ELSE 'ok' END,
            '', CASE WHEN door = 'kiosk' THEN station_id END
        FROM loans ORDER BY id""",
        # Without statistics the planner joins the million loans to the tags row by row.
        "ANALYZE loans, items_tag, employees_employee, items_item, kiosk_station",
        "SELECT setval(pg_get_serial_sequence('loans_loan', 'id'), (SELECT max(id) FROM loans))",
        # The history, in the order it was written: borrow, return or cancel, and a correction
        # for one loan in a thousand.
        f"""INSERT INTO loans_loanevent (kind, at, recorded_at, door, username, employee_code,
            employee_name, item_code, item_name, details, loan_id, user_id, station_id,
            station_name)
        SELECT ev.kind, ev.at, ev.at, ev.door,
            CASE WHEN ev.door = 'kiosk' THEN '' ELSE 'manager' END,
            e.code, e.name, i.code, i.name, ev.details::jsonb, ev.loan_id,
            CASE WHEN ev.door = 'kiosk' THEN NULL ELSE {manager_id} END,
            CASE WHEN ev.door = 'kiosk' THEN ev.station_id END,
            CASE WHEN ev.door = 'kiosk' THEN st.name ELSE '' END
        FROM (
            SELECT 'borrow' AS kind, borrowed_at AS at, door, '{{}}' AS details, id AS loan_id,
                station_id, item_id, employee_id FROM loans
            UNION ALL
            SELECT 'return', returned_at, return_door,
                CASE WHEN n % 500 = 0 THEN '{{"condition": "damaged"}}'
                    ELSE '{{"condition": "ok"}}' END,
                id, station_id, item_id, employee_id
            FROM loans WHERE returned_at IS NOT NULL
            UNION ALL
            SELECT 'cancel', cancelled_at, door, '{{"reason": "取り消し(誤タップ)"}}', id,
                station_id, item_id, employee_id
            FROM loans WHERE cancelled_at IS NOT NULL
            UNION ALL
            SELECT 'correction', returned_at + interval '1 day', 'admin',
                '{{"reason": "返却のタップ忘れ"}}', id, station_id, item_id, employee_id
            FROM loans WHERE returned_at IS NOT NULL AND n % 1000 = 0
        ) ev
        JOIN employees_employee e ON e.id = ev.employee_id
        JOIN items_item i ON i.id = ev.item_id
        JOIN kiosk_station st ON st.id = ev.station_id
        ORDER BY ev.at""",
        # The kiosk's taps: the badge that opened a session (one in five borrows), the tool
        # borrowed, the tool returned, and the taps that changed nothing.
        """INSERT INTO kiosk_scanevent (id, uid, read_at_raw, read_at, received_at, status,
            outcome, message, live, employee_id, item_id, loan_id, station_id)
        SELECT gen_random_uuid(), tap.uid, tap.at, tap.at, tap.at + interval '80 ms',
            tap.status, tap.outcome, tap.message, tap.n % 101 <> 0, tap.employee_id,
            tap.item_id, tap.loan_id, tap.station_id
        FROM (
            SELECT b.uid, loans.borrowed_at - interval '4 seconds' AS at, 'applied' AS status,
                'session_started' AS outcome, '' AS message, loans.n,
                loans.employee_id, NULL::bigint AS item_id, NULL::bigint AS loan_id,
                loans.station_id
            FROM loans JOIN items_tag b ON b.employee_id = loans.employee_id AND b.active
            WHERE loans.door = 'kiosk' AND loans.n % 5 = 0
            UNION ALL
            SELECT t.uid, borrowed_at, 'applied', 'borrowed', '', n, loans.employee_id,
                loans.item_id, loans.id, station_id
            FROM loans JOIN items_tag t ON t.item_id = loans.item_id
            WHERE door = 'kiosk'
            UNION ALL
            SELECT t.uid, returned_at, 'applied', 'returned', '', n, loans.employee_id,
                loans.item_id, loans.id, station_id
            FROM loans JOIN items_tag t ON t.item_id = loans.item_id
            WHERE returned_at IS NOT NULL AND return_door = 'kiosk'
            UNION ALL
            SELECT b.uid, borrowed_at - interval '30 seconds', 'rejected', 'refused',
                'この工具は校正期限が切れています。', n, loans.employee_id, NULL, NULL,
                station_id
            FROM loans JOIN items_tag b ON b.employee_id = loans.employee_id AND b.active
            WHERE n % 83 = 0
            UNION ALL
            SELECT t.uid, borrowed_at + interval '1 second', 'applied', 'ignored_repeat', '', n,
                NULL, loans.item_id, NULL, station_id
            FROM loans JOIN items_tag t ON t.item_id = loans.item_id
            WHERE door = 'kiosk' AND n % 97 = 0
            UNION ALL
            SELECT 'DEAD' || upper(substr(md5('unknown' || n % 317), 1, 10)),
                borrowed_at - interval '1 minute', 'applied', 'unknown_tag', '', n,
                NULL, NULL, NULL, station_id
            FROM loans WHERE n % 125 = 0
        ) tap
        ORDER BY tap.at""",
        # What a year of reminders and nightly backups leaves behind.
        """INSERT INTO ops_notification (kind, recipient, day, channel, state, claimed_at,
            sent_at, subject, error)
        SELECT 'overdue_digest', employee_id::text, (due_at AT TIME ZONE 'Asia/Tokyo')::date + 1,
            'email', 'sent', due_at + interval '15 hours', due_at + interval '15 hours',
            '返却期限を過ぎた工具があります', ''
        FROM loans WHERE returned_at > due_at + interval '12 hours'
        ON CONFLICT DO NOTHING""",
        """INSERT INTO ops_backuprun (trigger, started_at, finished_at, succeeded, path,
            size_bytes, error)
        SELECT 'scheduled', d, d + interval '40 seconds', true,
            '/var/backups/toolcrib-' || to_char(d, 'YYYYMMDD') || '.tar.gz', 250000000, ''
        FROM generate_series(now() - interval '365 days', now(), interval '1 day') d""",
    ]
    counts = {}
    with psycopg.connect(url) as conn:
        # The rows are consistent by construction: loading them without checking every foreign
        # key row by row, and building the big tables' indexes once at the end, is what brings
        # the build under two minutes.
        conn.execute("SET session_replication_role = replica")
        indexes = conn.execute(
            """SELECT indexname, indexdef FROM pg_indexes
            WHERE tablename = ANY(%s)
                AND indexname NOT IN (SELECT conname FROM pg_constraint)""",
            [BIG_TABLES],
        ).fetchall()
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        # Nothing points at a scan, and its key is the agent's random UUID: one index built at
        # the end rather than two million inserts at random places in it.
        (scan_key,) = conn.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = %s",
            [SCAN_KEY],
        ).fetchone()
        conn.execute(f"ALTER TABLE kiosk_scanevent DROP CONSTRAINT {SCAN_KEY}")
        for step in steps:
            began = time.monotonic()
            conn.execute(step)
            progress(step, began)
        conn.execute(f"ALTER TABLE kiosk_scanevent ADD CONSTRAINT {SCAN_KEY} {scan_key}")
        for _, definition in indexes:
            began = time.monotonic()
            conn.execute(definition)
            progress(definition, began)
        conn.commit()
        conn.autocommit = True
        began = time.monotonic()
        conn.execute("VACUUM ANALYZE")
        progress("VACUUM ANALYZE", began)
        for name, table, where in [
            ("employees", "employees_employee", ""),
            ("tools", "items_item", ""),
            ("tags", "items_tag", ""),
            ("loans", "loans_loan", ""),
            ("open_loans", "loans_loan", "WHERE returned_at IS NULL AND cancelled_at IS NULL"),
            (
                "overdue_loans",
                "loans_loan",
                "WHERE returned_at IS NULL AND cancelled_at IS NULL AND due_at < now()",
            ),
            ("loan_events", "loans_loanevent", ""),
            ("scan_events", "kiosk_scanevent", ""),
            ("notifications", "ops_notification", ""),
        ]:
            counts[name] = conn.execute(f"SELECT count(*) FROM {table} {where}").fetchone()[0]
    counts["build_seconds"] = round(time.monotonic() - started, 1)
    return counts


def create_users(server: LiveServer) -> None:
    server.manage(
        "shell",
        "-c",
        "from django.contrib.auth.models import Group, User\n"
        f"User.objects.create_superuser('superuser', 'su@example.com', '{PASSWORD}')\n"
        f"manager = User.objects.create_user('manager', password='{PASSWORD}', is_staff=True)\n"
        "manager.groups.add(Group.objects.get(name='Managers'))\n",
    )


def samples_of(url: str) -> dict:
    """Values the pages are asked with: a person, a tool, their tag UIDs, a loan, a busy month."""
    with psycopg.connect(url) as conn:

        def one(sql):
            return conn.execute(sql).fetchone()

        # A busy person and a busy tool (their pages hold hundreds of loans).
        employee_id, employee_code, employee_name = one(
            "SELECT e.id, e.code, e.name FROM employees_employee e "
            "JOIN loans_loan l ON l.employee_id = e.id GROUP BY e.id ORDER BY count(*) DESC "
            "LIMIT 1 OFFSET 10"
        )
        item_id, item_code = one(
            "SELECT i.id, i.code FROM items_item i JOIN loans_loan l ON l.item_id = i.id "
            "GROUP BY i.id ORDER BY count(*) DESC LIMIT 1 OFFSET 10"
        )
        (rare_item_code,) = one(
            "SELECT i.code FROM items_item i JOIN loans_loan l ON l.item_id = i.id "
            "GROUP BY i.id ORDER BY count(*) LIMIT 1 OFFSET 10"
        )
        (badge,) = one(f"SELECT uid FROM items_tag WHERE employee_id = {employee_id} AND active")
        (tool_tag,) = one(f"SELECT uid FROM items_tag WHERE item_id = {item_id} AND active")
        (loan_id,) = one(f"SELECT max(id) FROM loans_loan WHERE item_id = {item_id}")
        (station_id,) = one("SELECT min(id) FROM kiosk_station")
    month = datetime.now(TZ).replace(day=1) - timedelta(days=60)
    return {
        "employee_id": employee_id,
        "employee_code": employee_code,
        "surname": employee_name.split()[0],
        "item_id": item_id,
        "item_code": item_code,
        "rare_item_code": rare_item_code,
        "badge": badge,
        "badge_spelled": ":".join(badge[i : i + 2] for i in range(0, len(badge), 2)).lower(),
        "tool_tag": tool_tag,
        "loan_id": loan_id,
        "station_id": station_id,
        "year": month.year,
        "month": month.month,
        "day": 15,
        "from": (month.date()).isoformat(),
        "to": (month.date() + timedelta(days=6)).isoformat(),
    }


def admin_pages(s: dict) -> dict[str, str]:
    def month(field):
        return f"{field}__year={s['year']}&{field}__month={s['month']}"

    first = datetime.now(TZ).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    this_month = urlencode({"borrowed_at__gte": str(first)})
    return {
        "employees": "/admin/employees/employee/",
        "employees: search code": f"/admin/employees/employee/?q={s['employee_code']}",
        "employees: search name": f"/admin/employees/employee/?q={s['surname']}",
        "employees: search badge UID": f"/admin/employees/employee/?q={s['badge_spelled']}",
        "employees: status filter": "/admin/employees/employee/?status__exact=active",
        "employees: sorted by tools held": "/admin/employees/employee/?o=-{holding}",
        "employee page": f"/admin/employees/employee/{s['employee_id']}/change/",
        "tools": "/admin/items/item/",
        "tools: on loan": "/admin/items/item/?on_loan=yes",
        "tools: search code": f"/admin/items/item/?q={s['item_code']}",
        "tools: search tag UID": f"/admin/items/item/?q={s['tool_tag']}",
        "tools: sorted by holder": "/admin/items/item/?o={on_loan_to}",
        "tool page": f"/admin/items/item/{s['item_id']}/change/",
        "tags": "/admin/items/tag/",
        "tags: search UID": f"/admin/items/tag/?q={s['badge']}",
        "loans": "/admin/loans/loan/",
        "loans: open": "/admin/loans/loan/?state=open",
        "loans: overdue": "/admin/loans/loan/?state=overdue",
        "loans: returned": "/admin/loans/loan/?state=returned",
        "loans: cancelled": "/admin/loans/loan/?state=cancelled",
        "loans: through the API": "/admin/loans/loan/?door__exact=api",
        "loans: borrowed this month": f"/admin/loans/loan/?{this_month}",
        "loans: year": f"/admin/loans/loan/?borrowed_at__year={s['year']}",
        "loans: month": f"/admin/loans/loan/?{month('borrowed_at')}",
        "loans: day": f"/admin/loans/loan/?{month('borrowed_at')}&borrowed_at__day={s['day']}",
        "loans: search code": f"/admin/loans/loan/?q={s['employee_code']}",
        "loans: search name": f"/admin/loans/loan/?q={s['surname']}",
        "loans: search tag UID": f"/admin/loans/loan/?q={s['tool_tag']}",
        "loans: of a person": f"/admin/loans/loan/?employee__id__exact={s['employee_id']}",
        "loans: of a tool": f"/admin/loans/loan/?item__id__exact={s['item_id']}",
        "loans: oldest first": "/admin/loans/loan/?o={borrowed_at}",
        "loans: page 50": "/admin/loans/loan/?p=50",
        "loan page": f"/admin/loans/loan/{s['loan_id']}/change/",
        "history": "/admin/loans/loanevent/",
        "history: corrections": "/admin/loans/loanevent/?kind__exact=correction",
        "history: returns": "/admin/loans/loanevent/?kind__exact=return",
        "history: through the API": "/admin/loans/loanevent/?door__exact=api",
        "history: year": f"/admin/loans/loanevent/?at__year={s['year']}",
        "history: month": f"/admin/loans/loanevent/?{month('at')}",
        "history: search code": f"/admin/loans/loanevent/?q={s['item_code']}",
        "history: search a rarely used tool": f"/admin/loans/loanevent/?q={s['rare_item_code']}",
        "history: search name": f"/admin/loans/loanevent/?q={s['surname']}",
        "scans": "/admin/kiosk/scanevent/",
        "scans: one station": f"/admin/kiosk/scanevent/?station__id__exact={s['station_id']}",
        "scans: unknown tags": "/admin/kiosk/scanevent/?outcome__exact=unknown_tag",
        "scans: rejected": "/admin/kiosk/scanevent/?status__exact=rejected",
        "scans: replayed": "/admin/kiosk/scanevent/?live__exact=0",
        "scans: month": f"/admin/kiosk/scanevent/?{month('read_at')}",
        "scans: search UID": f"/admin/kiosk/scanevent/?q={s['tool_tag']}",
        "unknown tags inbox": "/admin/kiosk/unknowntag/",
        "stations": "/admin/kiosk/station/",
        "overdue": "/admin/loans/loan/overdue/",
        "dashboard": "/admin/dashboard/",
        "notifications": "/admin/ops/notification/",
        "backups": "/admin/ops/backuprun/",
        "scheduled jobs": "/admin/ops/periodicrun/",
        "station alerts": "/admin/ops/stationalert/",
        "users": "/admin/auth/user/",
    }


def api_pages(s: dict) -> dict[str, str]:
    days = f"from={s['from']}&to={s['to']}"
    return {
        "employees": "/api/v1/employees/",
        "employees: search": f"/api/v1/employees/?search={s['surname']}",
        "employees: status": "/api/v1/employees/?status=active",
        "items": "/api/v1/items/",
        "items: on loan": "/api/v1/items/?on_loan=true",
        "items: search": f"/api/v1/items/?search={s['item_code']}",
        "tags": "/api/v1/tags/",
        "tags: by UID": f"/api/v1/tags/?uid={s['badge_spelled']}",
        "loans": "/api/v1/loans/",
        "loans: open": "/api/v1/loans/?open=true",
        "loans: closed": "/api/v1/loans/?open=false",
        "loans: overdue": "/api/v1/loans/?overdue=true",
        "loans: of a person": f"/api/v1/loans/?employee={s['employee_code']}",
        "loans: of a tool": f"/api/v1/loans/?item={s['item_code']}",
        "loans: at a station": f"/api/v1/loans/?station={s['station_id']}",
        "loans: a week": f"/api/v1/loans/?{days}",
        "loans: search": f"/api/v1/loans/?search={s['surname']}",
        "loans: page 100": "/api/v1/loans/?page=100",
        "history": "/api/v1/history/",
        "history: returns": "/api/v1/history/?kind=return",
        "history: of a person": f"/api/v1/history/?employee={s['employee_code']}",
        "history: of a tool": f"/api/v1/history/?item={s['item_code']}",
        "history: of a loan": f"/api/v1/history/?loan={s['loan_id']}",
        "history: at a station": f"/api/v1/history/?station={s['station_id']}",
        "history: a week": f"/api/v1/history/?{days}",
        "history: search": f"/api/v1/history/?search={s['surname']}",
        "history: search a tool": f"/api/v1/history/?search={s['item_code']}",
        "overdue": "/api/v1/overdue/",
        "stations": "/api/v1/stations/",
    }


# What a Manager may not open (scans are the superuser's; users are not theirs to list).
SUPERUSER_ONLY = re.compile(r"^(scans|users|backups|scheduled jobs|station alerts|notifications)")


def sorted_by_column(session: requests.Session, base: str, path: str) -> str:
    """`path` with its `o={column}` made the column's number in the list's own sort links (the
    admin sorts by the position of a column, which moves when columns are added)."""
    column = re.search(r"o=-?\{(\w+)\}", path)
    if not column:
        return path
    page = session.get(base + path.split("?")[0]).text
    header = re.search(rf'<th[^>]*column-{column.group(1)}[^>]*>.*?href="\?o=(\d+)', page, re.S)
    return path.replace("{" + column.group(1) + "}", header.group(1))


def admin_session(base: str, username: str) -> requests.Session:
    session = requests.Session()
    session.headers["Accept-Language"] = "ja"
    page = session.get(f"{base}/admin/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    answer = session.post(
        f"{base}/admin/login/?next=/admin/",
        data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token},
        headers={"Referer": f"{base}/admin/login/"},
        allow_redirects=False,
    )
    if answer.status_code != 302:
        raise RuntimeError(f"{username} could not log in to the admin")
    return session


def api_session(base: str, username: str) -> requests.Session:
    session = requests.Session()
    answer = session.post(
        f"{base}/api/v1/auth/token/", json={"username": username, "password": PASSWORD}
    )
    answer.raise_for_status()
    session.headers["Authorization"] = f"Bearer {answer.json()['access']}"
    return session


def timed(session: requests.Session, url: str) -> float:
    started = time.perf_counter()
    # A redirect (to a login or second-factor page) is a failure, not a page that was measured.
    answer = session.get(url, allow_redirects=False)
    elapsed = (time.perf_counter() - started) * 1000
    if answer.status_code != 200:
        raise RuntimeError(f"GET {url}: {answer.status_code}\n{answer.text[:2000]}")
    return elapsed


def measure(server: LiveServer, users: list[str], requests_per_page: int, only: str | None) -> dict:
    """Each page: two warm-ups, then `requests_per_page` timed requests, then as many of the
    admin's index (the floor, under the load of the moment). Besides the median time, the
    daphne process's CPU per request: on a machine that others share, the time a request
    waits for a core is not its own work."""
    base, daphne = server.url, server.processes[0].pid
    pages = {
        **{f"admin {name}": path for name, path in admin_pages(SAMPLES).items()},
        **{f"api {name}": path for name, path in api_pages(SAMPLES).items()},
    }
    if only:
        pages = {name: path for name, path in pages.items() if re.search(only, name)}

    def run(session, url):
        cpu = cpu_seconds(daphne)
        samples = [timed(session, url) for _ in range(requests_per_page)]
        return samples, (cpu_seconds(daphne) - cpu) * 1000 / requests_per_page

    out: dict = {"pages": {}, "floor_admin_index": {}}
    for user in users:
        admin, api = admin_session(base, user), api_session(base, user)
        index, index_cpu = [], []
        for name, path in pages.items():
            kind, _, page = name.partition(" ")
            if user != "superuser" and kind == "admin" and SUPERUSER_ONLY.match(page):
                continue
            session = admin if kind == "admin" else api
            path = sorted_by_column(session, base, path)
            for _ in range(2):
                timed(session, base + path)
            samples, cpu = run(session, base + path)
            floor, floor_cpu = run(admin, f"{base}/admin/")
            index += floor
            index_cpu.append(floor_cpu)
            out["pages"].setdefault(name, {})[user] = {
                "ms": round(statistics.median(samples), 1),
                "cpu_ms": round(cpu, 1),
            }
        out["floor_admin_index"][user] = {
            "ms": round(statistics.median(index), 1),
            "cpu_ms": round(statistics.median(index_cpu), 1),
        }
    slowest = {name: max(row[user]["ms"] for user in row) for name, row in out["pages"].items()}
    out["over_target"] = {name: ms for name, ms in slowest.items() if ms > TARGET_MS}
    floor = max(row["ms"] for row in out["floor_admin_index"].values())
    out["slowest_over_floor"] = [
        [name, round(ms / floor, 1)]
        for name, ms in sorted(slowest.items(), key=lambda pair: -pair[1])[:10]
    ]
    return out


SAMPLES: dict = {}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=9, help="timed requests per page")
    parser.add_argument("--users", default="superuser,manager")
    parser.add_argument("--only", help="a regular expression: measure only the pages it finds")
    keep = parser.add_mutually_exclusive_group()
    keep.add_argument("--keep", action="store_true", help="leave the database for profiling")
    keep.add_argument("--reuse", metavar="NAME", help="measure a database left by --keep")
    args = parser.parse_args()
    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/toolcrib_bench")
    if not os.environ["DATABASE_URL"].startswith("postgres"):
        parser.error("DATABASE_URL must point at PostgreSQL")
    # The lists are measured, not the login: without a second factor, as a session that has
    # passed it would be (the admin asks for one when MFA_REQUIRED, which DEBUG=0 turns on).
    server = LiveServer("history", env={"MFA_REQUIRED": "0"})
    if args.reuse:
        parts = urlsplit(server.env["DATABASE_URL"])
        server.env["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{args.reuse}"))
        server.manage("migrate", "--noinput", "-v0")
        history = {"reused": args.reuse}
    else:
        server.setup()
        create_users(server)
        with psycopg.connect(server.env["DATABASE_URL"]) as conn:
            (manager_id,) = conn.execute(
                "SELECT id FROM auth_user WHERE username = 'manager'"
            ).fetchone()
        history = build_history(server.env["DATABASE_URL"], manager_id)
    SAMPLES.update(samples_of(server.env["DATABASE_URL"]))
    result = {"cpu_count": os.cpu_count(), "database": "postgresql", "history": history}
    server.start()
    try:
        result["requests_per_page"] = args.requests
        result["target_ms"] = TARGET_MS
        result.update(measure(server, args.users.split(","), args.requests, args.only))
    finally:
        if args.keep or args.reuse:
            server.stop()
            shutil.rmtree(server.var, ignore_errors=True)
            result["database_kept"] = urlsplit(server.env["DATABASE_URL"]).path.strip("/")
        else:
            server.remove()
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
