"""A fake Stripe API on 127.0.0.1 that the real ``stripe`` SDK can be pointed at.

It serves the list endpoints reconciliation reads (``/v1/charges``, ``/v1/refunds``,
``/v1/disputes``) the way Stripe documents them: bearer or basic auth with a secret key whose
``sk_test_``/``sk_live_`` prefix selects the mode, ``limit`` from 1 to 100 (default 10), cursor
pagination with ``starting_after`` (newest first, ``has_more``), ``created[gte|gt|lt|lte]`` filters,
Stripe's error shape (``{"error": {"type": ..., "message": ...}}``) with a ``Request-Id`` header,
400 for unknown parameters, 401 for a bad key, 404 for an unknown path. On demand it answers 429
with ``Retry-After``, 500s, short pages and truncated bodies.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from socketserver import ThreadingMixIn
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from unified_health.billing._records import StripeRecord

__all__ = ["FakeStripe", "ReceivedRequest", "stripe_object"]

_RESOURCES = {
    "charges": "payment",
    "refunds": "refund",
    "disputes": "dispute",
    "payouts": "payout",
    "balance_transactions": "balance_transaction",
}
_RESOURCE_OF = {kind: name for name, kind in _RESOURCES.items()}
_LIST_PARAMS = frozenset(
    {
        "limit",
        "starting_after",
        "ending_before",
        "created[gte]",
        "created[gt]",
        "created[lt]",
        "created[lte]",
        "created",
        "expand[]",
        "payout",
        "type",
    }
)
_DISPUTE_STATUS = {"open": "needs_response", "won": "won", "lost": "lost"}


def stripe_object(record: StripeRecord, *, metadata_key: str = "order_id") -> dict[str, Any]:
    """Render a `StripeRecord` as the Stripe API object it stands for (charge, refund, dispute).

    Args:
        record: The record.
        metadata_key: The metadata key that carries ``record.reference``.

    Returns:
        The JSON object, with the fields and names of Stripe's API.

    Examples:
        >>> obj = stripe_object(StripeRecord("ch_1", "payment", 500, "usd", 1764000000,
        ...                                  "succeeded", False, reference="order-9"))
        >>> (obj["object"], obj["amount_captured"], obj["metadata"])
        ('charge', 500, {'order_id': 'order-9'})
    """
    metadata = {metadata_key: record.reference} if record.reference is not None else {}
    common: dict[str, Any] = {
        "id": record.id,
        "amount": record.amount,
        "currency": record.currency,
        "created": record.created,
        "metadata": metadata,
        "payment_intent": record.payment_intent,
    }
    if record.kind == "payout":
        return {
            "id": record.id,
            "object": "payout",
            "amount": record.amount,
            "currency": record.currency,
            "created": record.created,
            "arrival_date": record.created + 2 * 86400,
            "livemode": record.livemode,
            "metadata": metadata,
            "status": record.status,
            "type": "bank_account",
            "automatic": True,
            "method": "standard",
            "balance_transaction": None,
            "description": None,
        }
    if record.kind == "balance_transaction":  # no livemode field either
        fee = record.fee or 0
        return {
            "id": record.id,
            "object": "balance_transaction",
            "amount": record.amount + fee,
            "fee": fee,
            "net": record.amount,
            "currency": record.currency,
            "created": record.created,
            "available_on": record.created,
            "status": record.status,
            "type": "charge",
            "reporting_category": "charge",
            "source": record.reference,
            "fee_details": [],
            "description": None,
            "exchange_rate": None,
        }
    if record.kind == "refund":
        return {
            **common,
            "object": "refund",
            "balance_transaction": None,
            "charge": record.charge,
            "status": record.status,
            "reason": None,
        }
    if record.kind == "dispute":
        return {
            **common,
            "livemode": record.livemode,
            "object": "dispute",
            "charge": record.charge,
            "status": _DISPUTE_STATUS.get(record.status, record.status),
            "reason": "general",
            "balance_transactions": [],
            "is_charge_refundable": False,
        }
    captured = record.amount if record.amount_captured is None else record.amount_captured
    return {
        **common,
        "livemode": record.livemode,
        "object": "charge",
        "balance_transaction": None,
        "amount_captured": captured if record.status == "succeeded" else 0,
        "amount_refunded": 0,
        "captured": record.status == "succeeded",
        "paid": record.status == "succeeded",
        "status": record.status
        if record.status in ("succeeded", "pending", "failed")
        else "failed",
        "refunded": False,
        "disputed": False,
        "failure_code": None,
        "description": None,
        "billing_details": {"address": None, "email": None, "name": None, "phone": None},
    }


@dataclass(frozen=True, slots=True)
class ReceivedRequest:
    """One request the fake received (the key is never kept).

    Attributes:
        method: ``"GET"``.
        path: ``"/v1/charges"``.
        params: The query parameters.
        status: The status answered.
    """

    method: str
    path: str
    params: dict[str, str]
    status: int


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output clean."""


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    request_queue_size = 128


