"""`python -m agent` as a whole process with READER=stdin, against the fake server."""

import re
import signal
import subprocess
import sys

from tests.agent.conftest import REPO, AgentProcess, free_port, wait_until
from tests.agent.fake_server import FakeServer


def run_cli(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "agent", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_taps_reach_the_server_in_order_and_exactly_once(start_agent, fake_server):
    agent = start_agent(stdin=True)
    agent.wait_for_status(lambda s: s["reader_connected"])

    uids = [f"04A1B2C3{n:06X}" for n in range(30)]
    agent.tap(*uids)

    wait_until(lambda: len(fake_server.applied) >= 30)
    agent.wait_for_status(lambda s: s["outbox_depth"] == 0)
    assert fake_server.applied_uids() == uids
    assert len({e["id"] for e in fake_server.applied}) == 30


def test_a_tap_wakes_the_sender_of_an_idle_agent(start_agent, fake_server):
    # Nothing else wakes this agent (no heartbeat for an hour, nothing waiting): an agent that
    # waited for a poll or the next heartbeat would never send. How fast a tap arrives is
    # measured by tests/perf/agent_tap_latency.py.
    agent = start_agent(stdin=True, HEARTBEAT_SECONDS="3600")
    agent.wait_for_status(lambda s: s["server_reachable"])

    for n in range(3):
        agent.tap(f"0A0B0C{n:02X}")
        wait_until(lambda n=n: len(fake_server.applied) == n + 1)


def test_the_same_uid_twice_within_the_debounce_window_is_one_tap(start_agent, fake_server):
    agent = start_agent(stdin=True, DEBOUNCE_SECONDS="5")

    agent.tap("01010101", "01010101", "02020202")

    wait_until(lambda: len(fake_server.applied) == 2)
    agent.wait_for_log("ignored uid=01010101: repeat")
    assert fake_server.applied_uids() == ["01010101", "02020202"]


def test_sigterm_stops_it_cleanly(start_agent):
    agent = start_agent(stdin=True)
    agent.wait_for_status(lambda s: s["reader_connected"])

    agent.process.send_signal(signal.SIGTERM)

    assert agent.process.wait(10) == 0
    agent.wait_for_log("INFO agent: stopped")


def test_taps_saved_while_the_server_is_down_are_sent_when_it_is_back(start_agent, fake_server):
    port = fake_server.server_address[1]
    fake_server.stop()
    agent = start_agent(stdin=True)
    agent.tap("01010101", "02020202")

    status = agent.wait_for_status(lambda s: s["outbox_depth"] == 2 and s["last_error"])
    assert status["server_reachable"] is False
    assert status["last_error"].startswith("server unreachable")
    assert [r["state"] for r in status["recent"]] == ["pending", "pending"]

    server = FakeServer(port).start()
    try:
        # the sender is backing off by now; a new tap wakes it at once
        agent.tap("03030303")
        wait_until(lambda: len(server.applied) == 3, timeout=35)
        assert server.applied_uids() == ["01010101", "02020202", "03030303"]
        agent.wait_for_status(lambda s: s["outbox_depth"] == 0 and s["last_error"] is None)
    finally:
        server.stop()


def test_taps_left_by_a_killed_agent_are_sent_by_the_next_one(start_agent, fake_server, agent_env):
    fake_server.forced = [503] * 1000
    first = start_agent(stdin=True)
    first.tap("01010101", "02020202")
    first.wait_for_status(lambda s: s["outbox_depth"] == 2)
    first.process.send_signal(signal.SIGKILL)
    first.process.wait(5)
    fake_server.forced.clear()

    start_agent()

    wait_until(lambda: len(fake_server.applied) == 2)
    assert fake_server.applied_uids() == ["01010101", "02020202"]


def test_a_rejected_token_is_reported_on_the_status_endpoint(start_agent, fake_server):
    fake_server.token = "a-different-token"
    agent = start_agent(stdin=True)
    agent.tap("01010101")

    status = agent.wait_for_status(lambda s: s["token_rejected"])

    assert status["outbox_depth"] == 1
    assert "ERROR agent: token: TOKEN REJECTED (401)" in agent.log()


def test_configuration_errors_exit_2_with_one_line_each(agent_env):
    env = {
        **agent_env,
        "SERVER_URL": "http://toolcrib.local",
        "ALLOW_INSECURE_HTTP": "0",
        "BATCH_MAX": "1000",
    }

    result = run_cli(env)

    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "configuration error: SERVER_URL: http://toolcrib.local is plain http; the station "
        "token would travel in clear text. Use https, or set ALLOW_INSECURE_HTTP=1 for a test "
        "set-up",
        "configuration error: BATCH_MAX: 1000 must be between 1 and 500",
    ]


