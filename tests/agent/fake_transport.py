"""A Transport that answers from a script and remembers what was posted."""

from collections.abc import Callable

from agent.transport import Response, TransportError


def applied(payload: dict) -> Response:
    results = [
        {"id": e["id"], "status": "applied", "outcome": "borrowed", "message": "ok"}
        for e in payload["events"]
    ]
    return Response(200, {"results": results}, "")


class FakeTransport:
    """`answer(payload)` returns a Response or raises TransportError; the default applies all."""

    def __init__(self, answer: Callable[[dict], Response] = applied):
        self.answer = answer
        self.posts: list[tuple[str, dict]] = []

    def post(self, path: str, payload: dict) -> Response:
        self.posts.append((path, payload))
        return self.answer(payload)

    def batches(self) -> list[list[str]]:
        return [[e["uid"] for e in payload["events"]] for _, payload in self.posts]


def status(code: int, text: str = "") -> Callable[[dict], Response]:
    return lambda payload: Response(code, None, text)


def unreachable(payload: dict) -> Response:
    raise TransportError("[Errno 111] Connection refused")
