"""The OFREP front-end: single and bulk evaluation, ETags, auth hook, and what is never exposed."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import httpx
import pytest
from starlette.exceptions import HTTPException
from starlette.requests import Request

from uh_testkit import vendor_spec
from unified_health.feature_flags._asgi import MAX_BODY_BYTES, create_asgi_app
from unified_health.feature_flags._client import FeatureFlagClient
from unified_health.feature_flags._models import Condition, Flag, Operator, Rollout, Rule, Target
from unified_health.feature_flags.stores import Commit, InMemoryFeatureFlagStore, Write

# A real HTTP server: uvicorn is a test dependency (skip with the reason when it is missing).
uvicorn = pytest.importorskip("uvicorn")
# The `served` fixture (conftest): serve an ASGI app over real HTTP on 127.0.0.1.
Served = Callable[..., AbstractContextManager[httpx.Client]]

BULK = "/ofrep/v1/evaluate/flags"


def single(key: str) -> str:
    return f"/ofrep/v1/evaluate/flags/{key}"


def put(store: InMemoryFeatureFlagStore, *flags: Flag) -> None:
    state = store.read()
    assert state is not None
    writes = tuple(Write("flags", flag.key, flag.model_dump_json()) for flag in flags)
    store.commit(Commit(base_epoch=state.epoch, base_version=state.version, writes=writes))


FLAGS = (
    Flag(key="banner", enabled=True, client_side=True),
    Flag(
        key="theme",
        kind="string",
        enabled=True,
        client_side=True,
        variants={"light": "light", "dark": "dark"},
        default_variant="light",
        off_variant="light",
        targets=[Target(variant="dark", values=["secret-vip-user"])],
        rules=[
            Rule(
                id="clinicians",
                conditions=[
                    Condition(
                        attribute="email", operator=Operator.ENDS_WITH, values=["@clinic.org"]
                    )
                ],
                variant="dark",
            )
        ],
    ),
    Flag(key="beta", enabled=True, client_side=True, rollout=Rollout(percentage=100)),
    Flag(key="dormant", enabled=False, client_side=True),
    Flag(key="server-only", enabled=True),
)


@pytest.fixture
def store() -> InMemoryFeatureFlagStore:
    store = InMemoryFeatureFlagStore()
    put(store, *FLAGS)
    return store


@pytest.fixture
def flags(store: InMemoryFeatureFlagStore) -> Iterator[FeatureFlagClient]:
    with FeatureFlagClient(store, background=False) as client:
        yield client


@pytest.fixture
def http(flags: FeatureFlagClient, served: Served) -> Iterator[httpx.Client]:
    with served(create_asgi_app(flags, authorize=None)) as client:
        yield client


def ctx(targeting_key: str = "user-1", **attributes: Any) -> dict[str, Any]:
    return {"context": {"targetingKey": targeting_key, **attributes}}


def test_bulk_lists_only_client_side_flags_with_values_variants_and_reasons(
    http: httpx.Client,
) -> None:
    response = http.post(BULK, json=ctx(email="a@clinic.org"))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    by_key = {item["key"]: item for item in response.json()["flags"]}
    assert set(by_key) == {"banner", "theme", "beta", "dormant"}
    assert by_key["banner"] == {
        "key": "banner",
        "value": True,
        "variant": "on",
        "reason": "STATIC",
        "metadata": {"version": 0},
    }
    assert by_key["theme"]["value"] == "dark"
    assert by_key["theme"]["reason"] == "TARGETING_MATCH"
    assert by_key["beta"]["reason"] == "SPLIT"
    assert by_key["dormant"] == {
        "key": "dormant",
        "value": False,
        "variant": "off",
        "reason": "DISABLED",
        "metadata": {"version": 0},
    }


def test_no_rule_matched_is_reported_as_static_because_ofrep_has_no_default_reason(
    http: httpx.Client,
) -> None:
    item = http.post(single("theme"), json=ctx(email="a@example.com")).json()
    assert (item["value"], item["reason"]) == ("light", "STATIC")


def test_rules_targets_and_server_side_flags_never_leave_the_server(http: httpx.Client) -> None:
    text = http.post(BULK, json=ctx(email="a@clinic.org")).text
    for secret in ("secret-vip-user", "@clinic.org", "clinicians", "server-only", "conditions"):
        assert secret not in text


def test_single_evaluation_of_a_client_side_flag(http: httpx.Client) -> None:
    response = http.post(single("theme"), json=ctx(email="doc@clinic.org"))
    assert response.status_code == 200
    assert response.json() == {
        "key": "theme",
        "value": "dark",
        "variant": "dark",
        "reason": "TARGETING_MATCH",
        "metadata": {"version": 0},
    }


@pytest.mark.parametrize("key", ["server-only", "no-such-flag"])
def test_server_side_and_missing_flags_answer_the_same_404(http: httpx.Client, key: str) -> None:
    response = http.post(single(key), json=ctx())
    assert response.status_code == 404
    assert response.json() == {
        "key": key,
        "errorCode": "FLAG_NOT_FOUND",
        "errorDetails": "flag not found",
    }


def test_targeting_key_is_used_for_individual_targets(http: httpx.Client) -> None:
    assert http.post(single("theme"), json=ctx("secret-vip-user")).json()["value"] == "dark"


def test_bulk_etag_and_if_none_match_answer_304_until_flags_change(
    http: httpx.Client, store: InMemoryFeatureFlagStore, flags: FeatureFlagClient
) -> None:
    first = http.post(BULK, json=ctx())
    etag = first.headers["etag"]
    assert etag.startswith('"')
    assert etag.endswith('"')

    cached = http.post(BULK, json=ctx(), headers={"If-None-Match": etag})
    assert cached.status_code == 304
    assert cached.content == b""
    assert cached.headers["etag"] == etag

    weak_in_list = http.post(BULK, json=ctx(), headers={"If-None-Match": f'"x", W/{etag}'})
    assert weak_in_list.status_code == 304

    put(store, Flag(key="banner", enabled=False, client_side=True))
    flags.refresh()
    changed = http.post(BULK, json=ctx(), headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert {i["key"]: i["value"] for i in changed.json()["flags"]}["banner"] is False


def test_bulk_etag_depends_on_what_the_context_is_served(http: httpx.Client) -> None:
    etag = http.post(BULK, json=ctx("user-1")).headers["etag"]
    other = http.post(BULK, json=ctx("secret-vip-user"), headers={"If-None-Match": etag})
    assert other.status_code == 200
    assert other.headers["etag"] != etag


def test_workers_that_counted_changes_differently_never_share_an_etag_for_other_content(
    store: InMemoryFeatureFlagStore, served: Served
) -> None:
    # Worker A started from a bootstrap with a higher version, so its local change counter is
    # ahead of worker B's; a tag built from that counter could name B's different content.
    bootstrap = json.dumps({"version": 40, "flags": {}})
    with (
        FeatureFlagClient(store, bootstrap=bootstrap, background=False) as worker_a,
        FeatureFlagClient(store, background=False) as worker_b,
        served(create_asgi_app(worker_a, authorize=None)) as http_a,
        served(create_asgi_app(worker_b, authorize=None)) as http_b,
    ):
        put(store, Flag(key="banner", enabled=False, client_side=True))
        worker_b.refresh()  # A still serves the old banner, B the new one
        from_a = http_a.post(BULK, json=ctx())
        from_b = http_b.post(BULK, json=ctx(), headers={"If-None-Match": from_a.headers["etag"]})
        assert from_b.status_code == 200
        assert from_b.headers["etag"] != from_a.headers["etag"]
        worker_a.refresh()  # both serve the same flags now: the same tag, whatever the counters
        again_a = http_a.post(BULK, json=ctx())
        again_b = http_b.post(BULK, json=ctx(), headers={"If-None-Match": again_a.headers["etag"]})
        assert worker_a.snapshot_version != worker_b.snapshot_version
        assert again_b.status_code == 304


def test_invalid_json_is_a_parse_error(http: httpx.Client) -> None:
    headers = {"content-type": "application/json"}
    bulk = http.post(BULK, content=b"{not json", headers=headers)
    assert bulk.status_code == 400
    assert bulk.json() == {
        "errorCode": "PARSE_ERROR",
        "errorDetails": "request body is not valid JSON",
    }
    one = http.post(single("banner"), content=b"{not json", headers=headers)
    assert one.status_code == 400
    assert one.json()["key"] == "banner"
    assert one.json()["errorCode"] == "PARSE_ERROR"


@pytest.mark.parametrize(
    "body",
    [[], {"context": "user-1"}, {"context": {"targetingKey": 42}}],
    ids=["not-an-object", "context-not-an-object", "targeting-key-not-a-string"],
)
def test_malformed_context_is_invalid_context(http: httpx.Client, body: object) -> None:
    response = http.post(BULK, json=body)
    assert response.status_code == 400
    assert response.json()["errorCode"] == "INVALID_CONTEXT"


def test_oversized_bodies_are_refused(http: httpx.Client) -> None:
    padding = "x" * MAX_BODY_BYTES
    response = http.post(BULK, json=ctx(padding=padding))
    assert response.status_code == 413
    assert "errorDetails" in response.json()


def test_only_post_is_served(http: httpx.Client) -> None:
    assert http.get(BULK).status_code == 405


def test_authorize_hook_pins_the_targeting_key_to_the_session(
    flags: FeatureFlagClient, served: Served
) -> None:
    seen: list[dict[str, Any]] = []

    def authorize(request: Request, context: dict[str, Any]) -> dict[str, Any]:
        if request.headers.get("authorization") != "Bearer good-token":
            raise HTTPException(401, "missing or invalid token", {"WWW-Authenticate": "Bearer"})
        seen.append(context)
        return {**context, "targetingKey": "secret-vip-user"}

    with served(create_asgi_app(flags, authorize=authorize)) as http:
        refused = http.post(single("theme"), json=ctx("someone-else"))
        assert refused.status_code == 401
        assert refused.json() == {"errorDetails": "missing or invalid token"}
        assert refused.headers["www-authenticate"] == "Bearer"

        allowed = http.post(
            single("theme"),
            json=ctx("someone-else"),
            headers={"Authorization": "Bearer good-token"},
        )
        assert allowed.status_code == 200
        assert allowed.json()["value"] == "dark"
    assert seen == [{"targetingKey": "someone-else"}]


def test_async_authorize_hook_can_forbid(flags: FeatureFlagClient, served: Served) -> None:
    async def authorize(request: Request, context: dict[str, Any]) -> dict[str, Any]:
        raise HTTPException(403, "not allowed")

    with served(create_asgi_app(flags, authorize=authorize)) as http:
        response = http.post(BULK, json=ctx())
    assert response.status_code == 403
    assert response.json() == {"errorDetails": "not allowed"}


def test_bulk_before_any_data_is_a_server_error(served: Served) -> None:
    store = InMemoryFeatureFlagStore(initialized=False)
    with (
        FeatureFlagClient(store, background=False) as flags,
        served(create_asgi_app(flags, authorize=None)) as http,
    ):
        response = http.post(BULK, json=ctx())
    assert response.status_code == 500
    assert response.json() == {"errorDetails": "flag data is not loaded yet"}
    assert response.headers["retry-after"] == "1"


def test_a_single_flag_before_any_data_is_not_ready_rather_than_not_found(
    served: Served,
) -> None:
    store = InMemoryFeatureFlagStore(initialized=False)
    with (
        FeatureFlagClient(store, background=False) as flags,
        served(create_asgi_app(flags, authorize=None)) as http,
    ):
        response = http.post(single("banner"), json=ctx())
    # OFREP defines no "not ready" code: a generalErrorResponse (500) the provider retries.
    assert response.status_code == 500
    assert response.json() == {"errorDetails": "flag data is not loaded yet"}
    assert response.headers["retry-after"] == "1"


def test_responses_are_plain_json_documents(http: httpx.Client) -> None:
    body = http.post(BULK, json=ctx()).content
    assert isinstance(json.loads(body), dict)


# ------------------------------------------------------------------ against the OFREP document


def _ofrep_document() -> dict[str, Any]:
    """The OFREP OpenAPI document, from ``UH_VENDOR_SPECS`` or ``../shared/vendor-specs``."""
    path = vendor_spec("openfeature", "ofrep-openapi.yaml")
    yaml = pytest.importorskip("yaml")
    document: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return document


def _any_of(node: Any) -> Any:
    # OFREP's value schemas overlap under oneOf (codeDefaultFlag has no required property, and an
    # integer is also a number), so no response could match exactly one; check them as anyOf.
    if isinstance(node, dict):
        return {("anyOf" if k == "oneOf" else k): _any_of(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_any_of(v) for v in node]
    return node


@pytest.fixture(scope="module")
def ofrep_schema() -> Callable[[str, Any], None]:
    jsonschema = pytest.importorskip("jsonschema")
    referencing = pytest.importorskip("referencing")
    document = _any_of(_ofrep_document())
    resource = referencing.Resource.from_contents(
        document, default_specification=referencing.jsonschema.DRAFT202012
    )
    registry = referencing.Registry().with_resource("urn:ofrep", resource)

    def check(name: str, instance: Any) -> None:
        schema = {"$ref": f"urn:ofrep#/components/schemas/{name}"}
        jsonschema.Draft202012Validator(schema, registry=registry).validate(instance)

    return check


def test_responses_match_the_ofrep_document(
    http: httpx.Client, ofrep_schema: Callable[[str, Any], None]
) -> None:
    bulk = http.post(BULK, json=ctx(email="a@clinic.org")).json()
    ofrep_schema("bulkEvaluationSuccess", bulk)
    for item in bulk["flags"]:
        ofrep_schema("evaluationSuccess", item)
    ofrep_schema("serverEvaluationSuccess", http.post(single("theme"), json=ctx()).json())
    ofrep_schema("flagNotFound", http.post(single("server-only"), json=ctx()).json())
    ofrep_schema("evaluationFailure", http.post(single("theme"), json=[]).json())
    ofrep_schema("bulkEvaluationFailure", http.post(BULK, json=[]).json())


def test_ofrep_document_describes_the_two_routes_served() -> None:
    paths = _ofrep_document()["paths"]
    assert set(paths) == {"/ofrep/v1/evaluate/flags/{key}", "/ofrep/v1/evaluate/flags"}
    assert set(paths["/ofrep/v1/evaluate/flags"]) == {"post"}
