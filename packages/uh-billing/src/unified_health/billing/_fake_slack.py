"""A fake Slack incoming webhook on 127.0.0.1 that checks what Slack checks."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from types import TracebackType
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from unified_health.billing._clock import Clock, SystemClock

__all__ = ["FakeSlackWebhook"]


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output clean."""


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class FakeSlackWebhook:
    """A Slack incoming webhook: ``POST /services/T.../B.../...`` with a JSON message.

    Answers ``200 ok``; ``400 invalid_payload`` for bad JSON or a message over Slack's limits
    (no ``text`` nor ``blocks``, more than 50 blocks, a section over 3000 characters, a header over
    150, ``text`` over 40000); ``404 no_service`` for another path; ``429`` with ``Retry-After``
    when a second message arrives within a second (by ``clock``) or when told to.

    Args:
        clock: The clock that decides the one-message-per-second rule.

    Attributes:
        messages: Every accepted payload.
        url: The webhook URL to hand to `SlackAlerter`.

    Examples:
        >>> with FakeSlackWebhook() as slack:
        ...     slack.url.endswith("/services/T000/B000/fake-webhook-secret")
        True
    """

    path = "/services/T000/B000/fake-webhook-secret"

    def __init__(self, *, clock: Clock | None = None) -> None:
        self._clock = clock or SystemClock()
        self._lock = threading.Lock()
        self._last: float | None = None
        self._scripted: list[tuple[int, float | None]] = []
        self.messages: list[dict[str, Any]] = []
        self.statuses: list[int] = []
        self._server = make_server(
            "127.0.0.1", 0, self._app, server_class=_Server, handler_class=_Quiet
        )
        self.url = f"http://127.0.0.1:{self._server.server_port}{self.path}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def fail_next(self, status: int, *, times: int = 1, retry_after: float | None = None) -> None:
        """Answer the next ``times`` messages with ``status``."""
        with self._lock:
            self._scripted.extend([(status, retry_after)] * times)

    def close(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeSlackWebhook:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        status, body, headers = self._handle(environ)
        with self._lock:
            self.statuses.append(status)
        reason = {200: "OK", 400: "Bad Request", 404: "Not Found", 429: "Too Many Requests"}.get(
            status, "Error"
        )
        start_response(f"{status} {reason}", [("Content-Type", "text/plain"), *headers])
        return [body.encode()]

    def _handle(self, environ: dict[str, Any]) -> tuple[int, str, list[tuple[str, str]]]:
        if environ.get("PATH_INFO") != self.path or environ.get("REQUEST_METHOD") != "POST":
            return 404, "no_service", []
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length)
        with self._lock:
            if self._scripted:
                status, retry_after = self._scripted.pop(0)
                extra = [("Retry-After", f"{retry_after:g}")] if retry_after is not None else []
                return status, "scripted", extra
            now = self._clock.monotonic()
            if self._last is not None and now - self._last < 1.0:
                return 429, "rate_limited", [("Retry-After", "1")]
        try:
            message = json.loads(raw)
        except ValueError:
            return 400, "invalid_payload", []
        problem = _check(message)
        if problem is not None:
            return 400, problem, []
        with self._lock:
            self._last = now
            self.messages.append(message)
        return 200, "ok", []


def _check(message: object) -> str | None:
    if not isinstance(message, dict):
        return "invalid_payload"
    text = message.get("text")
    blocks = message.get("blocks")
    if not text and not blocks:
        return "no_text"
    if text is not None and (not isinstance(text, str) or len(text) > 40000):
        return "invalid_payload"
    if blocks is None:
        return None
    if not isinstance(blocks, list) or len(blocks) > 50:
        return "invalid_blocks"
    for block in blocks:
        if not isinstance(block, dict) or block.get("type") not in (
            "header",
            "section",
            "divider",
            "context",
        ):
            return "invalid_blocks"
        inner = block.get("text") or {}
        limit = 150 if block["type"] == "header" else 3000
        if block["type"] in ("header", "section") and (
            not isinstance(inner.get("text"), str) or len(inner["text"]) > limit
        ):
            return "invalid_blocks"
    return None
