"""Row count and content checksum of every table, read through a plain DB-API connection.

The same function reads the live database, a snapshot being dumped, a restored copy and a
scratch database, so an archive's manifest can be compared with any of them. The checksum is the
sum of the rows' SHA-256 digests modulo 2**256: independent of row order, so it needs no ORDER BY
(cheap on a Pi) and does not depend on the server's collation. Tampering with the archive is
caught by the file checksums; this one proves that what came back is what went in.
"""

import datetime
import hashlib
import json

from django.utils.translation import gettext as _

_MODULO = 2**256


def table_stats(conn, vendor: str) -> dict[str, dict]:
    """{table: {"rows": n, "sha256": hex}} for every table of the schema."""
    cursor = conn.cursor()
    try:
        return {table: _table(cursor, table) for table in _tables(cursor, vendor)}
    finally:
        cursor.close()


def empty() -> dict:
    """The stats of a table without rows."""
    return {"rows": 0, "sha256": "0" * 64}


def applied_migrations(conn) -> list[list[str]]:
    cursor = conn.cursor()
    try:
        cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
        return [[app, name] for app, name in cursor.fetchall()]
    finally:
        cursor.close()


def differences(expected: dict, actual: dict) -> list[str]:
    """What differs between two table_stats results, as short sentences."""
    problems = []
    for table in sorted(set(expected) | set(actual)):
        want, got = expected.get(table), actual.get(table)
        if want is None:
            problems.append(_("%(table)s: not in the archive") % {"table": table})
        elif got is None:
            problems.append(_("%(table)s: missing") % {"table": table})
        elif want["rows"] != got["rows"]:
            problems.append(
                _("%(table)s: %(rows)d rows, expected %(expected)d")
                % {"table": table, "rows": got["rows"], "expected": want["rows"]}
            )
        elif want.get("sha256") and got.get("sha256") and want["sha256"] != got["sha256"]:
            problems.append(_("%(table)s: content differs") % {"table": table})
    return problems


def _tables(cursor, vendor: str) -> list[str]:
    if vendor == "sqlite":
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name"
        )
    else:
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
        )
    return [name for (name,) in cursor.fetchall()]


def _table(cursor, table: str) -> dict:
    quoted = '"' + table.replace('"', '""') + '"'
    cursor.execute(f"SELECT * FROM {quoted}")  # the name comes from the catalogue
    rows = total = 0
    while batch := cursor.fetchmany(2000):
        for row in batch:
            line = json.dumps([_canonical(value) for value in row], ensure_ascii=False)
            total += int.from_bytes(hashlib.sha256(line.encode()).digest(), "big")
            rows += 1
    return {"rows": rows, "sha256": f"{total % _MODULO:064x}"}


def _canonical(value):
    """One spelling per value, whatever the driver or the connection's time zone."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    if isinstance(value, bytes | memoryview | bytearray):
        return bytes(value).hex()
    return str(value)  # Decimal, UUID, date, time, timedelta
