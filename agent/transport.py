"""JSON over HTTP(S) to the server on one kept-alive connection, standard library only."""

import http.client
import json
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from agent import __version__

TIMEOUT_SECONDS = 10.0
# What Caddy answers while the server behind it is down or restarting: as good as unreachable.
GATEWAY_ERRORS = frozenset({502, 503, 504})
# The server (or Caddy in front of it) closes idle keep-alive connections; the first request after
# that fails on the dead socket without reaching the server, so it is retried once on a fresh one.
# Resending after a failure is always safe: the server deduplicates scan events by id.
_STALE_CONNECTION = (
    http.client.RemoteDisconnected,
    http.client.BadStatusLine,
    ConnectionResetError,
    BrokenPipeError,
    ConnectionAbortedError,
)


class TransportError(Exception):
    """The server could not be reached or did not answer with HTTP."""


@dataclass(frozen=True)
class Response:
    status: int
    body: Any  # the decoded JSON, or None when the answer was not JSON
    text: str


class Transport(Protocol):
    def post(self, path: str, payload: dict) -> Response: ...


class HttpTransport:
    def __init__(self, server_url: str, token: str, ca_bundle: Path | None = None):
        parts = urlsplit(server_url)
        self.https = parts.scheme == "https"
        # http.client wants an IPv6 literal in brackets, as in the URL; urlsplit strips them.
        self.host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        self.port = parts.port
        self.base_path = parts.path.rstrip("/")
        self.headers = {
            "Authorization": f"Station {token}",
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": f"toolcrib-agent/{__version__}",
        }
        self.tls = None
        if self.https:
            cafile = str(ca_bundle) if ca_bundle else None
            self.tls = ssl.create_default_context(cafile=cafile)
        self._connection: http.client.HTTPConnection | None = None
        self._used = False

    def post(self, path: str, payload: dict) -> Response:
        body = json.dumps(payload, separators=(",", ":")).encode()
        reused = self._connection is not None and self._used
        try:
            return self._exchange(path, body)
        except _STALE_CONNECTION as exc:
            self.close()
            if not reused:
                raise TransportError(_reason(exc)) from exc
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            raise TransportError(_reason(exc)) from exc
        try:
            return self._exchange(path, body)
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            raise TransportError(_reason(exc)) from exc

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
        self._connection, self._used = None, False

    def _exchange(self, path: str, body: bytes) -> Response:
        if self._connection is None:
            if self.https:
                self._connection = http.client.HTTPSConnection(
                    self.host, self.port, timeout=TIMEOUT_SECONDS, context=self.tls
                )
            else:
                self._connection = http.client.HTTPConnection(
                    self.host, self.port, timeout=TIMEOUT_SECONDS
                )
        self._connection.request("POST", self.base_path + path, body=body, headers=self.headers)
        answer = self._connection.getresponse()
        raw = answer.read()  # read fully, or the connection cannot carry the next request
        self._used = True
        if answer.will_close:
            self.close()
        text = raw.decode("utf-8", "replace")
        try:
            decoded = json.loads(text) if text else None
        except ValueError:
            decoded = None
        return Response(status=answer.status, body=decoded, text=text)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS certificate not trusted ({exc.verify_message}); check CA_BUNDLE"
    return str(exc) or type(exc).__name__
