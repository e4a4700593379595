"""The admin API over HTTP: CRUD, toggles, archive, ETag/If-Match, errors, audit, auth."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import httpx
import pytest
from starlette.exceptions import HTTPException
from starlette.requests import Request

from unified_health.feature_flags._admin import FeatureFlagAdmin
from unified_health.feature_flags._asgi import create_asgi_app
from unified_health.feature_flags._client import FeatureFlagClient
from unified_health.feature_flags._errors import InvalidInputError, StoreUnavailableError
from unified_health.feature_flags.stores import Commit, InMemoryFeatureFlagStore

# A real HTTP server: uvicorn is a test dependency (skip with the reason when it is missing).
uvicorn = pytest.importorskip("uvicorn")
# The `served` fixture (conftest): serve an ASGI app over real HTTP on 127.0.0.1.
Served = Callable[..., AbstractContextManager[httpx.Client]]

WHY = {"X-Change-Reason": "ticket 42"}
FLAG = {"key": "beta", "enabled": True, "client_side": True}


class BreakableStore(InMemoryFeatureFlagStore):
    """An in-memory store whose commits fail while ``down`` is set."""

    down = False

    def commit(self, commit: Commit) -> int:
        if self.down:
            raise StoreUnavailableError("store is down")
        return super().commit(commit)


def authorize(request: Request) -> str:
    token = request.headers.get("authorization", "")
    if token == "Bearer admin-token":
        return "alice"
    if token == "Bearer viewer-token" and request.method == "GET":
        return "bob"
    raise HTTPException(401 if not token else 403, "not allowed")


@pytest.fixture
def store() -> BreakableStore:
    return BreakableStore()


@pytest.fixture
def flags(store: BreakableStore) -> Iterator[FeatureFlagClient]:
    with FeatureFlagClient(store, background=False) as client:
        yield client


@pytest.fixture
def http(store: BreakableStore, flags: FeatureFlagClient, served: Served) -> Iterator[httpx.Client]:
    app = create_asgi_app(
        flags, authorize=None, admin=FeatureFlagAdmin(store), admin_authorize=authorize
    )
    with served(app, "/admin/v1") as client:
        client.headers["Authorization"] = "Bearer admin-token"
        yield client


def test_admin_routes_refuse_to_exist_without_an_authorizer(flags: FeatureFlagClient) -> None:
    with pytest.raises(InvalidInputError) as caught:
        create_asgi_app(flags, authorize=None, admin=FeatureFlagAdmin(InMemoryFeatureFlagStore()))
    assert caught.value.field == "admin_authorize"


def test_admin_routes_are_absent_without_admin(flags: FeatureFlagClient) -> None:
    paths = [getattr(route, "path", "") for route in create_asgi_app(flags, authorize=None).routes]
    assert not any(path.startswith("/admin") for path in paths)


def test_requests_without_credentials_are_refused(http: httpx.Client) -> None:
    anonymous = http.get("/flags", headers={"Authorization": ""})
    assert anonymous.status_code == 401
    viewer = {"Authorization": "Bearer viewer-token"}
    assert http.get("/flags", headers=viewer).status_code == 200
    assert http.post("/flags", json=FLAG, headers={**viewer, **WHY}).status_code == 403


def test_create_read_list(http: httpx.Client) -> None:
    created = http.post("/flags", json=FLAG, headers=WHY)
    assert created.status_code == 201
    assert created.headers["etag"] == '"1"'
    assert created.headers["location"] == "/admin/v1/flags/beta"
    assert created.json()["version"] == 1

    read = http.get("/flags/beta")
    assert read.status_code == 200
    assert read.headers["etag"] == '"1"'
    assert read.json()["enabled"] is True
    assert [f["key"] for f in http.get("/flags").json()["flags"]] == ["beta"]


def test_duplicate_key_is_a_conflict(http: httpx.Client) -> None:
    http.post("/flags", json=FLAG, headers=WHY)
    again = http.post("/flags", json=FLAG, headers=WHY)
    assert again.status_code == 409
    assert again.json()["error"] == "conflict"


def test_invalid_definitions_name_the_field_and_rule(http: httpx.Client) -> None:
    bad = http.post("/flags", json={**FLAG, "default_variant": "missing"}, headers=WHY)
    assert bad.status_code == 422
    body = bad.json()
    assert body["error"] == "invalid_input"
    assert body["field"]
    assert body["rule"]
    unknown = http.post("/flags", json={**FLAG, "colour": "red"}, headers=WHY)
    assert unknown.status_code == 422
    not_json = http.post(
        "/flags", content=b"{", headers={**WHY, "content-type": "application/json"}
    )
    assert not_json.json() == {
        "error": "invalid_input",
        "field": "body",
        "rule": "must be valid JSON",
    }


def test_every_change_needs_a_reason(http: httpx.Client) -> None:
    response = http.post("/flags", json=FLAG)
    assert response.status_code == 422
    assert response.json()["field"] == "X-Change-Reason"


def test_missing_flag_is_404(http: httpx.Client) -> None:
    response = http.get("/flags/nope")
    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "kind": "flag", "key": "nope"}


def test_update_needs_if_match_and_refuses_a_stale_one(http: httpx.Client) -> None:
    http.post("/flags", json=FLAG, headers=WHY)
    change = {**FLAG, "description": "beta checkout"}

    assert http.put("/flags/beta", json=change, headers=WHY).status_code == 428

    updated = http.put("/flags/beta", json=change, headers={**WHY, "If-Match": '"1"'})
    assert updated.status_code == 200
    assert updated.headers["etag"] == '"2"'
    assert updated.json()["description"] == "beta checkout"

    stale = http.put("/flags/beta", json=change, headers={**WHY, "If-Match": '"1"'})
    assert stale.status_code == 412
    assert stale.json()["current_version"] == 2
    assert stale.headers["etag"] == '"2"'

    other_key = http.put(
        "/flags/beta", json={**change, "key": "gamma"}, headers={**WHY, "If-Match": '"2"'}
    )
    assert other_key.status_code == 422


def test_toggle_archive_and_delete(http: httpx.Client, flags: FeatureFlagClient) -> None:
    http.post("/flags", json=FLAG, headers=WHY)
    assert http.post("/flags/beta/toggle", json={"enabled": "yes"}, headers=WHY).status_code == 422
    stale = http.post(
        "/flags/beta/toggle", json={"enabled": False}, headers={**WHY, "If-Match": '"9"'}
    )
    assert stale.status_code == 412

    off = http.post("/flags/beta/toggle", json={"enabled": False}, headers=WHY)
    assert off.status_code == 200
    assert off.json()["enabled"] is False
    flags.refresh()
    assert flags.is_enabled("beta", default=True) is False

    archived = http.post("/flags/beta/archive", headers={**WHY, "If-Match": '"2"'})
    assert archived.status_code == 200
    assert archived.json()["archived"] is True

    assert http.delete("/flags/beta", headers=WHY).status_code == 204
    assert http.delete("/flags/beta", headers=WHY).status_code == 204  # idempotent
    assert http.get("/flags/beta").status_code == 404


def test_segments(http: httpx.Client) -> None:
    segment = {"key": "pilot", "included": ["user-1"]}
    created = http.post("/segments", json=segment, headers=WHY)
    assert created.status_code == 201
    assert created.headers["location"] == "/admin/v1/segments/pilot"
    assert http.get("/segments/pilot").json()["included"] == ["user-1"]
    assert [s["key"] for s in http.get("/segments").json()["segments"]] == ["pilot"]

    changed = {**segment, "included": ["user-1", "user-2"]}
    assert (
        http.put("/segments/pilot", json=changed, headers={**WHY, "If-Match": '"7"'}).status_code
        == 412
    )
    updated = http.put("/segments/pilot", json=changed, headers={**WHY, "If-Match": '"1"'})
    assert updated.json()["included"] == ["user-1", "user-2"]
    assert http.post("/segments/pilot/archive", headers=WHY).json()["archived"] is True
    assert http.delete("/segments/pilot", headers=WHY).status_code == 204
    assert http.get("/segments/pilot").status_code == 404


def test_audit_log_records_the_actor_and_verifies(http: httpx.Client) -> None:
    http.post("/flags", json=FLAG, headers=WHY)
    http.post("/flags/beta/toggle", json={"enabled": False}, headers=WHY)
    records = http.get("/audit").json()["records"]
    assert [(r["action"], r["actor"], r["reason"]) for r in records][-2:] == [
        ("flag.create", "alice", "ticket 42"),
        ("flag.toggle", "alice", "ticket 42"),
    ]
    verdict = http.get("/audit/verify").json()
    assert verdict["ok"] is True
    assert verdict["count"] == len(records)


def test_schemas(http: httpx.Client) -> None:
    assert set(http.get("/schemas").json()) == {"Flag", "Segment"}


def test_store_outage_is_503_with_retry_after(http: httpx.Client, store: BreakableStore) -> None:
    store.down = True
    response = http.post("/flags", json=FLAG, headers=WHY)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert response.json()["error"] == "store_unavailable"


def test_ofrep_and_admin_share_one_app(http: httpx.Client, flags: FeatureFlagClient) -> None:
    http.post("/flags", json=FLAG, headers=WHY)
    flags.refresh()
    base = str(http.base_url).removesuffix("/admin/v1/")
    evaluated = httpx.post(
        f"{base}/ofrep/v1/evaluate/flags/beta", json={"context": {"targetingKey": "u"}}
    )
    assert evaluated.json()["value"] is True


class ChangesRightAfterARead(FeatureFlagAdmin):
    """An admin whose next flag read is followed at once by another change to that flag, as a
    concurrent request landing between a server's If-Match check and its write would be."""

    armed = False

    def get_flag(self, key: str) -> Any:
        flag = super().get_flag(key)
        if self.armed:
            self.armed = False
            self.toggle_flag(key, not flag.enabled, actor="bob", reason="concurrent")
        return flag


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def racing(
    request: pytest.FixtureRequest, served: Served
) -> Iterator[tuple[httpx.Client, ChangesRightAfterARead]]:
    if request.param == "memory":
        backing: Any = InMemoryFeatureFlagStore()
    else:
        from unified_health.feature_flags import RedisFeatureFlagStore

        client = request.getfixturevalue("redis_client")
        backing = RedisFeatureFlagStore(client, prefix=request.getfixturevalue("redis_prefix"))
    admin = ChangesRightAfterARead(backing)
    if request.param == "redis":
        admin.initialize(actor="test", reason="fresh")
    with FeatureFlagClient(backing, background=False) as flags:
        app = create_asgi_app(flags, authorize=None, admin=admin, admin_authorize=authorize)
        with served(app, "/admin/v1") as http:
            http.headers["Authorization"] = "Bearer admin-token"
            yield http, admin


