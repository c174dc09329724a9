"""A TCP proxy that a test controls, to put faults between the server and what it depends on.

Placed in front of the real PostgreSQL or Redis (or in front of several web processes, which it
then balances round-robin like Caddy does), it forwards bytes both ways until told otherwise:

- `cut()`: every connection is closed and new ones are refused, as when the service stops or
  its host goes away with a reset.
- `pause()`: connections are accepted but no byte moves in either direction; what was sent
  waits, as when packets are held on a congested or broken link.
- `restore()`: back to forwarding (held bytes are then delivered).

It also measures every exchange on the client side: from the moment a client sent bytes that
were not yet answered to the first byte of the answer (or to the connection's end), so a test
can tell how long any request waited, whatever the client. A connection upgraded to a
WebSocket is measured up to its handshake's answer only.

One thread runs everything with a selector; nothing here blocks on a socket.
"""

import contextlib
import errno
import selectors
import socket
import threading
import time
import traceback
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

FORWARDING, PAUSED, CUT = "forwarding", "paused", "cut"
_CHUNK = 64 * 1024


@dataclass(eq=False)
class _Pipe:
    """One client connection and its upstream, with the bytes each side has yet to receive."""

    client: socket.socket
    upstream: socket.socket
    to_upstream: bytearray = field(default_factory=bytearray)
    to_client: bytearray = field(default_factory=bytearray)
    waiting_since: float | None = None  # the client's unanswered bytes arrived then
    asked: bytes = b""  # the first line of what the client is waiting on (an HTTP request line)
    upgraded: bool = False  # a WebSocket now: its frames are no requests, nothing is measured
    closing: bool = False


