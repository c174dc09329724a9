"""The real sender and HTTP transport against a fake server over a real socket."""

import ssl
import subprocess
from datetime import UTC, datetime

import pytest

from agent.outbox import DELIVERED, Outbox
from agent.sender import Backoff, Sender
from agent.state import AgentState
from agent.transport import HttpTransport
from tests.agent.fake_server import TOKEN, FakeServer

T0 = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)


def sender_for(server: FakeServer, outbox: Outbox, batch_max=100, ca_bundle=None) -> Sender:
    transport = HttpTransport(server.url, TOKEN, ca_bundle)
    return Sender(outbox, transport, AgentState(), batch_max, Backoff(rng=lambda: 1.0))


def drain(sender: Sender) -> None:
    for _ in range(100):
        if sender.send_once() is None:
            return
    raise AssertionError("the outbox did not drain")


def test_events_arrive_in_order_exactly_once_with_the_station_token(fake_server, outbox):
    uids = [f"04{n:012X}" for n in range(25)]
    for uid in uids:
        outbox.add(uid, T0)

    drain(sender_for(fake_server, outbox, batch_max=10))

    assert fake_server.applied_uids() == uids
    assert [len(r["body"]["events"]) for r in fake_server.scan_requests] == [10, 10, 5]
    headers = fake_server.scan_requests[0]["headers"]
    assert headers["Authorization"] == f"Station {TOKEN}"
    assert headers["Content-Type"] == "application/json"
    assert outbox.count(DELIVERED) == 25


def test_batches_share_one_kept_alive_connection(fake_server, outbox):
    sender = sender_for(fake_server, outbox, batch_max=1)
    for uid in ("01010101", "02020202", "03030303"):
        outbox.add(uid, T0)

    drain(sender)

    assert fake_server.connections == 1


def test_a_connection_the_server_closed_while_idle_is_replaced_without_backing_off(
    fake_server, outbox
):
    fake_server.drop_after_answer = True
    sender = sender_for(fake_server, outbox)
    outbox.add("01010101", T0)
    drain(sender)

    outbox.add("02020202", T0)
    delay = sender.send_once()

    assert delay == 0
    assert fake_server.applied_uids() == ["01010101", "02020202"]
    assert sender.backoff.attempts == 0


def test_a_lost_answer_is_resent_and_the_server_sees_a_duplicate_not_a_second_tap(
    fake_server, outbox
):
    fake_server.lose_answers = 1
    outbox.add("01010101", T0)
    sender = sender_for(fake_server, outbox)

    assert sender.send_once() == 0.5  # applied on the server, but the agent never heard
    assert outbox.depth() == 1
    drain(sender)

    assert fake_server.applied_uids() == ["01010101"]
    assert len(fake_server.scan_requests) == 2
    assert outbox.recent(10)[0].message == "already recorded"


def test_events_wait_while_the_server_is_down_and_go_when_it_is_back(fake_server, outbox):
    port = fake_server.server_address[1]
    sender = sender_for(fake_server, outbox)
    fake_server.stop()
    outbox.add("01010101", T0)

    assert sender.send_once() == 0.5
    assert not sender.state.server_reachable
    assert outbox.depth() == 1

    replacement = FakeServer(port).start()
    try:
        drain(sender)
        assert replacement.applied_uids() == ["01010101"]
        assert sender.state.server_reachable
    finally:
        replacement.stop()


@pytest.fixture(scope="module")
def private_ca(tmp_path_factory) -> dict:
    """A CA like Caddy's internal one, and a server certificate for localhost signed by it."""
    folder = tmp_path_factory.mktemp("pki")

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)

    openssl(
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "2",
        "-subj",
        "/CN=Test Local CA",
        # Python 3.13 verifies strictly (VERIFY_X509_STRICT): a CA needs these, as Caddy's has.
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    )
    openssl(
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=localhost",
    )
    (folder / "san.ext").write_text(
        "subjectAltName=DNS:localhost\n"
        "authorityKeyIdentifier=keyid\n"
        "keyUsage=critical,digitalSignature\n"
        "extendedKeyUsage=serverAuth\n"
    )
    openssl(
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.crt",
        "-days",
        "2",
        "-extfile",
        "san.ext",
    )
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(folder / "server.crt", folder / "server.key")
    return {"ca": folder / "ca.crt", "tls": tls}


def test_https_works_with_the_private_ca_from_ca_bundle(private_ca, outbox):
    server = FakeServer(tls=private_ca["tls"]).start()
    try:
        outbox.add("01010101", T0)
        drain(sender_for(server, outbox, ca_bundle=private_ca["ca"]))
        assert server.applied_uids() == ["01010101"]
    finally:
        server.stop()


def test_https_without_the_private_ca_is_refused_with_a_hint(private_ca, outbox):
    server = FakeServer(tls=private_ca["tls"]).start()
    try:
        outbox.add("01010101", T0)
        sender = sender_for(server, outbox)

        sender.send_once()

        assert outbox.depth() == 1
        assert "TLS certificate not trusted" in sender.state.last_error
        assert "CA_BUNDLE" in sender.state.last_error
    finally:
        server.stop()
