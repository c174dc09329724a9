import http.client
import json
import socket
from datetime import UTC, datetime

import pytest

from agent.outbox import DELIVERED, Settlement
from agent.state import AgentState
from agent.status import StatusServer
from tests.agent.conftest import free_port

ORIGIN = "https://toolcrib.local"
T0 = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)


@pytest.fixture
def server(outbox):
    state = AgentState()
    status_server = StatusServer(free_port(), ORIGIN, state, outbox)
    status_server.start()
    yield status_server
    status_server.shutdown()
    status_server.server_close()


def request(server, method="GET", path="/status", headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=5)
    connection.request(method, path, headers=headers or {})
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response, json.loads(body) if body else None


def test_answers_the_kiosk_page_with_the_offline_picture(server, outbox):
    server.state.reader(True, "Sony RC-S300", None)
    first = outbox.add("01010101", T0)
    outbox.settle([Settlement(first.id, DELIVERED, "borrowed", "ok")])
    second = outbox.add("02020202", T0)

    response, document = request(server)

    assert response.status == 200
    assert response.getheader("Content-Type") == "application/json"
    assert response.getheader("Cache-Control") == "no-store"
    assert document["reader_connected"] is True
    assert document["reader_name"] == "Sony RC-S300"
    assert document["outbox_depth"] == 1
    assert document["oldest_pending_seconds"] > 0
    assert document["token_rejected"] is False
    assert document["server_reachable"] is False
    assert document["last_error"] is None
    assert document["last_delivery_at"] is None
    assert document["agent_version"]
    assert document["recent"] == [
        {
            "id": second.id,
            "uid": "02020202",
            "read_at": "2026-11-23T07:00:00.000000Z",
            "state": "pending",
        },
        {
            "id": first.id,
            "uid": "01010101",
            "read_at": "2026-11-23T07:00:00.000000Z",
            "state": "delivered",
        },
    ]


def test_lists_only_the_ten_newest_reads(server, outbox):
    for n in range(15):
        outbox.add(f"{n:08X}", T0)

    _, document = request(server)

    assert [r["uid"] for r in document["recent"]] == [f"{n:08X}" for n in range(14, 4, -1)]


def test_allows_the_configured_server_origin_to_read_it(server):
    response, _ = request(server, headers={"Origin": ORIGIN})

    assert response.getheader("Access-Control-Allow-Origin") == ORIGIN
    assert response.getheader("Vary") == "Origin"


@pytest.mark.parametrize("origin", ["https://evil.example", "http://toolcrib.local", "null"])
def test_gives_no_cors_permission_to_any_other_origin(server, origin):
    response, _ = request(server, headers={"Origin": origin})

    assert response.status == 200
    assert response.getheader("Access-Control-Allow-Origin") is None


def test_answers_a_private_network_preflight_only_for_the_server_origin(server):
    preflight = {
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Private-Network": "true",
    }

    allowed, _ = request(server, "OPTIONS", headers={"Origin": ORIGIN, **preflight})
    other, _ = request(server, "OPTIONS", headers={"Origin": "https://evil.example", **preflight})

    assert allowed.status == 204
    assert allowed.getheader("Access-Control-Allow-Private-Network") == "true"
    assert allowed.getheader("Access-Control-Allow-Origin") == ORIGIN
    assert other.getheader("Access-Control-Allow-Private-Network") is None
    assert other.getheader("Access-Control-Allow-Origin") is None


def test_other_paths_are_not_found(server):
    response, document = request(server, path="/queue")

    assert response.status == 404
    assert "error" in document


def test_is_bound_to_loopback_only(server):
    port = server.server_address[1]

    assert server.server_address[0] == "127.0.0.1"
    # 127.0.0.2 reaches this machine too, so a refusal there proves it is not bound to 0.0.0.0.
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.2", port), timeout=2)


@pytest.mark.parametrize("method", ["GET", "OPTIONS"])
def test_a_host_other_than_loopback_is_refused(server, outbox, method):
    outbox.add("01010101", T0)
    port = server.server_address[1]

    response, document = request(server, method, headers={"Host": f"evil.example:{port}"})

    assert response.status == 421
    assert "01010101" not in json.dumps(document)
    assert request(server, headers={"Host": f"localhost:{port}"})[0].status == 200
