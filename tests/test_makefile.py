"""The README's two commands on a fresh Debian 12: `make run` and `make test` install the Debian
packages they need when run as root, and otherwise stop at once with the line to run.

A fake `dpkg` on PATH hides packages (the real ones stay installed), a fake `id` plays root or a
user, a fake `apt-get` records what it was asked to install.
"""

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HIDDEN = ["python3-venv", "gcc", "python3-dev"]


@pytest.fixture
def fake_debian(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    scripts = {
        # Every package is installed except the hidden ones.
        "dpkg": f'for p in {" ".join(HIDDEN)}; do [ "$2" = "$p" ] && exit 1; done; exit 0',
        "id": 'echo "$FAKE_UID"',
        "apt-get": f'echo "$@" >> {tmp_path}/apt-get.log',
    }
    for name, body in scripts.items():
        (bin_dir / name).write_text(f"#!/bin/sh\n{body}\n")
        (bin_dir / name).chmod(0o755)

    def make(target: str, *, uid: int) -> subprocess.CompletedProcess:
        env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "FAKE_UID": str(uid)}
        return subprocess.run(
            ["make", "-s", target, f"VENV={tmp_path / 'venv'}"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    make.apt_log = tmp_path / "apt-get.log"
    make.venv = tmp_path / "venv"
    return make


@pytest.mark.parametrize("target", ["run", "test"])
def test_without_root_it_stops_at_once_with_the_apt_get_line(fake_debian, target):
    result = fake_debian(target, uid=1000)

    assert result.returncode != 0
    line = "sudo apt-get install --no-install-recommends python3-venv gcc python3-dev"
    assert line in result.stdout
    assert not fake_debian.venv.exists()  # stopped before building anything
    assert not fake_debian.apt_log.exists()


@pytest.mark.parametrize("target", ["base-packages", "system-packages"])
def test_as_root_it_installs_what_is_missing(fake_debian, target):
    result = fake_debian(target, uid=0)

    assert result.returncode == 0, result.stderr
    calls = fake_debian.apt_log.read_text().splitlines()
    assert calls == [
        "update -qq",
        "install -y -qq --no-install-recommends python3-venv gcc python3-dev",
    ]
