"""A mountable ASGI app: OFREP evaluation endpoints and the admin API as JSON (extra ``asgi``).

Routes, relative to wherever the host mounts the app::

    POST /ofrep/v1/evaluate/flags/{key}     one flag (OFREP "evaluateFlag")
    POST /ofrep/v1/evaluate/flags           every client-side flag (OFREP "evaluateFlagsBulk")

and, only when ``admin=`` is given (each request first passes ``admin_authorize``)::

    GET    /admin/v1/flags                  list (``?include_archived=false`` to hide archived)
    POST   /admin/v1/flags                  create                       -> 201, ETag, Location
    GET    /admin/v1/flags/{key}            read                         -> ETag: "<version>"
    PUT    /admin/v1/flags/{key}            replace; If-Match required   -> 428 without, 412 stale
    DELETE /admin/v1/flags/{key}            delete (idempotent)          -> 204
    POST   /admin/v1/flags/{key}/toggle     {"enabled": bool}; If-Match optional
    POST   /admin/v1/flags/{key}/archive    If-Match optional
    ...    /admin/v1/segments[/{key}[/archive]]   the same for segments (no toggle)
    GET    /admin/v1/audit                  every audit record, oldest first
    GET    /admin/v1/audit/verify           recompute the hash chain
    GET    /admin/v1/schemas                JSON Schemas of Flag and Segment

Every change needs an ``X-Change-Reason`` header (it goes to the audit log with the actor that
``admin_authorize`` returned). Errors are JSON: 422 ``{"error": "invalid_input", "field", "rule"}``,
404 ``not_found``, 409 ``conflict`` (e.g. the key exists), 412 ``precondition_failed`` (stale
If-Match, with ``current_version``), 503 ``store_unavailable`` with ``Retry-After``.

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

from unified_health.feature_flags._admin import FeatureFlagAdmin
from unified_health.feature_flags._client import FeatureFlagClient
from unified_health.feature_flags._errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    StoreUnavailableError,
)
from unified_health.feature_flags._models import EvaluationResult

try:
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
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
    admin: FeatureFlagAdmin | None = None,
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
        if admin_authorize is None:
            raise InvalidInputError("admin_authorize", "is required when admin is given")
        routes.append(Mount("/admin/v1", routes=_Admin(admin, admin_authorize).routes()))
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


class _AdminError(Exception):
    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None):
        super().__init__(body.get("error", ""))
        self.status = status
        self.body = body
        self.headers = headers


def _version_etag(version: int) -> str:
    return f'"{version}"'


def _if_match(request: Request) -> int | None:
    """The version an ``If-Match`` header names; ``None`` for absent or ``*``."""
    header = request.headers.get("if-match")
    if header is None or header.strip() == "*":
        return None
    tag = header.strip().removeprefix("W/").strip('"')
    if not tag.isdigit():
        raise _AdminError(
            412, {"error": "precondition_failed", "message": "If-Match is not a version"}
        )
    return int(tag)


class _Admin:
    """JSON endpoints over a ``FeatureFlagAdmin``; blocking store calls run in a worker thread."""

    def __init__(self, admin: FeatureFlagAdmin, authorize: AdminAuthorize) -> None:
        self._admin: FeatureFlagAdmin = admin
        self._authorize = authorize

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/flags", self._endpoint(self.list_flags), methods=["GET"]),
            Route("/flags", self._endpoint(self.create_flag), methods=["POST"]),
            Route("/flags/{key}", self._endpoint(self.get_flag), methods=["GET"]),
            Route("/flags/{key}", self._endpoint(self.update_flag), methods=["PUT"]),
            Route("/flags/{key}", self._endpoint(self.delete_flag), methods=["DELETE"]),
            Route("/flags/{key}/toggle", self._endpoint(self.toggle_flag), methods=["POST"]),
            Route("/flags/{key}/archive", self._endpoint(self.archive_flag), methods=["POST"]),
            Route("/segments", self._endpoint(self.list_segments), methods=["GET"]),
            Route("/segments", self._endpoint(self.create_segment), methods=["POST"]),
            Route("/segments/{key}", self._endpoint(self.get_segment), methods=["GET"]),
            Route("/segments/{key}", self._endpoint(self.update_segment), methods=["PUT"]),
            Route("/segments/{key}", self._endpoint(self.delete_segment), methods=["DELETE"]),
            Route(
                "/segments/{key}/archive", self._endpoint(self.archive_segment), methods=["POST"]
            ),
            Route("/audit", self._endpoint(self.audit_log), methods=["GET"]),
            Route("/audit/verify", self._endpoint(self.verify_audit), methods=["GET"]),
            Route("/schemas", self._endpoint(self.schemas), methods=["GET"]),
        ]

    def _endpoint(
        self, handler: Callable[[Request, str], Awaitable[Response]]
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            actor = await _call(self._authorize, request)
            try:
                return await handler(request, str(actor))
            except _AdminError as exc:
                return JSONResponse(exc.body, exc.status, headers=exc.headers)
            except InvalidInputError as exc:
                body = {"error": "invalid_input", "field": exc.field, "rule": exc.rule}
                return JSONResponse(body, 422)
            except NotFoundError as exc:
                body = {"error": "not_found", "kind": exc.kind, "key": exc.key}
                return JSONResponse(body, 404)
            except ConflictError as exc:
                return JSONResponse({"error": "conflict", "message": str(exc)}, 409)
            except StoreUnavailableError:
                _logger.warning("feature_flags_admin_store_unavailable", path=request.url.path)
                body = {"error": "store_unavailable", "message": "the flag store did not answer"}
                return JSONResponse(body, 503, headers={"Retry-After": "1"})

        return endpoint

    async def _run(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return await run_in_threadpool(function, *args, **kwargs)

    @staticmethod
    async def _body(request: Request) -> dict[str, Any]:
        try:
            payload = json.loads(await request.body() or b"null")
        except ValueError as exc:
            raise InvalidInputError("body", "must be valid JSON") from exc
        if not isinstance(payload, dict):
            raise InvalidInputError("body", "must be a JSON object")
        return payload

    @staticmethod
    def _reason(request: Request) -> str:
        reason = request.headers.get("x-change-reason", "").strip()
        if not reason:
            raise InvalidInputError("X-Change-Reason", "header is required on every change")
        return reason

    @staticmethod
    def _model(model: Any, status: int = 200) -> Response:
        return JSONResponse(
            model.model_dump(mode="json"), status, headers={"ETag": _version_etag(model.version)}
        )

    async def _check_version(self, getter: Callable[[str], Any], request: Request) -> int | None:
        """Compare ``If-Match`` with the stored version; 412 when it is stale."""
        expected = _if_match(request)
        if expected is None:
            return None
        current = await self._run(getter, request.path_params["key"])
        if current.version != expected:
            raise _AdminError(
                412,
                {"error": "precondition_failed", "current_version": current.version},
                {"ETag": _version_etag(current.version)},
            )
        return expected

    # ------------------------------------------------------------------ flags

    async def list_flags(self, request: Request, actor: str) -> Response:
        include = request.query_params.get("include_archived", "true") != "false"
        flags = await self._run(self._admin.list_flags, include_archived=include)
        return JSONResponse({"flags": [flag.model_dump(mode="json") for flag in flags]})

    async def get_flag(self, request: Request, actor: str) -> Response:
        return self._model(await self._run(self._admin.get_flag, request.path_params["key"]))

    async def create_flag(self, request: Request, actor: str) -> Response:
        body, reason = await self._body(request), self._reason(request)
        flag = await self._run(self._admin.create_flag, body, actor=actor, reason=reason)
        response = self._model(flag, 201)
        response.headers["Location"] = f"{request.url.path}/{flag.key}"
        return response

    async def update_flag(self, request: Request, actor: str) -> Response:
        return await self._update(request, actor, self._admin.get_flag, self._admin.update_flag)

    async def _update(
        self, request: Request, actor: str, getter: Callable[..., Any], update: Callable[..., Any]
    ) -> Response:
        key = request.path_params["key"]
        if "if-match" not in request.headers:
            raise _AdminError(
                428, {"error": "precondition_required", "message": "send If-Match: the ETag read"}
            )
        body, reason = await self._body(request), self._reason(request)
        if body.setdefault("key", key) != key:
            raise InvalidInputError("key", "must match the key in the path")
        expected = await self._check_version(getter, request)
        if expected is None:
            expected = (await self._run(getter, key)).version
        try:
            model = await self._run(
                update, body, expected_version=expected, actor=actor, reason=reason
            )
        except ConflictError as exc:
            raise _AdminError(412, {"error": "precondition_failed", "message": str(exc)}) from exc
        return self._model(model)

    async def toggle_flag(self, request: Request, actor: str) -> Response:
        body, reason = await self._body(request), self._reason(request)
        enabled = body.get("enabled")
        if not isinstance(enabled, bool):
            raise InvalidInputError("enabled", "must be true or false")
        expected = _if_match(request)
        try:
            flag = await self._run(
                self._admin.toggle_flag,
                request.path_params["key"],
                enabled,
                expected_version=expected,
                actor=actor,
                reason=reason,
            )
        except ConflictError as exc:
            if expected is None:
                raise
            raise _AdminError(412, {"error": "precondition_failed", "message": str(exc)}) from exc
        return self._model(flag)

    async def archive_flag(self, request: Request, actor: str) -> Response:
        reason = self._reason(request)
        await self._check_version(self._admin.get_flag, request)
        flag = await self._run(
            self._admin.archive_flag, request.path_params["key"], actor=actor, reason=reason
        )
        return self._model(flag)

    async def delete_flag(self, request: Request, actor: str) -> Response:
        reason = self._reason(request)
        key = request.path_params["key"]
        if _if_match(request) is not None and await self._run(self._admin.flag_exists, key):
            await self._check_version(self._admin.get_flag, request)
        await self._run(self._admin.delete_flag, key, actor=actor, reason=reason)
        return Response(status_code=204)

    # ------------------------------------------------------------------ segments

    async def list_segments(self, request: Request, actor: str) -> Response:
        segments = await self._run(self._admin.list_segments)
        return JSONResponse({"segments": [s.model_dump(mode="json") for s in segments]})

    async def get_segment(self, request: Request, actor: str) -> Response:
        return self._model(await self._run(self._admin.get_segment, request.path_params["key"]))

    async def create_segment(self, request: Request, actor: str) -> Response:
        body, reason = await self._body(request), self._reason(request)
        segment = await self._run(self._admin.create_segment, body, actor=actor, reason=reason)
        response = self._model(segment, 201)
        response.headers["Location"] = f"{request.url.path}/{segment.key}"
        return response

    async def update_segment(self, request: Request, actor: str) -> Response:
        return await self._update(
            request, actor, self._admin.get_segment, self._admin.update_segment
        )

    async def archive_segment(self, request: Request, actor: str) -> Response:
        reason = self._reason(request)
        await self._check_version(self._admin.get_segment, request)
        segment = await self._run(
            self._admin.archive_segment, request.path_params["key"], actor=actor, reason=reason
        )
        return self._model(segment)

    async def delete_segment(self, request: Request, actor: str) -> Response:
        reason = self._reason(request)
        await self._run(
            self._admin.delete_segment, request.path_params["key"], actor=actor, reason=reason
        )
        return Response(status_code=204)

    # ------------------------------------------------------------------ audit

    async def audit_log(self, request: Request, actor: str) -> Response:
        records = await self._run(self._admin.audit_log)
        return JSONResponse({"records": [r.model_dump(mode="json") for r in records]})

    async def verify_audit(self, request: Request, actor: str) -> Response:
        verification = await self._run(self._admin.verify_audit)
        return JSONResponse(verification.model_dump(mode="json"))

    async def schemas(self, request: Request, actor: str) -> Response:
        return JSONResponse(self._admin.json_schemas())
