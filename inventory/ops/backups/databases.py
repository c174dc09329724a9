"""Dumping and restoring the two databases we run on, each in the way that is safe for it.

Both expose the same three steps: `dump` (a consistent copy plus the stats of exactly that
copy), `restore` (all or nothing: a failure midway leaves the previous data in place) and
`drill` (restore into a scratch database, never the live one, and return its stats).
"""

import os
import re
import secrets
import sqlite3
import subprocess
import urllib.parse
from collections.abc import Callable
from pathlib import Path

from django.utils.translation import gettext as _

from inventory.ops.backups import stats as dbstats


class DatabaseError(Exception):
    """A dump or restore that failed; the message says why and what to do."""


Progress = Callable[[str], None]


def for_connection(connection):
    if connection.vendor == "sqlite":
        return Sqlite(connection)
    if connection.vendor == "postgresql":
        return Postgres(connection)
    raise DatabaseError(
        _("Backups support SQLite and PostgreSQL, not %(vendor)s.") % {"vendor": connection.vendor}
    )


class Sqlite:
    vendor = "sqlite"
    filename = "database.sqlite3"
    # The restore copies this many pages per step; between steps other connections may read.
    pages_per_step = 1024

    def __init__(self, connection):
        self.connection = connection

    def server_version(self) -> str:
        return sqlite3.sqlite_version

    def dump(self, dest: Path, progress: Progress, *, without: list[str] = ()) -> tuple[dict, list]:
        # The online backup API copies a consistent snapshot while daphne keeps writing. All pages
        # in one step: copying in steps restarts whenever another process writes in between.
        live, target = self._open_live(), sqlite3.connect(dest)
        try:
            live.backup(target)
            # The copy's rows of these tables go; secure_delete zeroes them in the file too.
            target.execute("PRAGMA secure_delete = ON")
            present = {n for (n,) in target.execute("SELECT name FROM sqlite_master")}
            for table in reversed(without):
                if table in present:
                    target.execute(f'DELETE FROM "{table}"')  # a model's db_table
            target.commit()
            progress(_("Counting rows…"))
            return dbstats.table_stats(target, self.vendor), dbstats.applied_migrations(target)
        except sqlite3.Error as error:  # a full disk, a locked or damaged file
            raise DatabaseError(_("The backup stopped: %(error)s") % {"error": error}) from None
        finally:
            live.close()
            target.close()

    def restore(self, source: Path, expected: dict, progress: Progress) -> None:
        """Check the new file completely first, then copy it into the live database with the
        backup API. The copy is one write transaction on the live database: other connections
        (daphne's) see the old data until it commits and the new data after, and an error
        midway rolls it back. Replacing the file by rename would be unsafe here: a running
        server keeps the old inode open and its -wal file would be replayed onto the new one."""
        progress(_("Checking the restored database before switching to it…"))
        candidate = sqlite3.connect(_uri(source, readonly=True), uri=True)
        try:
            self._check(candidate, expected)
            progress(_("Switching the live database to the restored copy…"))
            live = self._open_live()
            try:
                candidate.backup(live, pages=self.pages_per_step, progress=self._copied)
            finally:
                live.close()
        except (sqlite3.Error, OSError) as error:
            raise DatabaseError(_("The restore stopped: %(error)s") % {"error": error}) from None
        finally:
            candidate.close()

    def _copied(self, status, remaining, total) -> None:
        """Called by SQLite between chunks of the copy: a seam where a test makes the copy fail
        midway (raising here aborts it, as a full disk or a killed process would)."""

    def drill(self, source: Path, workdir: Path, progress: Progress) -> dict:
        scratch = workdir / "drill.sqlite3"
        progress(_("Restoring into a scratch database (%(name)s)…") % {"name": scratch})
        original, copy = (
            sqlite3.connect(_uri(source, readonly=True), uri=True),
            sqlite3.connect(scratch),
        )
        try:
            original.backup(copy)
            (result,) = copy.execute("PRAGMA integrity_check").fetchone()
            if result != "ok":
                raise DatabaseError(
                    _("The restored database is corrupt: %(result)s") % {"result": result}
                )
            return dbstats.table_stats(copy, self.vendor)
        except sqlite3.Error as error:  # not a database at all: SQLite cannot even read it
            raise DatabaseError(
                _("The restored database is corrupt: %(result)s") % {"result": error}
            ) from None
        finally:
            original.close()
            copy.close()

    def live_stats(self) -> dict:
        live = self._open_live()
        try:
            return dbstats.table_stats(live, self.vendor)
        finally:
            live.close()

    def _open_live(self):
        """A plain connection to the live database: Django's own converts values on read
        (dates, decimals), which would make its checksums differ from the archive's. The name
        may already be a URI (the test runner's shared in-memory database)."""
        name = str(self.connection.settings_dict["NAME"])
        return sqlite3.connect(
            name if name.startswith("file:") else _uri(name), uri=True, timeout=60
        )

    def _check(self, candidate, expected: dict) -> None:
        (result,) = candidate.execute("PRAGMA integrity_check").fetchone()
        if result != "ok":
            raise DatabaseError(
                _("The archived database is corrupt: %(result)s") % {"result": result}
            )
        problems = dbstats.differences(expected, dbstats.table_stats(candidate, self.vendor))
        if problems:
            raise DatabaseError(
                _("The archived database does not match its manifest: %(problems)s")
                % {"problems": "; ".join(problems)}
            )


