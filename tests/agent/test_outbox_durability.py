"""Killing the writer at any moment loses no acknowledged tap and never corrupts the file."""

import random
import signal
import sqlite3
import subprocess
import sys
import time

from tests.agent.conftest import REPO

KILLS = 30


def burst_until_killed(db_path, after_seconds: float) -> list[str]:
    """Run the burst writer, SIGKILL it after the delay, and return the ids it acknowledged."""
    writer = subprocess.Popen(
        [sys.executable, "-m", "tests.agent.outbox_burst", str(db_path)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout.readline() == "ready\n"
    time.sleep(after_seconds)
    writer.send_signal(signal.SIGKILL)
    output, _ = writer.communicate(timeout=10)
    # Only whole lines count: a line cut short by the kill was not acknowledged.
    return [line for line in output.split("\n")[:-1] if line]


def test_every_acknowledged_tap_survives_sigkill_and_the_file_stays_sound(tmp_path):
    db_path = tmp_path / "outbox.db"
    rng = random.Random()
    acknowledged: list[str] = []

    for _ in range(KILLS):
        acknowledged += burst_until_killed(db_path, rng.uniform(0.0, 0.12))

        db = sqlite3.connect(db_path)
        try:
            assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            stored = {row[0] for row in db.execute("SELECT id FROM events")}
        finally:
            db.close()
        assert not set(acknowledged) - stored, "an acknowledged tap was lost"

    assert len(acknowledged) > KILLS  # the kills really landed mid-burst, not before it
