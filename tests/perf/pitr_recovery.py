"""Recovery point and recovery time of the PostgreSQL set-up with WAL archiving (deploy/):

    sudo python tests/perf/pitr_recovery.py [--trials 3] [--seconds 150]

Each trial makes a scratch cluster with the shipped pgBackRest and PostgreSQL settings
(archive_timeout 60 s), migrates it, takes a full backup, and starts a writer that borrows and
returns tools through the loan services, one loan change every 0.2 s, printing the commit time
of each. After a random 60 to `--seconds` the disk is lost (the server killed, its data folder
deleted) while the writer runs; then the database is restored from the backup and the archived
WAL ("latest": as far as the archive goes).

Measured: the recovery point, the time between the last loan change committed before the loss
and the last one the restored database holds; and the recovery time, from the start of
`pgbackrest restore` to a server that takes writes. Prints one JSON object.
"""

import argparse
import json
import random
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.deploy.scratch_cluster import ScratchCluster  # noqa: E402
from tests.processes import manage  # noqa: E402

WRITER = """
import sys, time
from django.db import connection
from inventory.employees.models import Employee
from inventory.items.models import Item
from inventory.loans import services
from inventory.loans.models import Door, Loan
person = Employee.objects.get(code="E0001")
tools = list(Item.objects.filter(code__in=["TO0001", "TO0002", "TO0004", "TO0005"]))
n = 0
while True:
    tool = tools[n % len(tools)]
    loan = Loan.objects.open().filter(item=tool).first()
    if loan:
        services.return_loan(loan=loan, door=Door.API)
    else:
        services.borrow(item=tool, employee=person, door=Door.API)
    with connection.cursor() as cursor:
        cursor.execute("SELECT clock_timestamp()")
        print(cursor.fetchone()[0].isoformat(), flush=True)
    n += 1
    time.sleep(0.2)
"""
LAST_CHANGE = """
from django.db.models import Max
from inventory.loans.models import LoanEvent
print(LoanEvent.objects.aggregate(last=Max("recorded_at"))["last"].isoformat())
"""


def trial(seconds: float, rng: random.Random) -> dict:
    cluster = ScratchCluster().create()
    try:
        env = cluster.django_env()
        manage(env, "migrate", "--no-input", "-v0")
        manage(env, "seed_demo")
        cluster.backup("full")
        writer = subprocess.Popen(
            [sys.executable, "manage.py", "shell", "--no-imports", "-c", WRITER],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        commits: list[str] = []
        lose_at = time.monotonic() + rng.uniform(60, seconds)
        while time.monotonic() < lose_at:
            commits.append(writer.stdout.readline().strip())
        cluster.lose_the_disk()
        writer.kill()
        commits += [line.strip() for line in writer.stdout if line.strip()]
        writer.wait()
        started = time.monotonic()
        cluster.restore()
        recovery_seconds = time.monotonic() - started
        restored = datetime.fromisoformat(
            manage(env, "shell", "--no-imports", "-c", LAST_CHANGE).strip()
        )
        last_committed = datetime.fromisoformat(commits[-1])
        return {
            "changes_committed": len(commits),
            "recovery_point_seconds": round((last_committed - restored).total_seconds(), 1),
            "recovery_time_seconds": round(recovery_seconds, 1),
        }
    finally:
        cluster.remove()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=150.0)
    args = parser.parse_args()
    rng = random.Random(18)
    trials = [trial(args.seconds, rng) for _ in range(args.trials)]
    points = [t["recovery_point_seconds"] for t in trials]
    times = [t["recovery_time_seconds"] for t in trials]
    print(
        json.dumps(
            {
                "archive_timeout_seconds": 60,
                "trials": trials,
                "recovery_point_seconds": {"max": max(points), "mean": statistics.mean(points)},
                "recovery_time_seconds": {"max": max(times), "mean": statistics.mean(times)},
            }
        )
    )


if __name__ == "__main__":
    main()
