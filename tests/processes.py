"""Running manage.py in a process of its own, with a database of its own."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def sqlite_env(folder: Path, **extra) -> dict[str, str]:
    """This process's environment, but on a SQLite file in `folder` and no Redis."""
    return {
        **{k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}},
        "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
        "VAR_DIR": str(folder / "var"),
        **extra,
    }


def manage(env: dict[str, str], *args: str) -> str:
    """Run a management command; its stdout, or CalledProcessError with its stderr."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
