import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from inventory.core.logging import (
    ContextFilter,
    JsonFormatter,
    RequestIdMiddleware,
    bind_log_context,
    current_request_id,
)

ROOT = Path(__file__).resolve().parents[3]


def test_every_response_carries_a_request_id(client):
    first, second = client.get("/healthz"), client.get("/healthz")

    assert len(first["X-Request-ID"]) == 32
    assert first["X-Request-ID"] != second["X-Request-ID"]


def test_an_incoming_request_id_is_kept_and_a_malformed_one_replaced(client):
    assert client.get("/healthz", HTTP_X_REQUEST_ID="caddy-42.a:b")["X-Request-ID"] == (
        "caddy-42.a:b"
    )
    replaced = client.get("/healthz", HTTP_X_REQUEST_ID="evil\nheader injection")
    assert replaced["X-Request-ID"] != "evil\nheader injection"
    assert len(replaced["X-Request-ID"]) == 32


def log_line(record_logger="toolcrib.test", **extra) -> dict:
    record = logging.getLogger(record_logger).makeRecord(
        record_logger, logging.WARNING, __file__, 1, "tap from %s", ("badge",), None, extra=extra
    )
    ContextFilter().filter(record)
    line = JsonFormatter().format(record)
    assert "\n" not in line
    return json.loads(line)


def test_records_inside_a_request_carry_its_id_and_the_station_bound_to_it():
    seen = {}

    def view(request):
        bind_log_context(station="Crib A")
        seen.update(log_line())
        return HttpResponse()

    request = RequestFactory().get("/", HTTP_X_REQUEST_ID="req-1")
    RequestIdMiddleware(view)(request)

    assert seen["request_id"] == "req-1"
    assert seen["station"] == "Crib A"
    assert seen["message"] == "tap from badge"
    assert seen["level"] == "WARNING"
    # and nothing leaks into whatever runs next on this thread
    assert current_request_id() == "-"
    assert log_line()["station"] == "-"


def test_a_station_given_with_extra_wins_outside_a_request():
    assert log_line(station="Crib B")["station"] == "Crib B"


@pytest.mark.parametrize(("value", "ok"), [("json", True), ("plain", True), ("xml", False)])
def test_log_format_is_checked_at_start(value, ok):
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, logging; django.setup(); logging.getLogger('x').warning('hello')",
        ],
        cwd=ROOT,
        env={
            "PATH": os.environ["PATH"],
            "VAR_DIR": os.environ["VAR_DIR"],
            "DEBUG": "1",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "LOG_FORMAT": value,
        },
        capture_output=True,
        text=True,
    )
    assert (result.returncode == 0) is ok, result.stderr
    if value == "json":
        assert json.loads(result.stderr.strip().splitlines()[-1])["message"] == "hello"
    if not ok:
        assert "LOG_FORMAT must be one of plain, json" in result.stderr
