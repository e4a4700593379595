"""A mountable ASGI app: OFREP evaluation endpoints and the admin API as JSON (extra ``asgi``).

Routes, relative to wherever the host mounts the app::

    POST /ofrep/v1/evaluate/flags/{key}     one flag (OFREP "evaluateFlag")
    POST /ofrep/v1/evaluate/flags           every client-side flag (OFREP "evaluateFlagsBulk")
    ...  /admin/v1/...                      the admin API, only when ``admin=`` is given

OFREP serves only flags marked ``client_side=True``; any other key answers 404 exactly like a key
that does not exist, so a browser can neither read server-side flags nor learn that they exist.
Responses carry the evaluated value, variant, reason and the flag's metadata, never its rules,
segments or anyone else's targeting keys.
"""

from __future__ import annotations

import hashlib
import inspect
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import structlog

from unified_health.feature_flags._client import FeatureFlagClient
from unified_health.feature_flags._models import EvaluationResult

try:
    from starlette.applications import Starlette
    from starlette.exceptions import HTTPException
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import BaseRoute, Mount, Route
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "the ASGI app needs the 'asgi' extra: pip install 'uh-feature-flags[asgi]'"
    ) from exc

__all__ = ["AdminAuthorize", "Authorize", "create_asgi_app"]

_logger = structlog.get_logger("unified_health.feature_flags")

Authorize = Callable[[Request, dict[str, Any]], Mapping[str, Any] | Awaitable[Mapping[str, Any]]]
"""Authorises an OFREP request and returns the evaluation context to use.

Called with the request and the context the caller sent (a ``dict`` holding ``targetingKey`` and
attributes). Return the context to evaluate with, typically the caller's context with
``targetingKey`` (and any attribute a rule relies on) replaced by what the host knows from the
session, so nobody can evaluate flags as another user. Raise
``starlette.exceptions.HTTPException(401)`` or ``(403)`` to refuse. May be ``async``.
"""

