"""Looking at a kiosk must not break it: no root-owned files in the service's state directory."""

import os

from agent.outbox import Outbox, foreign_owner, utc_now
from tests.agent.test_agent_process import run_cli

SERVICE_UID = 65534  # "nobody", standing in for toolcrib-agent


def owned_by_someone_else(path) -> None:
    if os.geteuid() == 0:
        os.chown(path, SERVICE_UID, SERVICE_UID)
    # as an ordinary user, files are already someone else's than root's


def test_root_is_told_to_use_the_service_user_for_an_outbox_it_does_not_own(tmp_path):
    outbox = Outbox(tmp_path / "outbox.db")
    outbox.close()
    owned_by_someone_else(tmp_path / "outbox.db")

    problem = foreign_owner(tmp_path / "outbox.db", euid=0)

    assert problem.startswith(f"{tmp_path / 'outbox.db'} belongs to ")
    assert "run this as that user (sudo -u " in problem


def test_an_outbox_not_yet_created_is_judged_by_its_directory(tmp_path):
    owned_by_someone_else(tmp_path)

    assert foreign_owner(tmp_path / "outbox.db", euid=0) is not None
    assert foreign_owner(tmp_path / "outbox.db", euid=1000) is None


def test_check_never_creates_the_outbox(agent_env, fake_server, tmp_path):
    result = run_cli(agent_env, "check")

    assert result.returncode == 0, result.stdout
    assert "outbox:           ok (not created yet; the agent will)" in result.stdout
    assert not (tmp_path / "outbox.db").exists()


def test_check_reads_an_existing_outbox_without_writing_to_it(agent_env, fake_server, tmp_path):
    outbox = Outbox(tmp_path / "outbox.db")
    outbox.add("01020304", utc_now())
    outbox.close()
    before = (tmp_path / "outbox.db").read_bytes()

    result = run_cli(agent_env, "check")

    assert "outbox:           ok (1 waiting)" in result.stdout
    assert (tmp_path / "outbox.db").read_bytes() == before
    assert fake_server.heartbeats[0]["outbox_depth"] == 1
