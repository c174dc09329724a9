"""Looking at a kiosk must not break it: no root-owned files in the service's state directory."""

import os

import pytest

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


def test_root_may_look_at_an_outbox_root_owns(tmp_path):
    Outbox(tmp_path / "outbox.db").close()
    os.chown(tmp_path / "outbox.db", 0, 0)

    assert foreign_owner(tmp_path / "outbox.db", euid=0) is None


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file away")
def test_the_owner_is_named_or_numbered_when_it_has_no_name(tmp_path):
    named, numbered = tmp_path / "named.db", tmp_path / "numbered.db"
    for path, uid in ((named, SERVICE_UID), (numbered, 54321)):
        Outbox(path).close()
        os.chown(path, uid, uid)

    assert "belongs to nobody; run this as that user (sudo -u nobody ...)" in foreign_owner(named)
    assert "belongs to 54321; run this as that user (sudo -u 54321 ...)" in foreign_owner(numbered)