def test_reads_settings_from_an_env_file(agent_env, tmp_path, fake_server):
    env_file = tmp_path / "agent.env"
    env_file.write_text(f"SERVER_URL={fake_server.url}\nSTATION_TOKEN=wrong\n")
    env = {k: v for k, v in agent_env.items() if k not in ("SERVER_URL", "STATION_TOKEN")}

    result = run_cli({**env, "AGENT_ENV_FILE": str(env_file)}, "check")

    assert result.returncode == 1
    assert "server:           FAILED: TOKEN REJECTED (401)" in result.stdout


def test_check_passes_when_everything_is_in_place(agent_env, fake_server):
    result = run_cli(agent_env, "check")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "reader:           ok (stdin)" in result.stdout
    assert "server:           ok (heartbeat accepted)" in result.stdout
    assert fake_server.heartbeats[0]["reader_name"] == "stdin"


def test_check_fails_with_the_reason_when_the_server_is_unreachable(agent_env):
    result = run_cli({**agent_env, "SERVER_URL": f"http://127.0.0.1:{free_port()}"}, "check")

    assert result.returncode == 1
    assert "server:           FAILED: server unreachable: [Errno 111] Connection refused" in (
        result.stdout
    )


def test_status_shows_the_running_agent(start_agent, agent_env, fake_server):
    fake_server.forced = [503] * 1000
    agent = start_agent(stdin=True)
    agent.tap("04A1B2C3D4E5F6")
    agent.wait_for_status(lambda s: s["outbox_depth"] == 1)

    result = run_cli(agent_env, "status")

    assert result.returncode == 0
    assert "reader:           stdin" in result.stdout
    assert "server:           NOT reachable" in result.stdout
    assert "outbox waiting:   1" in result.stdout
    assert "last error:       server unavailable (503)" in result.stdout
    assert re.search(r"^can replay since: \d{4}-\d\d-\d\dT", result.stdout, re.M)
    assert "04A1B2C3D4E5F6" in result.stdout


def test_status_reads_the_outbox_when_the_agent_is_not_running(start_agent, agent_env):
    agent = start_agent(stdin=True, SERVER_URL=f"http://127.0.0.1:{free_port()}")
    agent.tap("01010101")
    agent.wait_for_status(lambda s: s["outbox_depth"] == 1)
    agent.stop()

    result = run_cli(agent_env, "status")

    assert result.returncode == 3
    assert "agent:            not running" in result.stdout
    assert "outbox waiting:   1" in result.stdout
    assert re.search(r"^can replay since: \d{4}-\d\d-\d\dT", result.stdout, re.M)


def test_a_busy_status_port_is_a_clear_error(agent_env):
    first = AgentProcess(agent_env)
    try:
        wait_until(first.status)
        result = run_cli({**agent_env, "OUTBOX_PATH": agent_env["OUTBOX_PATH"] + "2"})
    finally:
        first.stop()

    assert result.returncode == 1
    assert f"port {agent_env['STATUS_PORT']} on 127.0.0.1 is in use" in result.stderr


def test_logs_without_timestamps_under_systemd(start_agent, agent_env):
    agent = start_agent(JOURNAL_STREAM="8:12345")

    line = agent.wait_for_log("starting")

    assert line.startswith("INFO agent: toolcrib agent")
