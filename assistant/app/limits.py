"""Bounds on what clients may send and how often: request bodies, uploads, per-client rates,
and the lane that lets an emergency past a busy queue. The figures are `settings.limits`."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from typing import Any

Scope = dict[str, Any]
Message = dict[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]],
                   Awaitable[None]]


class RateLimiter:
    """At most `per_minute` events per key in any 60 s (sliding window); keys are bounded, the
    least recently seen forgotten first, so a flood of new keys cannot exhaust memory."""

    def __init__(self, per_minute: int, *, window_s: float = 60.0, max_keys: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.window_s = window_s
        self.max_keys = max_keys
        self._clock = clock
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        """Count one event for `key`; False when it is over the limit (and then not counted)."""
        return self._take(key, count=True)

    def exhausted(self, key: str) -> bool:
        """Whether `key` is at its limit now, without counting anything."""
        return not self._take(key, count=False)

    def _take(self, key: str, *, count: bool) -> bool:
        if self.per_minute <= 0:
            return True
        now = self._clock()
        with self._lock:
            hits = self._hits.pop(key, None) or deque()
            while hits and now - hits[0] >= self.window_s:
                hits.popleft()
            ok = len(hits) < self.per_minute
            if ok and count:
                hits.append(now)
            self._hits[key] = hits
            while len(self._hits) > self.max_keys:
                self._hits.popitem(last=False)
            return ok


def client_key(request: Any) -> str:
    """Who is asking: the client address and the Gradio session (either may be missing)."""
    client = getattr(request, "client", None)
    host = getattr(client, "host", "") or ""
    return f"{host}|{getattr(request, 'session_hash', '') or ''}"


class BodyLimit:
    """ASGI middleware: a request body over `max_bytes` gets 413 before the app reads it, and
    file uploads are refused (the app has no upload control; the route only costs disk)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Callable[[], Awaitable[Message]],
                       send: Callable[[Message], Awaitable[None]]) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        if str(scope.get("path", "")).rstrip("/").endswith("/upload"):
            await _plain(send, 403, "uploads are off on this server")
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await _plain(send, 413, f"request body over {self.max_bytes} bytes")
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:  # a chunked body that never declared its size
                raise _TooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await _plain(send, 413, f"request body over {self.max_bytes} bytes")


class _TooLarge(Exception):
    pass


async def _plain(send: Callable[[Message], Awaitable[None]], status: int, text: str) -> None:
    body = text.encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class Lane:
    """`limit` questions answered at once; the others wait their turn, up to `wait_s`.

    An emergency does not wait: the caller answers it outside the lane, so a queue of long
    questions never stands between a person in danger and the emergency numbers.
    """

    def __init__(self, limit: int, wait_s: float = 30.0) -> None:
        self._slots = threading.BoundedSemaphore(max(1, limit))
        self.wait_s = wait_s

    def __enter__(self) -> Lane:
        if not self._slots.acquire(timeout=self.wait_s):
            raise TimeoutError("the server is busy")
        return self

    def __exit__(self, *exc: object) -> None:
        self._slots.release()
