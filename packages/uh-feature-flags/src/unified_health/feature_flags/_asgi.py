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
segments or anyone else's targeting keys. Before the client holds any flag data both OFREP
endpoints answer 500 with ``Retry-After`` (OFREP defines no "not ready" code). The bulk ETag is a
hash of the response body, the same in every worker that would serve the same body.
"""

from __future__ import annotations

from unified_health.feature_flags._admin import FeatureFlagAdmin
from unified_health.feature_flags._asgi_admin import AdminAuthorize, AdminRoutes
from unified_health.feature_flags._asgi_ofrep import MAX_BODY_BYTES, Authorize, OfrepEndpoints
from unified_health.feature_flags._client import FeatureFlagClient
from unified_health.feature_flags._errors import InvalidInputError

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

__all__ = ["MAX_BODY_BYTES", "AdminAuthorize", "Authorize", "create_asgi_app"]


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

    Examples:
        >>> from unified_health.feature_flags import FeatureFlagClient
        >>> app = create_asgi_app(FeatureFlagClient(), authorize=None)
        >>> sorted(route.path for route in app.routes)
        ['/ofrep/v1/evaluate/flags', '/ofrep/v1/evaluate/flags/{key}']
    """
    ofrep = OfrepEndpoints(client, authorize)
    routes: list[BaseRoute] = [
        Route("/ofrep/v1/evaluate/flags/{key}", ofrep.evaluate_flag, methods=["POST"]),
        Route("/ofrep/v1/evaluate/flags", ofrep.evaluate_bulk, methods=["POST"]),
    ]
    if admin is not None:
        if admin_authorize is None:
            raise InvalidInputError("admin_authorize", "is required when admin is given")
        routes.append(Mount("/admin/v1", routes=AdminRoutes(admin, admin_authorize).routes()))
    return Starlette(
        routes=routes,
        exception_handlers={HTTPException: _http_error},
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code in {204, 304}:
        return Response(status_code=exc.status_code, headers=exc.headers)
    return JSONResponse({"errorDetails": exc.detail}, exc.status_code, headers=exc.headers)