class FakeStripe:
    """The fake Stripe API server (a thread serving HTTP on 127.0.0.1 at a free port).

    Args:
        api_key: The secret key it accepts (``sk_test_...`` or ``sk_live_...``).
        metadata_key: The metadata key that carries a record's reference.

    Attributes:
        short_pages: Answer pages half as long as ``limit`` (still with ``has_more``).
        ignore_mode: Serve objects of both modes (as a misrouted proxy would).
        requests: Every request received (method, path, query, status; never the key).

    Examples:
        >>> with FakeStripe() as fake:
        ...     fake.add([StripeRecord("ch_1", "payment", 500, "usd", 1764000000, "succeeded",
        ...                            False)])
        ...     (fake.url.startswith("http://127.0.0.1:"), fake.count("charges"))
        (True, 1)
    """

    def __init__(self, api_key: str = "sk_test_fake", *, metadata_key: str = "order_id") -> None:
        self.api_key = api_key
        self.metadata_key = metadata_key
        self._lock = threading.Lock()
        self._objects: dict[str, list[tuple[bool, dict[str, Any]]]] = {n: [] for n in _RESOURCES}
        self._sorted: dict[str, bool] = dict.fromkeys(_RESOURCES, True)
        self._scripted: list[tuple[int, float | None] | None] = []
        self._truncate = 0
        self._stalls: list[float] = []
        self._payout_of: dict[str, str] = {}
        self.short_pages = False
        self.ignore_mode = False
        self.requests: list[ReceivedRequest] = []
        self._counter = 0
        self._server = make_server(
            "127.0.0.1", 0, self._app, server_class=_Server, handler_class=_Quiet
        )
        self.port: int = self._server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    # -- data ------------------------------------------------------------------------------------
    def add(self, records: Iterable[StripeRecord]) -> None:
        """Store records as charges, refunds, disputes, payouts or balance transactions.

        A balance transaction's ``charge`` names the payout it belongs to.
        """
        with self._lock:
            for record in records:
                name = _RESOURCE_OF[record.kind]
                obj = stripe_object(record, metadata_key=self.metadata_key)
                if record.kind == "balance_transaction" and record.charge is not None:
                    self._payout_of[record.id] = record.charge
                self._objects[name].append((record.livemode, obj))
                self._sorted[name] = False

    def add_object(self, resource: str, obj: dict[str, Any], *, livemode: bool = False) -> None:
        """Store a raw API object under ``resource`` (``"charges"``, ``"refunds"``...)."""
        with self._lock:
            self._objects[resource].append((livemode, obj))
            self._sorted[resource] = False

    def count(self, resource: str) -> int:
        """How many objects ``resource`` holds."""
        return len(self._objects[resource])

    # -- failure controls -------------------------------------------------------------------------
    def fail_next(
        self, status: int, *, times: int = 1, retry_after: float | None = None, after: int = 0
    ) -> None:
        """Answer ``times`` list requests with ``status`` (429 carries ``Retry-After``).

        With ``after`` the first ``after`` requests are answered normally first.
        """
        with self._lock:
            self._scripted.extend([None] * after)
            self._scripted.extend([(status, retry_after)] * times)

    def stall_next(self, seconds: float, *, times: int = 1) -> None:
        """Hold the next ``times`` answers for ``seconds`` (past a client's timeout)."""
        with self._lock:
            self._stalls.extend([seconds] * times)

    def clear_failures(self) -> None:
        """Forget every scripted failure and truncation not yet served."""
        with self._lock:
            self._scripted.clear()
            self._stalls.clear()
            self._truncate = 0

    def truncate_next(self, times: int = 1) -> None:
        """Cut the body of the next ``times`` list answers in half (a dropped connection)."""
        with self._lock:
            self._truncate += times

    # -- lifecycle ---------------------------------------------------------------------------------
    def close(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeStripe:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- the API ---------------------------------------------------------------------------------
    def _request_id(self) -> str:
        with self._lock:
            self._counter += 1
            return f"req_fake{self._counter:08d}"

    def _answer(
        self,
        start_response: Callable[..., Any],
        status: int,
        body: dict[str, Any],
        extra: Iterable[tuple[str, str]] = (),
    ) -> Iterator[bytes]:
        payload = json.dumps(body, separators=(",", ":")).encode()
        truncate = False
        if status == 200:
            with self._lock:
                if self._truncate:
                    self._truncate -= 1
                    truncate = True
        reason = {
            200: "OK",
            400: "Bad Request",
            401: "Unauthorized",
            404: "Not Found",
            429: "Too Many Requests",
        }.get(status, "Error")
        headers = [("Content-Type", "application/json"), ("Request-Id", self._request_id()), *extra]
        if truncate:
            headers.append(("Content-Length", str(len(payload))))
            start_response(f"{status} {reason}", headers)
            return iter([payload[: len(payload) // 2]])
        headers.append(("Content-Length", str(len(payload))))
        start_response(f"{status} {reason}", headers)
        return iter([payload])

    @staticmethod
    def _error(kind: str, message: str, param: str | None = None) -> dict[str, Any]:
        error: dict[str, Any] = {"type": kind, "message": message}
        if param is not None:
            error["param"] = param
        return {"error": error}

    def _key(self, environ: dict[str, Any]) -> str | None:
        header = str(environ.get("HTTP_AUTHORIZATION", ""))
        if header.startswith("Bearer "):
            return header[7:]
        if header.startswith("Basic "):
            try:
                return base64.b64decode(header[6:]).decode().split(":", 1)[0]
            except ValueError:
                return None
        return None

    def _app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = str(environ.get("PATH_INFO", ""))
        params = dict(parse_qsl(str(environ.get("QUERY_STRING", "")), keep_blank_values=True))
        method = str(environ.get("REQUEST_METHOD", "GET"))
        with self._lock:
            stall = self._stalls.pop(0) if self._stalls else None
        if stall is not None:
            threading.Event().wait(stall)
        status, body, extra = self._handle(method, path, params, environ)
        with self._lock:
            self.requests.append(ReceivedRequest(method, path, params, status))
        return self._answer(start_response, status, body, extra)

    def _handle(
        self, method: str, path: str, params: dict[str, str], environ: dict[str, Any]
    ) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        key = self._key(environ)
        if key is None:
            return 401, self._error("invalid_request_error", "You did not provide an API key."), []
        if key != self.api_key:
            return 401, self._error("invalid_request_error", "Invalid API Key provided."), []
        resource = path.removeprefix("/v1/")
        if not path.startswith("/v1/") or resource not in _RESOURCES:
            return 404, self._error("invalid_request_error", "Unrecognized request URL."), []
        if method != "GET":
            return 405, self._error("invalid_request_error", "Only GET is served here."), []
        with self._lock:
            scripted = self._scripted.pop(0) if self._scripted else None
        if scripted is not None:
            status, retry_after = scripted
            extra = [("Retry-After", f"{retry_after:g}")] if retry_after is not None else []
            kind = "rate_limit_error" if status == 429 else "api_error"
            return status, self._error(kind, "Scripted failure."), extra
        for name in params:
            if name not in _LIST_PARAMS:
                return (
                    400,
                    self._error(
                        "invalid_request_error", f"Received unknown parameter: {name}", name
                    ),
                    [],
                )
        limit_text = params.get("limit", "10")
        if not limit_text.isdigit() or not 1 <= int(limit_text) <= 100:
            return (
                400,
                self._error(
                    "invalid_request_error",
                    "Invalid integer: limit must be between 1 and 100",
                    "limit",
                ),
                [],
            )
        limit = int(limit_text)
        bounds: list[tuple[str, int]] = []
        for op in ("gte", "gt", "lt", "lte"):
            text = params.get(f"created[{op}]")
            if text is None:
                continue
            if not text.lstrip("-").isdigit():
                return (
                    400,
                    self._error("invalid_request_error", "Invalid integer", f"created[{op}]"),
                    [],
                )
            bounds.append((op, int(text)))
        live = key.startswith("sk_live_")
        objects = self._ordered(resource)
        chosen = [
            o
            for mode, o in objects
            if (self.ignore_mode or mode == live) and _within(o["created"], bounds)
        ]
        if resource == "balance_transactions" and "payout" in params:
            chosen = [o for o in chosen if self._payout_of.get(o["id"]) == params["payout"]]
        after = params.get("starting_after")
        if after is not None:
            position = next((i for i, o in enumerate(chosen) if o["id"] == after), None)
            if position is None:
                return (
                    400,
                    self._error(
                        "invalid_request_error", f"No such object: '{after}'", "starting_after"
                    ),
                    [],
                )
            chosen = chosen[position + 1 :]
        size = max(1, limit // 2) if self.short_pages else limit
        page = chosen[:size]
        body = {"object": "list", "url": path, "has_more": len(chosen) > len(page), "data": page}
        return 200, body, []

    def _ordered(self, resource: str) -> list[tuple[bool, dict[str, Any]]]:
        with self._lock:
            if not self._sorted[resource]:
                self._objects[resource].sort(key=lambda e: (-e[1]["created"], e[1]["id"]))
                self._sorted[resource] = True
            return list(self._objects[resource])


def _within(created: int, bounds: list[tuple[str, int]]) -> bool:
    for op, value in bounds:
        if op == "gte" and not created >= value:
            return False
        if op == "gt" and not created > value:
            return False
        if op == "lt" and not created < value:
            return False
        if op == "lte" and not created <= value:
            return False
    return True
