"""Tap → screen latency of a real kiosk stack, printed as one JSON object.

Real daphne (one process) on PostgreSQL; every station has a paired WebSocket client; taps are
posted like the agent posts them (one event per batch, keep-alive HTTP). A tap's latency is
from just before its POST is written to the moment the screen receives the fragment carrying
its scan id. Run once with the Redis channel layer and once with the in-memory one.

    python tests/perf/kiosk_latency.py [--quick]

Floors measured in the same run: a bare psycopg transaction doing the same writes as a
borrow tap, (Redis layer) a bare group_send from this process to a connected screen, and the
cheapest Django request through the same daphne (`/healthz`: the middleware, no database):
its latency, and how many one process answers per second, the ceiling for any view.
"""

import argparse
import asyncio
import json
import os
import re
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

import websockets  # noqa: E402

from tests.live_server import LiveServer  # noqa: E402

TOOLS_PER_STATION = 12
SCAN_ID = re.compile(r'data-scan="([0-9a-f-]+)"')


def percentiles(samples_ms: list[float]) -> dict:
    if not samples_ms:
        return {"n": 0}
    ordered = sorted(samples_ms)

    def at(p):
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))], 2)

    return {
        "n": len(ordered),
        "p50_ms": at(0.50),
        "p95_ms": at(0.95),
        "p99_ms": at(0.99),
        "max_ms": round(ordered[-1], 2),
        "mean_ms": round(statistics.fmean(ordered), 2),
    }


def build_fixtures(server: LiveServer, stations: int) -> list[dict]:
    """Stations with a token, one badge and a dozen tools each, made through the ORM."""
    os.environ.update(server.env)
    # This script is a client with a little set-up work; the ORM calls run before any load.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    import django

    django.setup()
    from inventory.employees.models import Employee
    from inventory.items.models import Item, Tag
    from kiosk import actions

    made = []
    for s in range(stations):
        station, token, code = actions.create_station(name=f"bench-{s}")
        employee = Employee.objects.create(code=f"B{s:03d}", name=f"Bench {s}")
        Tag.objects.create(uid=f"04BE{s:08X}", employee=employee)
        tools = []
        for t in range(TOOLS_PER_STATION):
            item = Item.objects.create(code=f"BT{s:03d}-{t:02d}", name=f"Bench tool {s}-{t}")
            tools.append(Tag.objects.create(uid=f"1DBE{s:04X}{t:04X}", item=item).uid)
        made.append(
            {
                "id": station.pk,
                "token": token,
                "code": code,
                "badge": f"04BE{s:08X}",
                "tools": tools,
            }
        )
    return made


class Http:
    """A minimal keep-alive HTTP/1.1 client on asyncio streams (one per station)."""

    def __init__(self, host, port):
        self.host, self.port = host, port
        self.reader = self.writer = None

    async def request(self, method, path, body=b"", headers=None):
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}", f"Content-Length: {len(body)}"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        await self.writer.drain()
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        length, response_headers = 0, {}
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            response_headers[name.lower()] = value.strip()
            if name.lower() == "content-length":
                length = int(value)
        payload = await self.reader.readexactly(length) if length else b""
        return status, response_headers, payload


async def open_screen(server, station, port=None) -> websockets.ClientConnection:
    host, port = "127.0.0.1", port or server.ports[0]
    http = Http(host, port)
    status, headers, _ = await http.request("POST", f"/kiosk/pair/{station['code']}/")
    assert status == 302, status
    cookie = headers["set-cookie"].split(";")[0]
    return await websockets.connect(
        f"ws://{host}:{port}/ws/kiosk/",
        additional_headers={"Cookie": cookie},
        origin=f"http://{host}:{port}",
        max_size=None,
    )


