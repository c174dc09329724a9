"""Mutation testing of the rule modules: which small bugs would pass every test.

Usage: python tests/perf/mutation.py [--module PATH ...] [--keep DIR [--survivors]]
                                     [--max-children N] [--postgres DATABASE_URL]
(first `.venv/bin/pip install --require-hashes -r requirements/mutation.txt`)
Prints one JSON object: per module the mutants, killed, survived, timeouts, the score
((killed + timeouts) / mutants) and each surviving mutant's place and change.

mutmut changes one thing at a time in a copy of the project (an operator, a constant, an
argument left out) and runs the tests that reach the changed function; a mutant no test fails
on is a rule nothing holds in place. It runs in a scratch copy of the checkout, on SQLite
without Redis (tests of PostgreSQL alone skip), and takes tens of minutes a module on two
cores: not part of CI. `--postgres URL` runs on PostgreSQL instead, one mutant at a time: the
way to measure `databases.py`'s PostgreSQL half. `--keep DIR --survivors` runs again, with the
tests as they are now, only the mutants that survived the run kept in DIR: the "after" of
tests written for them. The mutants judged equivalent (no test could tell them apart from the
code) are listed with the reason in tests/perf/mutation-equivalents.md.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# Each module and the tests that state its rules; mutmut runs, for each mutant, those of them
# that reach the mutated function.
MODULES = {
    "inventory/loans/services.py": [
        "tests/inventory/loans",
        "tests/kiosk/test_rules.py",
        "tests/kiosk/test_actions.py",
    ],
    "inventory/loans/due.py": ["tests/inventory/loans/test_due.py"],
    "kiosk/rules.py": [
        "tests/kiosk/test_rules.py",
        "tests/kiosk/test_crib_rules.py",
        "tests/kiosk/test_actions.py",
        "tests/kiosk/test_checklist.py",
        "tests/kiosk/test_screen.py",  # what a tap leaves for the screen (a tray's lines)
        "tests/kiosk/test_screen_crib_rules.py",
    ],
    "kiosk/scans.py": [
        "tests/kiosk/test_scan_api.py",
        "tests/kiosk/test_rules.py",
        "tests/kiosk/test_replay.py",
        "tests/kiosk/test_replays.py",
        "tests/kiosk/test_clock_skew.py",
    ],
    "kiosk/pairing.py": [
        "tests/kiosk/test_pairing.py",
        "tests/kiosk/test_admin.py",
        "tests/kiosk/test_consumer.py",
    ],
    "agent/outbox.py": [
        "tests/agent/test_outbox.py",
        "tests/agent/test_pruning.py",
        "tests/agent/test_operator_safety.py",
        "tests/agent/test_replay.py",
        "tests/agent/test_clock.py",  # stores and reads back each tap's boot time
    ],
    "agent/sender.py": [
        "tests/agent/test_sender_results.py",
        "tests/agent/test_sender_batching.py",
        "tests/agent/test_backoff.py",
        "tests/agent/test_sender_over_http.py",
        "tests/agent/test_replay.py",
        "tests/agent/test_clock.py",  # dates each tap on the clock of the moment it is sent
    ],
    "agent/clock.py": ["tests/agent/test_clock.py"],
    "inventory/ops/backups/archive.py": [
        "tests/inventory/ops/test_archive.py",
        "tests/inventory/ops/test_backup_encryption.py",  # write and read sealed archives
        "tests/inventory/ops/test_backup_signing.py",
        "tests/inventory/ops/test_backup.py",
        "tests/inventory/ops/test_restore.py",
    ],
    "inventory/ops/backups/restore.py": [
        "tests/inventory/ops/test_restore.py",
        "tests/inventory/ops/test_verify_backup.py",
        "tests/inventory/ops/test_backup_signing.py",
        "tests/inventory/ops/test_backup_private_tables.py",
    ],
    "inventory/ops/backups/databases.py": [
        "tests/inventory/ops/test_backup.py",
        "tests/inventory/ops/test_restore.py",
        "tests/inventory/ops/test_sqlite_round_trip.py",
        "tests/inventory/ops/test_verify_backup.py",  # the restore drill
        "tests/inventory/ops/test_backup_private_tables.py",  # dumps without some tables
        "tests/inventory/ops/test_restore_older_archive.py",
    ],
}
KILLED, TIMEOUT, SURVIVED = {1, 3}, {24, -24, 36, 152, 255}, {0}
NO_TESTS = {5, 33}
MUTMUT = Path(sys.executable).with_name("mutmut")


def scratch_copy(into: Path) -> None:
    """The tracked files as they are in the working tree (uncommitted tests count)."""
    files = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True
    ).stdout.split(b"\0")
    for name in filter(None, files):
        source = REPO / name.decode()
        if source.is_file():
            target = into / name.decode()
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def configure(root: Path, modules: list[str], *, postgres: bool) -> None:
    tests = sorted({test for module in modules for test in MODULES[module]})
    config = {
        "source_paths": ["inventory", "kiosk", "agent"],
        "only_mutate": modules,
        "pytest_add_cli_args_test_selection": tests,
        # mutation_fresh_db: each of mutmut's sessions (in one process, then in forks) afresh;
        # on PostgreSQL each keeps the test database the first one made.
        "pytest_add_cli_args": [
            *("-p", "no:cacheprovider", "-q", "-x"),
            *("-p", "tests.perf.mutation_fresh_db"),
            *(["--reuse-db"] if postgres else []),
        ],
        "also_copy": ["config", "templates", "static", "locale", "manage.py"],
    }
    lines = ["", "[tool.mutmut]"] + [
        f"{key} = {json.dumps(value)}" for key, value in config.items()
    ]
    with (root / "pyproject.toml").open("a") as pyproject:
        pyproject.write("\n".join(lines) + "\n")


def change_of(root: Path, mutant: str) -> str:
    shown = subprocess.run(
        [MUTMUT, "show", mutant], cwd=root, capture_output=True, text=True
    ).stdout
    removed = [line[1:].strip() for line in shown.splitlines() if line.startswith("- ")]
    added = [line[1:].strip() for line in shown.splitlines() if line.startswith("+ ")]
    return f"{' / '.join(removed)} -> {' / '.join(added)}"


def line_of(module: str, change: str) -> int | None:
    before = change.split(" -> ")[0].split(" / ")[0]
    for number, line in enumerate((REPO / module).read_text().splitlines(), start=1):
        if before and line.strip() == before:
            return number
    return None


def results_of(root: Path, module: str) -> dict[str, int | None]:
    meta = root / "mutants" / f"{module}.meta"
    return json.loads(meta.read_text())["exit_code_by_key"] if meta.exists() else {}


def survivors_of(root: Path, modules: list[str]) -> list[str]:
    return [
        name
        for module in modules
        for name, code in results_of(root, module).items()
        if code in SURVIVED or code in NO_TESTS
    ]


def report(root: Path, modules: list[str], kept: dict[str, dict]) -> dict:
    result = {}
    for module in modules:
        codes = {**results_of(root, module), **kept.get(module, {})}
        survivors = []
        for name, code in sorted(codes.items()):
            if code in SURVIVED or code in NO_TESTS:
                change = change_of(root, name)
                function = re.sub(r"^.*\.x_|__mutmut_\d+$", "", name)
                survivors.append(
                    {
                        "mutant": name,
                        "where": f"{module}:{line_of(module, change) or '?'} ({function})",
                        "change": change,
                        "no_tests": code in NO_TESTS,
                    }
                )
        total = len(codes)
        detected = sum(code in KILLED or code in TIMEOUT for code in codes.values())
        result[module] = {
            "mutants": total,
            "killed": sum(code in KILLED for code in codes.values()),
            "survived": len(survivors),
            "timeouts": sum(code in TIMEOUT for code in codes.values()),
            "score": round(100 * detected / total, 1) if total else None,
            "survivors": survivors,
        }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--module", action="append", choices=list(MODULES), dest="modules")
    parser.add_argument("--keep", type=Path, help="run (or resume) in this folder and keep it")
    parser.add_argument("--survivors", action="store_true", help="with --keep: those again")
    parser.add_argument("--max-children", type=int, default=os.cpu_count())
    parser.add_argument(
        "--postgres",
        metavar="DATABASE_URL",
        help="run on this PostgreSQL (one mutant at a time: they share its test database)",
    )
    args = parser.parse_args()
    if not MUTMUT.exists():
        sys.exit(f"{MUTMUT} is missing: pip install --require-hashes -r requirements/mutation.txt")
    if args.survivors and not args.keep:
        parser.error("--survivors needs the --keep folder of an earlier run")
    modules = args.modules or list(MODULES)
    root = args.keep or Path(tempfile.mkdtemp(prefix="toolcrib-mutation-"))
    again = survivors_of(root, modules) if args.survivors else []
    # mutmut forgets the results of a module it mutates again: the mutants not run again keep
    # those of the earlier run.
    kept = {
        module: {name: code for name, code in results_of(root, module).items() if name not in again}
        for module in modules
        if again
    }
    if again or not (root / "pyproject.toml").exists():
        # A fresh copy, or the tests as they are now for the survivors of the copy's last run.
        root.mkdir(parents=True, exist_ok=True)
        scratch_copy(root)
        configure(root, modules, postgres=bool(args.postgres))
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    if args.postgres:
        env["DATABASE_URL"] = args.postgres
    env["TEST_STRICT"] = "0"  # tests of what is not here skip; CI runs them for real
    children = 1 if args.postgres else args.max_children
    started = time.monotonic()
    run = subprocess.run(
        [MUTMUT, "run", "--max-children", str(children), *again],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
    )
    if run.returncode:
        sys.exit(f"mutmut failed ({run.returncode}):\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}")
    modules_report = report(root, modules, kept)
    mutants = sum(m["mutants"] for m in modules_report.values())
    detected = sum(m["killed"] + m["timeouts"] for m in modules_report.values())
    print(
        json.dumps(
            {
                "benchmark": "mutation",
                "minutes": round((time.monotonic() - started) / 60, 1),
                "mutants": mutants,
                "score": round(100 * detected / mutants, 1) if mutants else None,
                "modules": modules_report,
            },
            indent=2,
            ensure_ascii=False,
        )
    )
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
