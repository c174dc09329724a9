"""With TEST_STRICT=1 (CI), every skip is a failure: a test skipped because PostgreSQL, Redis,
pcscd or chromium is missing would make a green run that proved nothing. Loaded as a plugin
(`-p tests.strict`, pyproject.toml) so it holds for skips at collection time too."""

import os

import pytest

STRICT = os.environ.get("TEST_STRICT") == "1"


def _fail(report) -> None:
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
    report.outcome = "failed"
    report.longrepr = f"TEST_STRICT=1 turns this skip into a failure: {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if STRICT and report.skipped and not hasattr(report, "wasxfail"):
        _fail(report)


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    """A whole module skipped while it was collected (`pytest.skip(allow_module_level=True)`,
    `pytest.importorskip`) never reaches the hook above."""
    outcome = yield
    report = outcome.get_result()
    if STRICT and report.skipped:
        _fail(report)