AdminAuthorize = Callable[[Request], str | Awaitable[str]]
"""Authorises an admin request and returns the actor id written to the audit log.

Raise ``starlette.exceptions.HTTPException(401)`` or ``(403)`` to refuse. May be ``async``.
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


def create_asgi_app(
    client: FeatureFlagClient,
    *,
    authorize: Authorize | None,
    admin: Any = None,
    admin_authorize: AdminAuthorize | None = None,
) -> Starlette:
    """Build the ASGI app serving OFREP (and, with ``admin=``, the admin API).

    Mount it under any path; the OpenFeature OFREP providers take that path as their base URL.
    CORS, rate limits and TLS belong to the host (e.g. ``starlette.middleware.cors``).

    Args:
        client: The client whose local snapshot answers OFREP evaluations.
        authorize: Checks each OFREP request and returns the evaluation context to use (see
            `Authorize`). Required so the choice is explicit: pass ``None`` to serve anonymous
            callers with the context they send.
        admin: A ``FeatureFlagAdmin``; when given, the admin API is served under ``/admin/v1``.
        admin_authorize: Required with ``admin``: authorises admin requests and names the actor.

    Returns:
        A Starlette application.

    Raises:
        InvalidInputError: ``admin`` was given without ``admin_authorize``.

    Example:
        >>> from unified_health.feature_flags import FeatureFlagClient
        >>> app = create_asgi_app(FeatureFlagClient(), authorize=None)
        >>> sorted(route.path for route in app.routes)
        ['/ofrep/v1/evaluate/flags', '/ofrep/v1/evaluate/flags/{key}']
    """
    ofrep = _Ofrep(client, authorize)
    routes: list[BaseRoute] = [
        Route("/ofrep/v1/evaluate/flags/{key}", ofrep.evaluate_flag, methods=["POST"]),
        Route("/ofrep/v1/evaluate/flags", ofrep.evaluate_bulk, methods=["POST"]),
    ]
    if admin is not None:
        from unified_health.feature_flags._errors import InvalidInputError

        if admin_authorize is None:
            raise InvalidInputError("admin_authorize", "is required when admin is given")
        routes.append(Mount("/admin/v1", routes=_admin_routes(admin, admin_authorize)))
    return Starlette(
        routes=routes,
        exception_handlers={HTTPException: _http_error},
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code in {204, 304}:
        return Response(status_code=exc.status_code, headers=exc.headers)
    return JSONResponse({"errorDetails": exc.detail}, exc.status_code, headers=exc.headers)


async def _call(hook: Callable[..., Any], *args: Any) -> Any:
    result = hook(*args)
    if inspect.isawaitable(result):
        result = await result
    return result


# --------------------------------------------------------------------------------------- OFREP


class _BadRequestError(Exception):
    def __init__(self, code: str, details: str) -> None:
        super().__init__(details)
        self.code = code
        self.details = details


class _Ofrep:
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
            authorised = await _call(self._authorize, request, dict(context))
            context = dict(authorised)
        return context

    def _client_side_keys(self) -> frozenset[str]:
        version = self._client.snapshot_version
        cached = self._keys
        if cached is None or cached[0] != version:
            keys = frozenset(self._client.evaluate_all({}, client_side_only=True))
            cached = self._keys = (version, keys)
        return cached[1]

    async def evaluate_flag(self, request: Request) -> Response:
        key = request.path_params["key"]
        try:
            context = await self._context(request)
        except _BadRequestError as exc:
            return JSONResponse(
                {"key": key, "errorCode": exc.code, "errorDetails": exc.details}, 400
            )
        if key not in self._client_side_keys():
            return JSONResponse(
                {"key": key, "errorCode": "FLAG_NOT_FOUND", "errorDetails": "flag not found"}, 404
            )
        try:
            result = self._client.evaluate(key, _to_context(context))
        except Exception:
            _logger.exception("ofrep_evaluation_failed", flag_key=key)
            return JSONResponse({"errorDetails": "the flag could not be evaluated"}, 500)
        body = _ofrep_item(result)
        if "errorCode" not in body:
            return JSONResponse(body, 200, headers=_NO_STORE)
        if body["errorCode"] == "GENERAL":
            return JSONResponse({"errorDetails": body.get("errorDetails", "")}, 500)
        return JSONResponse(body, 400)

    async def evaluate_bulk(self, request: Request) -> Response:
        try:
            context = await self._context(request)
        except _BadRequestError as exc:
            return JSONResponse({"errorCode": exc.code, "errorDetails": exc.details}, 400)
        version = self._client.snapshot_version
        etag = _etag(version, context)
        headers = {"ETag": etag, **_REVALIDATE}
        if _etag_matches(request.headers.get("if-none-match"), etag):
            return Response(status_code=304, headers=headers)
        try:
            results = self._client.evaluate_all(_to_context(context), client_side_only=True)
        except Exception:
            _logger.exception("ofrep_bulk_evaluation_failed")
            return JSONResponse({"errorDetails": "flags could not be evaluated"}, 500)
        if not results and not self._client.ready():
            return JSONResponse({"errorDetails": "flag data is not loaded yet"}, 500)
        flags = [_ofrep_item(results[key]) for key in sorted(results)]
        return JSONResponse({"flags": flags}, 200, headers=headers)


_NO_STORE = {"Cache-Control": "no-store"}
_REVALIDATE = {"Cache-Control": "private, no-cache"}


def _to_context(ofrep_context: Mapping[str, Any]) -> dict[str, Any]:
    """OFREP's ``targetingKey`` becomes the client's ``targeting_key``; attributes stay."""
    context = dict(ofrep_context)
    targeting_key = context.pop("targetingKey", None)
    if targeting_key is not None:
        context["targeting_key"] = targeting_key
    return context


def _etag(version: int, context: Mapping[str, Any]) -> str:
    canonical = json.dumps(context, sort_keys=True, separators=(",", ":"), default=str)
    digest = hashlib.sha256(canonical.encode()).hexdigest()[:20]
    return f'"{version}-{digest}"'


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


# --------------------------------------------------------------------------------------- admin


def _admin_routes(admin: Any, admin_authorize: AdminAuthorize) -> list[BaseRoute]:
    return []