@pytest.mark.parametrize("method", ["archive", "delete"])
def test_if_match_is_checked_by_the_write_itself_not_by_an_earlier_read(
    racing: tuple[httpx.Client, ChangesRightAfterARead], method: str
) -> None:
    http, admin = racing
    version = http.post("/flags", json=FLAG, headers=WHY).json()["version"]
    admin.armed = True
    headers = {**WHY, "If-Match": f'"{version}"'}
    if method == "archive":
        response = http.post("/flags/beta/archive", headers=headers)
    else:
        response = http.delete("/flags/beta", headers=headers)
    # Either nothing ran between the check and the write, or the write refused the stale tag.
    changed_between = not admin.armed
    if changed_between:
        assert response.status_code == 412
        assert response.json()["current_version"] == version + 1
        assert admin.get_flag("beta").archived is False
    else:
        assert response.status_code in {200, 204}
    stale = http.post("/flags", json={**FLAG, "key": "gamma"}, headers=WHY).json()["version"]
    gone = {**WHY, "If-Match": f'"{stale + 5}"'}
    assert http.post("/flags/gamma/archive", headers=gone).status_code == 412
    assert http.delete("/flags/gamma", headers=gone).status_code == 412


def test_segment_archive_and_delete_honour_if_match(http: httpx.Client) -> None:
    http.post("/segments", json={"key": "pilot", "included": ["user-1"]}, headers=WHY)
    stale = {**WHY, "If-Match": '"7"'}
    refused = http.delete("/segments/pilot", headers=stale)
    assert refused.status_code == 412
    assert refused.json()["current_version"] == 1
    assert refused.headers["etag"] == '"1"'
    assert http.post("/segments/pilot/archive", headers=stale).status_code == 412
    assert http.get("/segments/pilot").status_code == 200
    assert http.delete("/segments/pilot", headers={**WHY, "If-Match": '"1"'}).status_code == 204
    assert http.delete("/segments/pilot", headers=WHY).status_code == 204  # still idempotent