class Station:
    def __init__(self, server, fixture, port=None):
        self.fixture = fixture
        self.http = Http("127.0.0.1", port or server.ports[0])
        self.sent: dict[str, float] = {}
        self.latencies: list[float] = []
        self.next_tool = 0
        self.waiters: dict[str, asyncio.Future] = {}

    async def listen(self, ws):
        async for message in ws:
            now = time.perf_counter()
            match = SCAN_ID.search(message)
            if match and match.group(1) in self.sent:
                scan = match.group(1)
                self.latencies.append((now - self.sent.pop(scan)) * 1000)
                if scan in self.waiters:
                    self.waiters.pop(scan).set_result(None)

    async def tap(self, uid, wait=False):
        scan = str(uuid.uuid4())
        now = datetime.now(UTC).isoformat()
        body = json.dumps(
            {"sent_at": now, "events": [{"id": scan, "uid": uid, "read_at": now}]}
        ).encode()
        arrived = asyncio.get_running_loop().create_future()
        if wait:
            self.waiters[scan] = arrived
        self.sent[scan] = time.perf_counter()
        status, _, payload = await self.http.request(
            "POST",
            "/api/v1/kiosk/scans",
            body,
            {
                "Content-Type": "application/json",
                "Authorization": f"Station {self.fixture['token']}",
            },
        )
        assert status == 200, payload
        if wait:
            # The fragment may arrive before the POST's own response does.
            await asyncio.wait_for(arrived, 5)

    def next_tool_uid(self):
        uid = self.fixture["tools"][self.next_tool % TOOLS_PER_STATION]
        self.next_tool += 1
        return uid


async def run_load(stations, rate_per_station, seconds):
    """Every station taps its tools (borrow, then return on the next round) at the rate."""
    await asyncio.sleep(2)  # let what the previous load left in flight settle first
    for station in stations:
        station.latencies.clear()
    interval = 1 / rate_per_station

    async def drive(station, phase):
        # Stations tap at their own moments, as people do; started together, every tick would
        # be a burst of len(stations) simultaneous taps rather than the rate asked for.
        start = began + phase * interval
        await asyncio.sleep(max(0, start - time.perf_counter()))
        n = 0
        while time.perf_counter() - start < seconds:
            await station.tap(station.next_tool_uid())
            n += 1
            await asyncio.sleep(max(0, start + n * interval - time.perf_counter()))

    began = time.perf_counter()
    await asyncio.gather(*(drive(s, i / len(stations)) for i, s in enumerate(stations)))
    await asyncio.sleep(0.5)  # let the last fragments arrive
    samples = [ms for s in stations for ms in s.latencies]
    lost = sum(len(s.sent) for s in stations)
    result = percentiles(samples)
    # Each station taps for `seconds` from its own start, so together they ran that long.
    result.update({"scans_per_s": round(len(samples) / seconds, 1), "unanswered": lost})
    return result


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return round(int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024, 1)


async def django_request_floor(server, clients=20, seconds=5) -> dict:
    """GET /healthz: one at a time for the latency, then `clients` keep-alive connections
    asking as fast as answered, for the most requests one daphne process serves."""
    http = Http("127.0.0.1", server.ports[0])
    latencies = []
    for _ in range(310):
        started = time.perf_counter()
        await http.request("GET", "/healthz")
        latencies.append((time.perf_counter() - started) * 1000)
    out = percentiles(latencies[10:])

    connections = [Http("127.0.0.1", server.ports[0]) for _ in range(clients)]
    answered = 0

    async def ask(connection):
        nonlocal answered
        while time.perf_counter() < until:
            await connection.request("GET", "/healthz")
            answered += 1

    pid = server.processes[0].pid
    cpu, until = cpu_seconds(pid), time.perf_counter() + seconds
    await asyncio.gather(*(ask(c) for c in connections))
    out["requests_per_s"] = round(answered / seconds)
    out["daphne_cpu_ms_per_request"] = round((cpu_seconds(pid) - cpu) * 1000 / answered, 2)
    return out


async def group_send_floor(server, station_fixture, ws, samples=200):
    """This process → Redis → daphne → the screen: the channel layer's own cost."""
    from channels.layers import get_channel_layer

    from kiosk.broadcast import group_name

    layer = get_channel_layer()
    latencies = []
    for i in range(samples):
        marker = f'data-scan="floor-{i}"'
        started = time.perf_counter()
        await layer.group_send(
            group_name(station_fixture["id"], "ja"),
            {"type": "kiosk.update", "html": marker},
        )
        while marker not in await ws.recv():
            pass
        latencies.append((time.perf_counter() - started) * 1000)
    return percentiles(latencies[10:])


