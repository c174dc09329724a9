"""The kiosk's browser is started one way, which both guides describe, and it may play sound."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "deploy" / "systemd" / "toolcrib-kiosk-browser.service"
GUIDES = [ROOT / "deploy" / "README.md", ROOT / "deploy" / "pi4-kiosk.md"]
# A Chromium command line of its own: a second way to start a second browser.
CHROMIUM_COMMAND = re.compile(r"^\s*[^#\s]*chromium(-browser)?\s+--", re.MULTILINE)


def test_the_unit_lets_the_kiosk_page_play_sound_without_a_touch():
    exec_start = next(
        line for line in UNIT.read_text().splitlines() if line.startswith("ExecStart=")
    )
    assert "--autoplay-policy=no-user-gesture-required" in exec_start.split()


def test_both_guides_start_the_kiosk_browser_with_the_unit_and_no_other_way():
    for guide in GUIDES:
        text = guide.read_text()
        assert "toolcrib-kiosk-browser" in text, guide.name
        assert not CHROMIUM_COMMAND.search(text), (
            f"{guide.name}: {CHROMIUM_COMMAND.search(text)[0]}"
        )
        assert "wayfire.ini" not in text, guide.name
