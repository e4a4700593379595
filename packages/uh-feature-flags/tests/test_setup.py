"""Setup that helps: clear errors for wrong arguments, constructors that never block on a dead
server, a README quick start that runs twice, and `import *` on a base install."""

from __future__ import annotations

import math
import re
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from unified_health.feature_flags import (
    ClientStatus,
    FeatureFlagAdmin,
    FeatureFlagClient,
    Flag,
    InMemoryFeatureFlagStore,
    InvalidInputError,
    RedisFeatureFlagStore,
    StoreUnavailableError,
)

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.mark.parametrize("wrong", ["redis://127.0.0.1:6379/0", b"redis://x", object(), 42])
def test_a_url_or_anything_else_where_a_store_belongs_is_refused(wrong: Any) -> None:
    with pytest.raises(InvalidInputError) as client_error:
        FeatureFlagClient(wrong, background=False)
    assert client_error.value.field == "store"
    assert "from_url" in client_error.value.rule
    with pytest.raises(InvalidInputError) as admin_error:
        FeatureFlagAdmin(wrong)
    assert admin_error.value.field == "store"
    with pytest.raises(InvalidInputError) as store_error:
        RedisFeatureFlagStore(wrong)
    assert store_error.value.field == "client"


@pytest.mark.parametrize("value", ["5", 0, -1.0, math.nan, math.inf, True, None])
def test_durations_must_be_positive_numbers(value: Any) -> None:
    with pytest.raises(InvalidInputError) as caught:
        FeatureFlagClient(poll_interval=value, background=False)
    assert caught.value.field == "poll_interval"


def test_admin_attempts_must_be_a_small_positive_integer() -> None:
    with pytest.raises(InvalidInputError) as caught:
        FeatureFlagAdmin(InMemoryFeatureFlagStore(), max_attempts=0)
    assert caught.value.field == "max_attempts"


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A TCP port that accepts connections and never answers (a hung Redis)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    try:
        yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"
    finally:
        listener.close()


def test_the_client_constructor_does_not_block_on_a_hung_server(silent_server: str) -> None:
    client = FeatureFlagClient.from_url(silent_server, prefix="hung", startup_timeout=0.2)
    try:
        assert not client.ready()
        assert client.status is ClientStatus.NOT_READY
        assert client.is_enabled("anything", {"user_id": "u"}, default=True) is True
    finally:
        client.close()


def test_admin_calls_on_a_hung_server_fail_with_store_unavailable(silent_server: str) -> None:
    with (
        FeatureFlagAdmin.from_url(silent_server, prefix="hung") as admin,
        pytest.raises(StoreUnavailableError),
    ):
        admin.list_flags()


def test_admin_calls_with_nobody_listening_fail_with_store_unavailable() -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens here now
    with (
        FeatureFlagAdmin.from_url(f"redis://127.0.0.1:{port}/0", prefix="dead") as admin,
        pytest.raises(StoreUnavailableError),
    ):
        admin.list_flags()


def _quick_start() -> str:
    text = README.read_text()
    section = text.split("## Quick start", 1)[1]
    found = re.search(r"```python\n(.*?)```", section, flags=re.S)
    assert found is not None
    return found.group(1)


@pytest.mark.redis
def test_the_readme_quick_start_runs_twice_unmodified(redis_url: str, redis_client: Any) -> None:
    code = _quick_start()
    assert '"uh-feature-flags[redis]"' in README.read_text().split("## Quick start", 1)[1][:400]
    if "redis://127.0.0.1:6379/0" not in code or not redis_url.startswith("redis://127.0.0.1:6379"):
        pytest.skip("the quick start talks to the Redis on 127.0.0.1:6379")
    prefix = re.search(r'prefix="([^"]+)"', code)
    assert prefix is not None

    def clean() -> None:
        keys = list(redis_client.scan_iter(match="{" + prefix.group(1) + "}:*"))
        if keys:
            redis_client.delete(*keys)

    clean()
    try:
        outputs = [
            subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
            for _ in range(2)
        ]
    finally:
        clean()
    for run in outputs:
        assert run.returncode == 0, run.stderr
    assert outputs[0].stdout == outputs[1].stdout
    assert outputs[0].stdout.strip()


def test_the_in_memory_and_redis_stores_agree_on_seeding(store: Any) -> None:
    admin = FeatureFlagAdmin(store)
    flags = [Flag(key="a", enabled=True), Flag(key="b")]
    assert admin.seed(flags, actor="ops", reason="setup") == ["a", "b"]
    admin.toggle_flag("a", False, actor="ops", reason="an operator changed it")
    assert admin.seed(flags, actor="ops", reason="setup") == []
    assert admin.get_flag("a").enabled is False  # seeding never overwrites


def test_seeding_initialises_an_empty_store() -> None:
    admin = FeatureFlagAdmin(InMemoryFeatureFlagStore(initialized=False))
    assert admin.seed([Flag(key="a")], actor="ops", reason="setup") == ["a"]
    assert admin.seed([], actor="ops", reason="setup") == []


def test_import_star_works_on_a_base_install() -> None:
    # A fresh interpreter in which the optional extras (and test-only packages) cannot be
    # imported, as on `pip install uh-feature-flags` with no extras.
    code = textwrap.dedent(
        """
        import sys

        BLOCKED = {"redis", "starlette", "openfeature", "httpx", "uvicorn", "anyio"}

        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in BLOCKED:
                    raise ImportError(f"{name} is not installed")
                return None

        sys.meta_path.insert(0, Block())
        from unified_health.feature_flags import *  # noqa: F403
        import unified_health.feature_flags as package

        missing = [name for name in package.__all__ if name not in globals()]
        assert not missing, missing
        assert not [m for m in sys.modules if m.split(".")[0] in BLOCKED]
        flags = FeatureFlagClient(background=False)
        print(flags.is_enabled("x", default=True))
        """
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "True"
