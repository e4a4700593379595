"""OFREP evaluation endpoints of the ASGI app (see `create_asgi_app`).

OFREP serves only flags marked ``client_side=True``; any other key answers 404 exactly like a key
that does not exist, so a browser can neither read server-side flags nor learn that they exist.
Responses carry the evaluated value, variant, reason and the flag's metadata, never its rules,
segments or anyone else's targeting keys. Until the client holds flag data, both endpoints answer
500 with OFREP's ``generalErrorResponse`` and ``Retry-After`` (OFREP has no "not ready" code).

The bulk endpoint's ``ETag`` is a hash of the response body, so every worker serving the same
flag data to the same context gives the same tag, and no worker can answer ``304`` for content
it would not serve.
"""

from __future__ import annotations

import hashlib
import inspect
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from unified_health.feature_flags._client import FeatureFlagClient
from unified_health.feature_flags._logging import logger
from unified_health.feature_flags._models import EvaluationResult

try:
    from starlette.exceptions import HTTPException
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "the ASGI app needs the 'asgi' extra: pip install 'uh-feature-flags[asgi]'"
    ) from exc

__all__ = ["MAX_BODY_BYTES", "Authorize", "OfrepEndpoints", "call_hook"]


Authorize = Callable[[Request, dict[str, Any]], Mapping[str, Any] | Awaitable[Mapping[str, Any]]]
"""Authorises an OFREP request and returns the evaluation context to use.

Called with the request and the context the caller sent (a ``dict`` holding ``targetingKey`` and
attributes). Return the context to evaluate with, typically the caller's context with
``targetingKey`` (and any attribute a rule relies on) replaced by what the host knows from the
session, so nobody can evaluate flags as another user. Raise
``starlette.exceptions.HTTPException(401)`` or ``(403)`` to refuse. May be ``async``.
"""

MAX_BODY_BYTES = 64 * 1024
"""Largest OFREP request body accepted; larger bodies answer 413."""

_OFREP_SUCCESS_REASONS = frozenset({"STATIC", "TARGETING_MATCH", "SPLIT", "DISABLED", "UNKNOWN"})
# OFREP 0.3 lists five reasons for a success. Ours that it does not list are mapped onto them:
# DEFAULT (no rule matched, the flag's default variant was served) is static configuration.
# PREREQUISITE_FAILED serves the flag's off variant, as a disabled flag does.
_OFREP_REASON_MAP = {
    "DEFAULT": "STATIC",
    "PREREQUISITE_FAILED": "DISABLED",
    "STALE": "UNKNOWN",
    "CACHED": "UNKNOWN",
}
_OFREP_FAILURE_CODES = frozenset(
    {"PARSE_ERROR", "TARGETING_KEY_MISSING", "INVALID_CONTEXT", "GENERAL"}
)
_NO_STORE = {"Cache-Control": "no-store"}
_REVALIDATE = {"Cache-Control": "private, no-cache"}
_NOT_READY = {"errorDetails": "flag data is not loaded yet"}
_RETRY = {"Retry-After": "1", **_NO_STORE}


async def call_hook(hook: Callable[..., Any], *args: Any) -> Any:
    """Call a host hook that may be synchronous or ``async``.

    Args:
        hook: The hook.
        *args: Its arguments.

    Returns:
        What it returned (awaited when it is awaitable).

    Examples:
        >>> import asyncio
        >>> asyncio.run(call_hook(lambda a: a + 1, 1))
        2
    """
    result = hook(*args)
    if inspect.isawaitable(result):
        result = await result
    return result


class _BadRequestError(Exception):
    def __init__(self, code: str, details: str) -> None:
        super().__init__(details)
        self.code = code
        self.details = details