def psycopg_floor(server, station_fixture, samples=300):
    """The same reads and writes as one borrow tap, as bare SQL in one transaction."""
    import psycopg

    url = server.env["DATABASE_URL"]
    latencies = []
    with psycopg.connect(url) as conn:
        # The spare station's person and tools: nobody else touches them during the run.
        employee_id = conn.execute(
            "SELECT id FROM employees_employee WHERE code = 'B020'"
        ).fetchone()[0]
        items = [r[0] for r in conn.execute("SELECT id FROM items_item WHERE code LIKE 'BT020-%'")]
        conn.commit()
        for i in range(samples):
            item_id = items[i % len(items)]
            started = time.perf_counter()
            with conn.transaction():
                conn.execute(
                    "SELECT * FROM kiosk_station WHERE id = %s FOR UPDATE", [station_fixture["id"]]
                )
                conn.execute("SELECT id FROM kiosk_scanevent WHERE id = %s", [uuid.uuid4()])
                conn.execute("SELECT * FROM items_tag WHERE uid = %s AND active", ["1DBE00000000"])
                conn.execute("SELECT * FROM items_item WHERE id = %s FOR UPDATE", [item_id])
                conn.execute(
                    "SELECT * FROM employees_employee WHERE id = %s FOR UPDATE", [employee_id]
                )
                conn.execute(
                    "SELECT id FROM loans_loan WHERE item_id = %s AND returned_at IS NULL "
                    "AND cancelled_at IS NULL",
                    [item_id],
                )
                loan_id = conn.execute(
                    "INSERT INTO loans_loan (item_id, employee_id, borrowed_at, due_at, door, "
                    "return_condition, note) VALUES (%s, %s, now(), now() + interval '1 hour', "
                    "'kiosk', '', '') RETURNING id",
                    [item_id, employee_id],
                ).fetchone()[0]
                conn.execute(
                    "INSERT INTO loans_loanevent (loan_id, kind, at, recorded_at, door, username, "
                    "station_name, employee_code, employee_name, item_code, item_name, details) "
                    "VALUES (%s, 'borrow', now(), now(), 'kiosk', '', '', 'x', 'x', 'x', 'x', "
                    "'{}')",
                    [loan_id],
                )
                conn.execute(
                    "INSERT INTO kiosk_scanevent (id, station_id, uid, read_at_raw, read_at, "
                    "received_at, status, outcome, message, live) VALUES (%s, %s, 'X', now(), "
                    "now(), now(), 'applied', 'borrowed', '', true)",
                    [uuid.uuid4(), station_fixture["id"]],
                )
                conn.execute(
                    "UPDATE kiosk_station SET last_seen_at = now() WHERE id = %s",
                    [station_fixture["id"]],
                )
                # Undo it so the floor never trips the one-open-loan rule on the next round.
                conn.execute("UPDATE loans_loan SET returned_at = now() WHERE id = %s", [loan_id])
            latencies.append((time.perf_counter() - started) * 1000)
    return percentiles(latencies[10:])


