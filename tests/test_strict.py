"""TEST_STRICT=1 turns every skip into a failure, wherever the skip happens."""

import subprocess
import sys

import pytest

from tests.live_server import ROOT

SKIPS = {
    "in_a_test": "import pytest\n\ndef test_it():\n    pytest.skip('no chromium')\n",
    "by_a_marker": (
        "import pytest\n\n@pytest.mark.skipif(True, reason='no pcscd')\ndef test_it():\n    pass\n"
    ),
    "while_collecting": (
        "import pytest\n\npytest.skip('no Redis', allow_module_level=True)\n\n"
        "def test_it():\n    pass\n"
    ),
    "for_a_missing_module": (
        "import pytest\n\npytest.importorskip('a_module_that_is_not_there')\n\n"
        "def test_it():\n    pass\n"
    ),
}


def run(tmp_path, source: str, *, strict: bool) -> subprocess.CompletedProcess:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_skipping.py").write_text(source)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "tests.strict",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:django",
            "-c",
            str(tmp_path / "pytest.ini"),
            str(tmp_path),
        ],
        cwd=ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(ROOT),
            "TEST_STRICT": "1" if strict else "0",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("where", SKIPS)
def test_a_skip_fails_the_run_when_strict(tmp_path, where):
    result = run(tmp_path, SKIPS[where], strict=True)

    assert result.returncode in (1, 2), result.stdout  # 2: an error while collecting
    assert "TEST_STRICT=1 turns this skip into a failure" in result.stdout


@pytest.mark.parametrize("where", SKIPS)
def test_a_skip_is_only_a_skip_otherwise(tmp_path, where):
    result = run(tmp_path, SKIPS[where], strict=False)

    assert result.returncode in (0, 5), result.stdout  # 5: everything collected was skipped
    assert "1 skipped" in result.stdout
