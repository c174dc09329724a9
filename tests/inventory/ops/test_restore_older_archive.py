"""An archive written by older code is restored, brought up to this code's schema and
recorded, with the kiosks asked for their taps: the record's own tables may be newer than it."""

import functools
import re
from pathlib import Path

from tests.processes import manage as run_manage
from tests.processes import sqlite_env

RESTORES = """
from inventory.ops.models import RestoreRun
run = RestoreRun.objects.get()
print(run.archive_created_at.isoformat(), run.replay.since.isoformat(), run.replay.state)
"""


def test_an_archive_from_before_tap_replays_is_migrated_and_its_restore_recorded(tmp_path):
    env = sqlite_env(tmp_path, BACKUP_DIR=str(tmp_path / "backups"), LANGUAGE_CODE="en")
    manage = functools.partial(run_manage, env)
    manage("migrate", "--no-input", "-v0")
    manage("migrate", "kiosk", "0005", "--no-input", "-v0")  # the release before tap replays
    archive = Path(manage("backup").strip().splitlines()[-1])
    manage("migrate", "--no-input", "-v0")

    out = manage("restore", "--no-input", str(archive))

    # Every migration since the release before replays, however many there are now.
    assert re.search(r"The archive was older than this code: \d+ migrations were applied\.", out)
    taken, since, state = manage("shell", "--no-imports", "-c", RESTORES).split()
    assert since < taken
    assert state == "gathering"