async def bench(layer: str, quick: bool, processes: int = 1, profile: str = "") -> dict:
    redis = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    # Sessions that outlast the run, so every tool tap is a borrow or a return.
    env = {"REDIS_URL": redis if layer == "redis" else "", "KIOSK_SESSION_SECONDS": "3600"}
    # daphne's memory as the systemd units and compose run it (deploy/README.md says why).
    service = {"MALLOC_ARENA_MAX": "2"}
    server = LiveServer(f"bench_{layer}", env=env, processes=processes, service_env=service)
    server.setup()
    fixtures = build_fixtures(server, 21)
    server.start()
    try:
        # With several processes, a station posts to one and its screen listens on another:
        # the push crosses processes through Redis, as behind a load balancer.
        ports = server.ports
        stations = [Station(server, f, ports[i % len(ports)]) for i, f in enumerate(fixtures[:20])]
        screens = [
            await open_screen(server, f, ports[(i + 1) % len(ports)])
            for i, f in enumerate(fixtures[:20])
        ]
        listeners = [
            asyncio.create_task(s.listen(ws)) for s, ws in zip(stations, screens, strict=True)
        ]
        solo = stations[0]
        out = {"layer": layer, "daphne_processes": processes}

        # Each station's person badges in once; the session outlasts the run (see env).
        for station in stations:
            await station.tap(station.fixture["badge"], wait=True)

        # 1 station, one tap at a time: borrow and return its tools in turn.
        solo.latencies.clear()
        daphne = server.processes[0].pid
        taps, cpu = 60 if quick else 300, cpu_seconds(daphne)
        # py-spy samples daphne through this phase: where one tap's CPU goes, in the collapsed
        # stacks format (one line per stack and its sample count).
        spy = profile and subprocess.Popen(
            [
                *(Path(sys.executable).with_name("py-spy"), "record", "--pid", str(daphne)),
                *("--format", "raw", "--rate", "500", "--gil", "--nonblocking", "-o", profile),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(taps):
            await solo.tap(solo.next_tool_uid(), wait=True)
            await asyncio.sleep(0.02)
        if spy:
            spy.send_signal(signal.SIGINT)
            spy.wait()
        out["one_station"] = percentiles(solo.latencies[10:])
        # With one daphne process, its CPU per tap bounds the taps per second it can take.
        out["one_station"]["daphne_cpu_ms_per_tap"] = round(
            (cpu_seconds(daphne) - cpu) * 1000 / taps, 2
        )

        seconds = 5 if quick else 15
        out["twenty_stations_2_per_s"] = await run_load(stations, 2, seconds)

        sustained = []
        # From a trickle up, until p99 passes 100 ms: the last rate below is the answer.
        rates = (10, 20, 50, 100, 200) if quick else (5, 10, 15, 20, 30, 50, 100, 200, 300, 500)
        for total in rates:
            # Long enough for a p99 that is not just the slowest tap or two.
            seconds = max(5, 100 / total) if quick else max(8, 300 / total)
            run = await run_load(stations, total / len(stations), seconds)
            run["offered_per_s"] = total
            sustained.append(run)
            if run["p99_ms"] > 100 or run["unanswered"]:
                break
        out["sustained"] = sustained
        # After the busiest run: what each web process holds (target: 120 MB at most).
        out["daphne_rss_mb"] = [rss_mb(p.pid) for p in server.processes]
        ok = [r for r in sustained if r["p99_ms"] <= 100 and not r["unanswered"]]
        out["highest_scans_per_s_with_p99_under_100ms"] = max(
            (r["scans_per_s"] for r in ok), default=0
        )

        out["floor_psycopg_transaction"] = psycopg_floor(server, fixtures[20])
        out["floor_django_request"] = await django_request_floor(server)
        if layer == "redis":
            floor_ws = await open_screen(server, fixtures[20])
            out["floor_group_send_to_ws"] = await group_send_floor(server, fixtures[20], floor_ws)
            await floor_ws.close()
        else:
            out["floor_group_send_to_ws"] = (
                "n/a: the in-memory layer cannot be reached from outside daphne"
            )
        for task in listeners:
            task.cancel()
        for ws in screens:
            await ws.close()
        return out
    finally:
        server.remove()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--layer", choices=["redis", "memory", "both"], default="both")
    parser.add_argument(
        "--processes", type=int, default=1, help="daphne processes (Redis layer only beyond 1)"
    )
    parser.add_argument(
        "--profile", metavar="FILE", help="py-spy's samples of daphne during the one-station run"
    )
    args = parser.parse_args()
    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/toolcrib_bench")
    results = {"cpu_count": os.cpu_count(), "database": "postgresql"}
    layers = ["redis", "memory"] if args.layer == "both" else [args.layer]
    # Each layer in a fresh interpreter: Django settings are read once per process.
    if len(layers) > 1:
        for layer in layers:
            out = subprocess.run(
                [sys.executable, __file__, "--layer", layer, *(["--quick"] if args.quick else [])],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            results[layer] = json.loads(out)[layer]
    else:
        results[layers[0]] = asyncio.run(bench(layers[0], args.quick, args.processes, args.profile))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
