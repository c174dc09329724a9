"""The operator's commands: status and check."""

import json
import os
import sqlite3
import time
import urllib.request
from pathlib import Path

from agent.config import Config, LocalSettings
from agent.heartbeat import beat, heartbeat_payload
from agent.outbox import PENDING, REJECTED, Outbox, foreign_owner, iso
from agent.reader import PcscReader
from agent.transport import HttpTransport

EXIT_PROBLEM = 1
EXIT_NOT_RUNNING = 3


def status(settings: LocalSettings) -> int:
    url = f"http://127.0.0.1:{settings.status_port}/status"
    try:
        with urllib.request.urlopen(url, timeout=3) as answer:
            document = json.load(answer)
    except (OSError, ValueError) as exc:
        print(f"agent:            not running ({url}: {getattr(exc, 'reason', exc)})")
        _print_outbox(settings)
        return EXIT_NOT_RUNNING
    reader = document["reader_name"] if document["reader_connected"] else "not connected"
    print(f"agent:            running, version {document['agent_version']}")
    print(f"reader:           {reader}")
    print(f"server:           {'reachable' if document['server_reachable'] else 'NOT reachable'}")
    if document["token_rejected"]:
        print("station token:    REJECTED by the server (401)")
    print(f"outbox waiting:   {document['outbox_depth']}")
    print(f"oldest waiting:   {_age(document['oldest_pending_seconds'])}")
    print(f"last delivery:    {document['last_delivery_at'] or 'none since start'}")
    print(f"last error:       {document['last_error'] or 'none'}")
    print(f"rejected events:  {document['rejected_count']}")
    print(f"can replay since: {document['replayable_since'] or 'unknown'}")
    for read in document["recent"]:
        print(f"  {read['read_at']}  {read['uid']:<20} {read['state']}")
    if document["rejected_count"]:
        _print_rejected(settings)
    return 0


def check(config: Config) -> int:
    """Looks without touching: the outbox is opened read-only, never created."""
    problems = []
    print(f"configuration:    ok (server {config.server_url}, outbox {config.outbox_path})")
    outbox, problem = _check_outbox(config.outbox_path)
    if problem:
        problems.append(problem)
        print(f"outbox:           FAILED: {problem}")
    else:
        waiting = f"{outbox.depth()} waiting" if outbox else "not created yet; the agent will"
        print(f"outbox:           ok ({waiting})")
    reader_name, problem = _check_reader(config)
    if problem:
        problems.append(problem)
        print(f"reader:           FAILED: {problem}")
    else:
        print(f"reader:           ok ({reader_name})")
    transport = HttpTransport(config.server_url, config.station_token, config.ca_bundle)
    payload = heartbeat_payload(
        reader_name is not None,
        reader_name,
        outbox,
        time.monotonic(),
        config.heartbeat_seconds,
    )
    result = beat(transport, payload)
    transport.close()
    if outbox:
        outbox.close()
    if result.problem:
        problems.append(result.problem)
        print(f"server:           FAILED: {result.problem}")
    else:
        print("server:           ok (heartbeat accepted)")
    return EXIT_PROBLEM if problems else 0


def _check_outbox(path: Path) -> tuple[Outbox | None, str | None]:
    if problem := foreign_owner(path):
        return None, problem
    if path.exists():
        try:
            return Outbox(path, read_only=True), None
        except sqlite3.Error as exc:
            return None, f"cannot read {path}: {exc}"
    directory = next(p for p in path.parents if p.exists())
    if not os.access(directory, os.W_OK):
        return None, f"{path} does not exist and {directory} is not writable"
    return None, None


def _check_reader(config: Config) -> tuple[str | None, str | None]:
    if config.reader == "stdin":
        return "stdin", None
    try:
        reader = PcscReader(config.reader_name)
    except ImportError as exc:
        return None, f"pyscard is not installed ({exc}); pip install -r requirements/agent.txt"
    return reader.probe()


def _print_outbox(settings: LocalSettings) -> None:
    if problem := foreign_owner(settings.outbox_path):
        print(f"outbox:           not read: {problem}")
        return
    if not settings.outbox_path.exists():
        print(f"outbox:           {settings.outbox_path} does not exist yet")
        return
    try:
        outbox = Outbox(settings.outbox_path, read_only=True)
        print(f"outbox waiting:   {outbox.count(PENDING)}")
        print(f"oldest waiting:   {_age(outbox.oldest_pending_seconds())}")
        print(f"rejected events:  {outbox.count(REJECTED)}")
        kept_since = outbox.kept_since()
        print(f"can replay since: {iso(kept_since) if kept_since else 'unknown'}")
        outbox.close()
    except sqlite3.Error as exc:
        print(f"outbox:           cannot read {settings.outbox_path}: {exc}")
        return
    _print_rejected(settings)


def _print_rejected(settings: LocalSettings) -> None:
    """Rejected events are never resent; a person has to see them to act on them."""
    if problem := foreign_owner(settings.outbox_path):
        print(f"(rejected events not listed: {problem})")
        return
    try:
        outbox = Outbox(settings.outbox_path, read_only=True)
        rejected = outbox.rejected(10)
        outbox.close()
    except sqlite3.Error as exc:
        print(f"(cannot list rejected events from {settings.outbox_path}: {exc})")
        return
    for event in rejected:
        print(f"  rejected seq={event.seq} uid={event.uid}: {event.message}")


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "none"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m {secs:02d}s ago" if hours else f"{minutes}m {secs:02d}s ago"
