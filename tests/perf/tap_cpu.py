"""The CPU one tap costs the server, measured in one process without the network, beside the
cheapest Django request's: one JSON object.

    python tests/perf/tap_cpu.py [--taps N] [--rounds N] [--profile FILE]

The scan API is called through Django's test client (the whole middleware chain, DRF, the tap
use case, the push rendered and sent to the channel layer) on a fresh PostgreSQL database, twenty
stations' people borrowing and returning their tools in turn. CPU is this process's own
(time.process_time): PostgreSQL's and Redis's work is not in it, nor daphne's (the ASGI server,
measured by tests/perf/kiosk_latency.py). Far steadier than a latency run on a shared machine,
it is the figure to compare changes of the tap path by. It overstates the push a little:
outside daphne, each send to the channel layer runs an event loop of its own. The floor is
GET /healthz, the same way. With --profile, py-spy samples this process (collapsed stacks).
"""

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.live_server import LiveServer  # noqa: E402

STATIONS, TOOLS = 20, 6


def cpu_per_call_ms(call, n: int) -> float:
    started = time.process_time()
    for _ in range(n):
        call()
    return (time.process_time() - started) * 1000 / n


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--taps", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", metavar="FILE")
    args = parser.parse_args()
    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/toolcrib_bench")
    server = LiveServer("tap_cpu", env={"KIOSK_SESSION_SECONDS": "3600"})
    server.setup()
    try:
        os.environ.update(server.env)
        import django

        django.setup()
        from django.core.cache import cache
        from django.test import Client

        from inventory.employees.models import Employee
        from inventory.items.models import Item, Tag
        from kiosk import actions

        # Stations take turns, each well within its throttle (API_THROTTLE_STATION) at the
        # rate this loop taps.
        stations = []
        for s in range(STATIONS):
            _station, token, _code = actions.create_station(name=f"tap-cpu-{s}")
            employee = Employee.objects.create(code=f"C{s:03d}", name=f"CPU {s}")
            badge = Tag.objects.create(uid=f"04C0{s:04X}", employee=employee).uid
            tools = [
                Tag.objects.create(
                    uid=f"1DC0{s:04X}{t:04X}", item=Item.objects.create(code=f"C{s}-{t}")
                ).uid
                for t in range(TOOLS)
            ]
            stations.append(({"HTTP_AUTHORIZATION": f"Station {token}"}, badge, tools))
            # A fresh database numbers its stations from 1 again: an earlier run's throttle
            # counts in the same Redis would apply to them.
            cache.delete(f"throttle_station-scans_{_station.pk}")
        # The host daphne is reached by in the other benchmarks (ALLOWED_HOSTS).
        client, taps = Client(HTTP_HOST="127.0.0.1"), iter(range(10**9))

        def post(headers, uid):
            now = datetime.now(UTC).isoformat()
            event = {"id": str(uuid.uuid4()), "uid": uid, "read_at": now}
            body = {"sent_at": now, "events": [event]}
            response = client.post("/api/v1/kiosk/scans", body, "application/json", **headers)
            assert response.status_code == 200, response.content

        def tap():
            n = next(taps)
            headers, _badge, tools = stations[n % STATIONS]
            # Each tool borrowed, then returned the next time round.
            post(headers, tools[(n // STATIONS) % TOOLS])

        def healthz():
            assert client.get("/healthz").status_code == 200

        for headers, badge, _tools in stations:
            post(headers, badge)  # each person's session outlasts the run
        for _ in range(2 * TOOLS * STATIONS):
            tap()  # warm: every tool borrowed and returned once
        spy = args.profile and subprocess.Popen(
            [
                *(Path(sys.executable).with_name("py-spy"), "record", "--pid", str(os.getpid())),
                *("--format", "raw", "--rate", "500", "--nonblocking", "-o", args.profile),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(1 if spy else 0)
        rounds = [
            (cpu_per_call_ms(tap, args.taps), cpu_per_call_ms(healthz, args.taps))
            for _ in range(args.rounds)
        ]
        if spy:
            spy.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
            spy.wait()
        tap_ms = statistics.median(r[0] for r in rounds)
        floor_ms = statistics.median(r[1] for r in rounds)
        print(
            json.dumps(
                {
                    "tap_cpu_ms": round(tap_ms, 2),
                    "floor_healthz_cpu_ms": round(floor_ms, 3),
                    "ratio": round(tap_ms / floor_ms, 1),
                    "rounds": [[round(t, 2), round(f, 3)] for t, f in rounds],
                },
                indent=2,
            )
        )
    finally:
        server.remove()


if __name__ == "__main__":
    main()