class FaultProxy:
    def __init__(self, *upstreams: tuple[str, int], host: str = "127.0.0.1", port: int = 0):
        if not upstreams:
            raise ValueError("a proxy needs at least one upstream")
        self.upstreams = list(upstreams)
        self.host = host
        self.port = port
        self.state = FORWARDING
        # (seconds, the request's first line) of each exchange, in the order they ended.
        self.waits: list[tuple[float, bytes]] = []
        self._next_upstream = 0
        self._pipes: dict[socket.socket, _Pipe] = {}
        self._listener: socket.socket | None = None
        self._selector = selectors.DefaultSelector()
        self._lock = threading.Lock()
        self._commands: list = []
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def in_front_of(cls, url: str) -> "FaultProxy":
        """A proxy for the service a `scheme://…@host:port/…` URL names."""
        parts = urlsplit(url)
        return cls((parts.hostname, parts.port))

    # The test's side ------------------------------------------------------------------------

    @property
    def address(self) -> tuple[str, int]:
        return self.host, self.port

    def url_for(self, url: str) -> str:
        """The same `scheme://user@host:port/path` URL with this proxy as host and port."""
        parts = urlsplit(url)
        user = f"{parts.username}@" if parts.username else ""
        if parts.password:
            user = f"{parts.username}:{parts.password}@"
        return urlunsplit(parts._replace(netloc=f"{user}{self.host}:{self.port}"))

    def start(self) -> "FaultProxy":
        self._listen()
        self._selector.register(self._wake_r, selectors.EVENT_READ, "wake")
        self._thread = threading.Thread(target=self._run, name=f"proxy:{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._call(self._shutdown)
        if self._thread is not None:
            self._thread.join(timeout=5)

    def cut(self) -> None:
        self._call(self._cut)

    def pause(self) -> None:
        self._call(self._set_state, PAUSED)

    def restore(self) -> None:
        self._call(self._restore)

    def connections(self) -> int:
        return len(self._pipes)

    def longest_waits(self, count: int = 5) -> list[tuple[float, bytes]]:
        """The longest waits so far, the exchanges still unanswered included."""
        now = time.monotonic()
        pending = [
            (now - pipe.waiting_since, pipe.asked)
            for pipe in list(self._pipes.values())
            if pipe.waiting_since is not None
        ]
        return sorted([*self.waits, *pending], reverse=True)[:count]

    def __enter__(self) -> "FaultProxy":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # The proxy's thread ---------------------------------------------------------------------

    def _call(self, function, *args) -> None:
        """Run `function` on the proxy's thread and wait until it has run."""
        done = threading.Event()
        with self._lock:
            self._commands.append((function, args, done))
        self._wake_w.send(b"x")
        if not done.wait(timeout=5) and self._thread and self._thread.is_alive():
            raise RuntimeError("the proxy did not carry out the command")

    def _listen(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self.port))
        listener.listen(128)
        listener.setblocking(False)
        self.port = listener.getsockname()[1]
        self._listener = listener

    def _run(self) -> None:
        if self._listener is not None:
            self._selector.register(self._listener, selectors.EVENT_READ, "accept")
        while not self._stopped.is_set():
            for key, events in self._selector.select(timeout=0.5):
                try:
                    if key.data == "wake":
                        self._run_commands()
                    elif key.data == "accept":
                        self._accept()
                    else:
                        self._service(key.data, key.fileobj, events)
                except Exception:  # one bad socket must not end the proxy for every other
                    traceback.print_exc()

    def _run_commands(self) -> None:
        with contextlib.suppress(BlockingIOError):
            while self._wake_r.recv(4096):
                pass
        with self._lock:
            commands, self._commands = self._commands, []
        for function, args, done in commands:
            try:
                function(*args)
            finally:
                done.set()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            upstream = self._connect_upstream()
            if upstream is None:
                client.close()  # no upstream answers: the client sees its connection end
                continue
            for sock in (client, upstream):
                sock.setblocking(False)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            pipe = _Pipe(client, upstream)
            self._pipes[client] = self._pipes[upstream] = pipe
            self._update(pipe)

    def _connect_upstream(self) -> socket.socket | None:
        """The next upstream that accepts a connection, round-robin (one upstream: that one)."""
        for _ in range(len(self.upstreams)):
            address = self.upstreams[self._next_upstream % len(self.upstreams)]
            self._next_upstream += 1
            try:
                return socket.create_connection(address, timeout=1)
            except OSError:
                continue
        return None

    def _interest(self, pipe: _Pipe, sock: socket.socket) -> int:
        """Read from a side only while forwarding (paused: bytes wait in the kernel's buffers);
        write to it while something is queued for it."""
        outgoing = pipe.to_client if sock is pipe.client else pipe.to_upstream
        events = 0
        if self.state == FORWARDING and not pipe.closing:
            events |= selectors.EVENT_READ
        if outgoing and self.state == FORWARDING:
            events |= selectors.EVENT_WRITE
        return events

    def _update(self, pipe: _Pipe) -> None:
        for sock in (pipe.client, pipe.upstream):
            events = self._interest(pipe, sock)
            registered = sock in self._selector.get_map()
            if events and registered:
                self._selector.modify(sock, events, pipe)
            elif events:
                self._selector.register(sock, events, pipe)
            elif registered:
                self._selector.unregister(sock)

    def _service(self, pipe: _Pipe, sock: socket.socket, events: int) -> None:
        if sock not in self._pipes:
            return
        from_client = sock is pipe.client
        if events & selectors.EVENT_READ:
            try:
                data = sock.recv(_CHUNK)
            except (BlockingIOError, InterruptedError):
                data = None
            except OSError:
                data = b""
            if data == b"":
                pipe.closing = True
            elif data:
                if from_client:
                    pipe.to_upstream += data
                    if pipe.waiting_since is None and not pipe.upgraded:
                        pipe.waiting_since = time.monotonic()
                        pipe.asked = data.split(b"\r\n", 1)[0][:100]
                else:
                    pipe.to_client += data
                    self._answered(pipe)
                    pipe.upgraded = pipe.upgraded or data.startswith(b"HTTP/1.1 101")
        if events & selectors.EVENT_WRITE:
            outgoing = pipe.to_client if from_client else pipe.to_upstream
            try:
                sent = sock.send(outgoing)
                del outgoing[:sent]
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:
                pipe.closing = True
        if pipe.closing and not pipe.to_client and not pipe.to_upstream:
            self._close(pipe)
            return
        if pipe.closing:
            # One side ended: deliver what the other side is owed, then end it too.
            for side, queued in ((pipe.client, pipe.to_client), (pipe.upstream, pipe.to_upstream)):
                if queued:
                    with contextlib.suppress(OSError):
                        side.setblocking(True)
                        side.settimeout(1)
                        side.sendall(queued)
                    queued.clear()
            self._close(pipe)
            return
        self._update(pipe)

    def _answered(self, pipe: _Pipe) -> None:
        if pipe.waiting_since is not None:
            self.waits.append((time.monotonic() - pipe.waiting_since, pipe.asked))
            pipe.waiting_since = None

    def _close(self, pipe: _Pipe, *, reset: bool = False) -> None:
        self._answered(pipe)
        for sock in (pipe.client, pipe.upstream):
            self._pipes.pop(sock, None)
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(sock)
            if reset:
                # SO_LINGER 0: the peer gets a reset at once, as from a host that went away.
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
            with contextlib.suppress(OSError):
                sock.close()

    def _set_state(self, state: str) -> None:
        self.state = state
        for pipe in set(self._pipes.values()):
            self._update(pipe)

    def _cut(self) -> None:
        self.state = CUT
        if self._listener is not None:
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(self._listener)
            self._listener.close()
            self._listener = None  # connecting now is refused by the kernel at once
        for pipe in set(self._pipes.values()):
            self._close(pipe, reset=True)

    def _restore(self) -> None:
        if self._listener is None:
            for attempt in range(50):
                try:
                    self._listen()
                    break
                except OSError as error:
                    if error.errno != errno.EADDRINUSE or attempt == 49:
                        raise
                    time.sleep(0.1)
            self._selector.register(self._listener, selectors.EVENT_READ, "accept")
        self._set_state(FORWARDING)

    def _shutdown(self) -> None:
        for pipe in set(self._pipes.values()):
            self._close(pipe)
        if self._listener is not None:
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(self._listener)
            self._listener.close()
            self._listener = None
        self._stopped.set()
