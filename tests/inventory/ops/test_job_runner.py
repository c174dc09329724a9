"""The real job runner (`manage.py run_huey`, as systemd and `make run` start it) takes a job
from the queue, runs it against the database and records it: the scheduled jobs are only
ever called directly elsewhere in the tests (HUEY_IMMEDIATE=1)."""

import os
import subprocess
import sys
import time

import redis

from tests.live_server import ROOT, LiveServer

STATION_WATCH_RUNS = (
    "from inventory.ops.models import PeriodicRun; "
    "print(PeriodicRun.objects.filter(job='station_watch', succeeded=True).count())"
)


def test_the_job_runner_runs_a_queued_periodic_job_and_records_it():
    server = LiveServer("jobs", env={"HUEY_IMMEDIATE": "0"}).setup()
    runner = None
    try:
        # A periodic task called directly is queued for the runner at once.
        server.manage(
            "shell",
            "-v",
            "0",
            "-c",
            "from inventory.ops.tasks import station_watch; station_watch()",
        )
        if os.environ.get("REDIS_URL"):
            queue = redis.Redis.from_url(os.environ["REDIS_URL"])
            assert queue.llen("huey.redis.toolcrib") >= 1  # waiting in Redis, not in memory
        assert server.manage("shell", "-v", "0", "-c", STATION_WATCH_RUNS).strip() == "0"

        runner = subprocess.Popen(
            [sys.executable, "manage.py", "run_huey", "--workers", "1"],
            cwd=ROOT,
            env=server.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while server.manage("shell", "-v", "0", "-c", STATION_WATCH_RUNS).strip() != "1":
            assert runner.poll() is None, "the job runner stopped"
            assert time.monotonic() < deadline, "the job runner did not run the job"
            time.sleep(0.5)
    finally:
        if runner is not None:
            runner.terminate()
            runner.wait(timeout=30)
        server.remove()
