"""Admin API endpoints of the ASGI app (see `create_asgi_app` for the routes and statuses).

``If-Match`` is checked by the store write itself (``expected_version``), never by a read before
the write, so a change made between the two cannot be overwritten.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from unified_health.feature_flags._admin import FeatureFlagAdmin
from unified_health.feature_flags._asgi_ofrep import call_hook
from unified_health.feature_flags._errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    StoreUnavailableError,
)
from unified_health.feature_flags._logging import logger

try:
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import BaseRoute, Route
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "the ASGI app needs the 'asgi' extra: pip install 'uh-feature-flags[asgi]'"
    ) from exc

__all__ = ["AdminAuthorize", "AdminRoutes"]


AdminAuthorize = Callable[[Request], str | Awaitable[str]]
"""Authorises an admin request and returns the actor id written to the audit log.

Raise ``starlette.exceptions.HTTPException(401)`` or ``(403)`` to refuse. May be ``async``.
"""


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


class AdminRoutes:
    """JSON endpoints over a ``FeatureFlagAdmin``; blocking store calls run in a worker thread.

    Args:
        admin: The admin the endpoints call.
        authorize: The host's `AdminAuthorize` hook.

    Examples:
        >>> from unified_health.feature_flags import InMemoryFeatureFlagStore
        >>> routes = AdminRoutes(FeatureFlagAdmin(InMemoryFeatureFlagStore()), lambda r: "ops")
        >>> len(routes.routes())
        16
    """

    def __init__(self, admin: FeatureFlagAdmin, authorize: AdminAuthorize) -> None:
        self._admin: FeatureFlagAdmin = admin
        self._authorize = authorize

    def routes(self) -> list[BaseRoute]:
        """Return the routes, relative to the admin mount point.

        Returns:
            Starlette routes.
        """
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
            actor = await call_hook(self._authorize, request)
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
                logger.warning("admin_store_call_failed", path=request.url.path)
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
        reason, key = self._reason(request), request.path_params["key"]
        flag = await self._guarded(
            self._admin.archive_flag, self._admin.get_flag, request, key, actor, reason
        )
        return self._model(flag)

    async def delete_flag(self, request: Request, actor: str) -> Response:
        reason, key = self._reason(request), request.path_params["key"]
        await self._guarded(
            self._admin.delete_flag, self._admin.get_flag, request, key, actor, reason
        )
        return Response(status_code=204)

    async def _guarded(
        self,
        change: Callable[..., Any],
        getter: Callable[[str], Any],
        request: Request,
        key: str,
        actor: str,
        reason: str,
    ) -> Any:
        """Run ``change`` with ``If-Match`` as its ``expected_version``: the store checks it."""
        expected = _if_match(request)
        try:
            return await self._run(
                change, key, expected_version=expected, actor=actor, reason=reason
            )
        except ConflictError as exc:
            if expected is None:
                raise
            body: dict[str, Any] = {"error": "precondition_failed", "message": str(exc)}
            headers: dict[str, str] = {}
            try:
                current = (await self._run(getter, key)).version
            except NotFoundError:
                current = None
            if current is not None:
                body["current_version"] = current
                headers["ETag"] = _version_etag(current)
            raise _AdminError(412, body, headers) from exc

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
        reason, key = self._reason(request), request.path_params["key"]
        segment = await self._guarded(
            self._admin.archive_segment, self._admin.get_segment, request, key, actor, reason
        )
        return self._model(segment)

    async def delete_segment(self, request: Request, actor: str) -> Response:
        reason, key = self._reason(request), request.path_params["key"]
        await self._guarded(
            self._admin.delete_segment, self._admin.get_segment, request, key, actor, reason
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