class OfrepEndpoints:
    """The two OFREP handlers over one client's local snapshot.

    Args:
        client: The client whose snapshot answers evaluations.
        authorize: The host's `Authorize` hook, or ``None`` for anonymous callers.

    Examples:
        >>> endpoints = OfrepEndpoints(FeatureFlagClient(), None)
        >>> callable(endpoints.evaluate_bulk)
        True
    """

    def __init__(self, client: FeatureFlagClient, authorize: Authorize | None) -> None:
        self._client = client
        self._authorize = authorize
        self._keys: tuple[int, frozenset[str]] | None = None

    async def _context(self, request: Request) -> dict[str, Any]:
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            raise HTTPException(413, f"request body is larger than {MAX_BODY_BYTES} bytes")
        try:
            payload = json.loads(body or b"null")
        except ValueError as exc:
            raise _BadRequestError("PARSE_ERROR", "request body is not valid JSON") from exc
        if not isinstance(payload, dict):
            raise _BadRequestError(
                "INVALID_CONTEXT", "request body must be an object with 'context'"
            )
        context = payload.get("context", {})
        if not isinstance(context, dict):
            raise _BadRequestError("INVALID_CONTEXT", "'context' must be an object")
        targeting_key = context.get("targetingKey")
        if targeting_key is not None and not isinstance(targeting_key, str):
            raise _BadRequestError("INVALID_CONTEXT", "'context.targetingKey' must be a string")
        if self._authorize is not None:
            authorised = await call_hook(self._authorize, request, dict(context))
            context = dict(authorised)
        return context

    def _client_side_keys(self) -> frozenset[str]:
        # snapshot_version only grows within this process, so it may key this process's cache.
        version = self._client.snapshot_version
        cached = self._keys
        if cached is None or cached[0] != version:
            keys = frozenset(self._client.evaluate_all({}, client_side_only=True))
            cached = self._keys = (version, keys)
        return cached[1]

    async def evaluate_flag(self, request: Request) -> Response:
        """OFREP ``evaluateFlag``: ``POST /ofrep/v1/evaluate/flags/{key}``.

        Args:
            request: The request.

        Returns:
            200 with the evaluation, 400 for a bad context or evaluation failure, 404 for an
            unknown or server-side flag, 500 (with ``Retry-After``) before the first load.

        Examples:
            >>> OfrepEndpoints.evaluate_flag.__name__
            'evaluate_flag'
        """
        key = request.path_params["key"]
        try:
            context = await self._context(request)
        except _BadRequestError as exc:
            return JSONResponse(
                {"key": key, "errorCode": exc.code, "errorDetails": exc.details}, 400
            )
        if not self._client.ready():
            return JSONResponse(_NOT_READY, 500, headers=_RETRY)
        if key not in self._client_side_keys():
            return JSONResponse(
                {"key": key, "errorCode": "FLAG_NOT_FOUND", "errorDetails": "flag not found"}, 404
            )
        try:
            result = self._client.evaluate(key, _to_context(context))
        except Exception as exc:  # noqa: BLE001 - answered as a 500, never raised into the server
            logger.warning("ofrep_evaluation_failed", flag_key=key, error_class=type(exc).__name__)
            return JSONResponse({"errorDetails": "the flag could not be evaluated"}, 500)
        body = _ofrep_item(result)
        if "errorCode" not in body:
            return JSONResponse(body, 200, headers=_NO_STORE)
        if body["errorCode"] == "GENERAL":
            return JSONResponse({"errorDetails": body.get("errorDetails", "")}, 500)
        return JSONResponse(body, 400)

    async def evaluate_bulk(self, request: Request) -> Response:
        """OFREP ``evaluateFlagsBulk``: ``POST /ofrep/v1/evaluate/flags``.

        Args:
            request: The request; ``If-None-Match`` is honoured.

        Returns:
            200 with every client-side flag and an ``ETag`` hashing the body, 304 when
            ``If-None-Match`` names that tag, 400 for a bad context, 500 before the first load.

        Examples:
            >>> OfrepEndpoints.evaluate_bulk.__name__
            'evaluate_bulk'
        """
        try:
            context = await self._context(request)
        except _BadRequestError as exc:
            return JSONResponse({"errorCode": exc.code, "errorDetails": exc.details}, 400)
        if not self._client.ready():
            return JSONResponse(_NOT_READY, 500, headers=_RETRY)
        try:
            results = self._client.evaluate_all(_to_context(context), client_side_only=True)
        except Exception as exc:  # noqa: BLE001 - answered as a 500, never raised into the server
            logger.warning("ofrep_bulk_evaluation_failed", error_class=type(exc).__name__)
            return JSONResponse({"errorDetails": "flags could not be evaluated"}, 500)
        flags = [_ofrep_item(results[key]) for key in sorted(results)]
        body = json.dumps(
            {"flags": flags}, ensure_ascii=False, allow_nan=False, separators=(",", ":")
        ).encode()
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        headers = {"ETag": etag, **_REVALIDATE}
        if _etag_matches(request.headers.get("if-none-match"), etag):
            return Response(status_code=304, headers=headers)
        return Response(body, 200, headers=headers, media_type="application/json")


def _to_context(ofrep_context: Mapping[str, Any]) -> dict[str, Any]:
    """OFREP's ``targetingKey`` becomes the client's ``targeting_key``; attributes stay."""
    context = dict(ofrep_context)
    targeting_key = context.pop("targetingKey", None)
    if targeting_key is not None:
        context["targeting_key"] = targeting_key
    return context


def _etag_matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    for candidate in header.split(","):
        tag = candidate.strip()
        if tag == "*" or tag.removeprefix("W/") == etag:
            return True
    return False


def _metadata(raw: Mapping[str, Any] | None) -> dict[str, bool | int | float | str]:
    if not raw:
        return {}
    return {
        str(name): value
        for name, value in raw.items()
        if isinstance(value, bool | int | float | str)
    }


def _ofrep_item(result: EvaluationResult) -> dict[str, Any]:
    """One OFREP ``evaluationSuccess`` or ``evaluationFailure`` object for a result."""
    item: dict[str, Any] = {"key": result.flag_key}
    metadata = _metadata(result.flag_metadata)
    if result.error_code is not None:
        code = str(result.error_code)
        item["errorCode"] = code if code in _OFREP_FAILURE_CODES else "GENERAL"
        item["errorDetails"] = result.error_message or code
    else:
        reason = str(result.reason)
        item["reason"] = (
            reason if reason in _OFREP_SUCCESS_REASONS else _OFREP_REASON_MAP.get(reason, "UNKNOWN")
        )
        if result.variant is not None:
            item["variant"] = result.variant
        if result.value is not None:
            item["value"] = result.value
    if metadata:
        item["metadata"] = metadata
    return item