def _uri(path, *, readonly=False) -> str:
    return f"file:{urllib.parse.quote(str(path))}" + ("?mode=ro" if readonly else "")


# Django's and psycopg's settings keys that are not libpq connection parameters.
_DJANGO_ONLY_OPTIONS = {
    "isolation_level",
    "pool",
    "server_side_binding",
    "prepare_threshold",
    "assume_role",
}


class Postgres:
    vendor = "postgresql"
    filename = "database.dump"

    def __init__(self, connection):
        self.connection = connection
        settings = connection.settings_dict
        self.params = {
            "dbname": settings["NAME"],
            "user": settings["USER"],
            "host": settings["HOST"],
            "port": settings["PORT"],
            **{k: v for k, v in settings["OPTIONS"].items() if k not in _DJANGO_ONLY_OPTIONS},
        }
        # Dumps, restores and their row checks read whole tables: the statement timeout that
        # keeps a request from hanging (config.env.database_from_url) must not cut them short.
        self.params["options"] = f"{settings['OPTIONS'].get('options', '')} -c statement_timeout=0"
        self.params = {k: str(v) for k, v in self.params.items() if v not in ("", None)}
        self.password = settings["PASSWORD"]

    def server_version(self) -> str:
        with self._connect() as conn:
            return conn.execute("SHOW server_version").fetchone()[0]

    def dump(self, dest: Path, progress: Progress, *, without: list[str] = ()) -> tuple[dict, list]:
        import psycopg

        self._check_client("pg_dump")
        try:
            return self._dump(dest, progress, without)
        except psycopg.Error as error:  # the connection dropped, the server shut down
            raise DatabaseError(_("The backup stopped: %(error)s") % {"error": error}) from None

    def _dump(self, dest: Path, progress: Progress, without) -> tuple[dict, list]:
        with self._connect(autocommit=False) as conn:
            # The stats must describe exactly what pg_dump writes: both read one exported
            # snapshot, so rows committed meanwhile are in neither.
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
            # -Z0: the archive is gzipped as a whole; compressing twice only costs CPU.
            # The structure of these tables, none of their rows (private.py).
            skip = [f"--exclude-table-data=public.{table}" for table in without]
            self._run(["pg_dump", "-Fc", "-Z0", f"--snapshot={snapshot}", *skip, "-f", str(dest)])
            progress(_("Counting rows…"))
            stats = dbstats.table_stats(conn, self.vendor)
            stats.update({table: dbstats.empty() for table in without if table in stats})
            migrations = dbstats.applied_migrations(conn)
            conn.rollback()
        return stats, migrations

    def restore(self, source: Path, expected: dict, progress: Progress) -> None:
        """Replace the public schema and check every table's row count in ONE transaction.

        pg_restore turns the archive into a script; psql runs "drop the schema, the script,
        the count checks" with --single-transaction and ON_ERROR_STOP, so any failure (a bad
        statement, a count that differs, a killed process) rolls everything back and the old
        data stays. Chosen over restore-into-a-new-database-and-rename because that needs the
        CREATEDB privilege and every other connection closed; this needs neither: daphne's
        queries simply wait for the commit and then see the new data (the restore's own
        lock_timeout bounds how long it waits for them, not the reverse; /readyz gives up
        after a few seconds and reports the wait).
        """
        self._check_client("pg_restore")
        script = source.with_suffix(".sql")
        progress(_("Converting the dump to SQL…"))
        self._run(
            ["pg_restore", "--no-owner", "--no-privileges", "-f", str(script), str(source)],
            connect=False,
        )
        prelude = source.with_name("prelude.sql")
        prelude.write_text(
            "SET client_min_messages = warning;\nSET lock_timeout = '60s';\n"
            "DROP SCHEMA IF EXISTS public CASCADE;\nCREATE SCHEMA public;\n"
        )
        checks = source.with_name("checks.sql")
        checks.write_text(_count_checks(expected))
        progress(_("Restoring in one transaction…"))
        files = [arg for path in (prelude, script, checks) for arg in ("-f", str(path))]
        self._run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction", *files])

    def drill(self, source: Path, workdir: Path, progress: Progress) -> dict:
        import psycopg
        from psycopg import sql

        self._check_client("pg_restore")
        scratch = f"{self.params['dbname']}_verify_{secrets.token_hex(4)}"
        progress(_("Restoring into a scratch database (%(name)s)…") % {"name": scratch})
        with self._connect(autocommit=True) as conn:
            try:
                conn.execute(
                    sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(scratch))
                )
            except psycopg.Error as error:
                raise DatabaseError(
                    _(
                        "Cannot create the scratch database for the drill (%(error)s). The "
                        "drill needs a PostgreSQL user allowed to create databases "
                        "(ALTER ROLE … CREATEDB), or run it on another server."
                    )
                    % {"error": error}
                ) from None
        try:
            self._run(
                ["pg_restore", "--exit-on-error", "--no-owner", "--no-privileges", str(source)],
                dbname=scratch,
            )
            with self._connect(dbname=scratch) as conn:
                return dbstats.table_stats(conn, self.vendor)
        finally:
            with self._connect(autocommit=True) as conn:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        sql.Identifier(scratch)
                    )
                )

    def live_stats(self) -> dict:
        with self._connect() as conn:
            return dbstats.table_stats(conn, self.vendor)

    def _connect(self, *, autocommit=True, dbname=None):
        import psycopg

        params = {**self.params, **({"dbname": dbname} if dbname else {})}
        try:
            return psycopg.connect(**params, password=self.password or None, autocommit=autocommit)
        except psycopg.Error as error:
            raise DatabaseError(
                _("Cannot connect to PostgreSQL: %(error)s") % {"error": error}
            ) from None

    def _check_client(self, tool: str) -> None:
        """pg_dump/pg_restore refuse (or worse, misread) a newer server: say so plainly."""
        try:
            output = subprocess.run([tool, "--version"], capture_output=True, text=True, check=True)
        except (OSError, subprocess.CalledProcessError):
            raise DatabaseError(
                _(
                    "%(tool)s is not installed: install the PostgreSQL client tools "
                    "(apt-get install postgresql-client)."
                )
                % {"tool": tool}
            ) from None
        client = int(re.search(r"(\d+)(?:\.\d+)*", output.stdout).group(1))
        server = self.connection_major()
        if client < server:
            raise DatabaseError(
                _(
                    "%(tool)s is version %(client)s but the server runs PostgreSQL %(server)s: "
                    "install postgresql-client-%(server)s (or newer) so the dump can be read back."
                )
                % {"tool": tool, "client": client, "server": server}
            )

    def connection_major(self) -> int:
        with self._connect() as conn:
            return conn.info.server_version // 10000

    def _run(self, args: list[str], *, dbname=None, connect=True) -> None:
        import psycopg

        if connect:
            params = {**self.params, **({"dbname": dbname} if dbname else {})}
            args = [args[0], "-d", psycopg.conninfo.make_conninfo(**params), *args[1:]]
        env = {**os.environ, **({"PGPASSWORD": self.password} if self.password else {})}
        result = subprocess.run(args, env=env, capture_output=True, text=True)
        if result.returncode != 0:
            lines = (result.stderr or result.stdout).strip().splitlines()
            detail = [line for line in lines if "ERROR" in line] or lines[-3:]
            raise DatabaseError(
                _("%(tool)s failed: %(detail)s")
                % {"tool": args[0], "detail": " / ".join(detail) or result.returncode}
            )


def _count_checks(expected: dict) -> str:
    """A DO block that raises (rolling the restore back) unless every table has the row count
    the manifest promises and no table is missing or extra."""
    lines = ["DO $checks$", "DECLARE n bigint;", "BEGIN"]
    lines.append(
        "  SELECT count(*) INTO n FROM pg_catalog.pg_tables WHERE schemaname = 'public';"
        f"\n  IF n <> {len(expected)} THEN RAISE EXCEPTION 'restored % tables, the archive "
        f"lists {len(expected)}', n; END IF;"
    )
    for table, stats in sorted(expected.items()):
        quoted = '"' + table.replace('"', '""') + '"'
        literal = table.replace("'", "''")
        lines.append(
            f"  SELECT count(*) INTO n FROM public.{quoted};\n"
            f"  IF n <> {int(stats['rows'])} THEN RAISE EXCEPTION 'table {literal}: % rows "
            f"restored, the archive says {int(stats['rows'])}', n; END IF;"
        )
    lines += ["END", "$checks$;", ""]
    return "\n".join(lines)
