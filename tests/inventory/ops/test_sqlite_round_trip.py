"""The SQLite path end to end in real processes, so it is proven on every test run (CI's run
uses PostgreSQL for the test database): a backup taken while another process keeps writing is
consistent, and backup → wipe → restore gives every table back."""

import functools
import json
import subprocess
import sys
from pathlib import Path

from tests.inventory.ops.archives import manifest_of, without_the_restores_writes
from tests.processes import ROOT, sqlite_env
from tests.processes import manage as run_manage

WRITER = """
import os
from inventory.items.models import Item
Item.objects.create(code="W-first", name="written before the backup")
print("writing", flush=True)
n = 0
while not os.path.exists(os.environ["STOP_FILE"]) or n < 20:
    Item.objects.create(code=f"W{n}", name="written during the backup")
    n += 1
print(n)
"""
STATS = """
import json
from django.db import connection
from inventory.ops.backups import databases
print(json.dumps(databases.for_connection(connection).live_stats()))
"""


def test_backup_while_writing_then_wipe_and_restore(tmp_path):
    # The commands' words are read below: in English (the default language is Japanese).
    env = sqlite_env(tmp_path, BACKUP_DIR=str(tmp_path / "backups"), LANGUAGE_CODE="en")
    manage = functools.partial(run_manage, env)
    manage("migrate", "--no-input", "-v0")
    manage("seed_demo")
    stop = tmp_path / "stop-writing"
    writer = subprocess.Popen(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", WRITER],
        cwd=ROOT,
        env={**env, "STOP_FILE": str(stop)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout.readline().strip() == "writing"
        archive = Path(manage("backup").strip().splitlines()[-1])
    finally:
        stop.touch()
        written = int(writer.communicate(timeout=60)[0].strip())
    assert written > 0

    assert "restores exactly as recorded" in manage("verify_backup", str(archive))
    manage("flush", "--no-input")
    manage("restore", "--no-input", str(archive))

    restored = json.loads(manage("shell", "--no-imports", "-c", STATS))
    assert restored["ops_restorerun"]["rows"] == restored["kiosk_replay"]["rows"] == 1
    expected = manifest_of(archive)["tables"]
    assert without_the_restores_writes(restored) == without_the_restores_writes(expected)
    # The backup saw some of the writes, not all: it really ran while they went on.
    assert 13 <= expected["items_item"]["rows"] < 13 + written
