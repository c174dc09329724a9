"""Locating the Debian tools the deploy checks run; a missing one skips (a failure in CI)."""

import shutil

import pytest


def need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.skip(f"needs {tool}: make test installs it (Makefile APT_PACKAGES)")
    return path
