"""Benchmark of uh-feature-flags, with its peers on the same work in the same run.

Run with ``nox -s bench -- feature-flags [--quick]``; prints one JSON object (the family shape).

Figures:

1. ``evaluate_mix_distinct_users``: three flags (plain boolean, 25 % rollout, rule "email ends
   with @clinic.org") over 100k distinct users, per evaluation. Peers on the same flags and users:
   LaunchDarkly (file data source, events off), GrowthBook (local features dict), Unleash
   (bootstrapped, never initialised, so no network, registration or metrics) and the OpenFeature
   SDK with this package's provider. Redis commands sent by the evaluating thread are counted.
2. ``propagation_redis_8_subscribers``: from the admin write to the change listener firing in 8
   subscriber processes, each with its own client on a Redis store.
   ``change_set_50_flags_8_subscribers``: one change set toggling 50 flags, from the store
   commit (after the admin validated it) to the listener in the same 8 processes; each
   listener reads all 50 flags and reports whether it saw them all at their new value (a torn
   read would count in ``torn_reads``).
3. ``evaluate_with_redis_stopped``: the mix of figure 1 while the Redis server is killed.
4. ``evaluate_all_100_flags``: bulk evaluation of 100 flags for one context (LaunchDarkly's
   ``all_flags_state`` on the same flags as a peer).
5. ``recovery_after_redis_restart``: a client at the default poll interval; the server is killed,
   held down for a varying time, started again (empty) and restored with a change; the time
   from the restarted server answering to the client serving the change, over 10 restarts
   (``trials`` lists each one). The target is the poll interval, in every trial.

Medians come from ``perf_counter_ns`` over batches (batch time / batch size); p95 and p99 from
timing single calls of a random sample, which includes the timer's own overhead (tens of
nanoseconds).
``ratio_to`` is the peer's median divided by ours: above 1 means this package is faster.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import json
import logging
import multiprocessing
import os
import platform
import queue
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import redis
import structlog

from unified_health.feature_flags import (
    Condition,
    FeatureFlagAdmin,
    FeatureFlagClient,
    Flag,
    InMemoryFeatureFlagStore,
    RedisFeatureFlagStore,
    Rollout,
    Rule,
)
from unified_health.feature_flags._config import DEFAULT_POLL_INTERVAL
from unified_health.feature_flags._openfeature import FeatureFlagProvider

PACKAGE = "uh-feature-flags"
MIX = ("plain", "rollout-25", "clinic-email")
CLINIC = "@clinic.org"
ACTOR = {"actor": "benchmark", "reason": "benchmark setup"}
PEER_DISTS = {
    "launchdarkly": "launchdarkly-server-sdk",
    "growthbook": "growthbook",
    "unleash": "UnleashClient",
    "openfeature": "openfeature-sdk",
}

Pairs = list[tuple[str, Any]]

# stdout carries the JSON report only: the library's log events go to stderr, warnings and up.
structlog.configure(
    wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
    logger_factory=structlog.PrintLoggerFactory(sys.stderr),
)


# ------------------------------------------------------------------------------------ timing


@dataclass
class Timing:
    median: float
    p95: float | None
    p99: float | None
    n: int


def _percentile(sorted_values: Sequence[float], q: float) -> float:
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]


def time_batches(
    run: Callable[[Any], object], batches: Sequence[Sequence[Any]], *, per_batch: int
) -> list[float]:
    """Microseconds per item for each batch (``run`` loops over the batch itself)."""
    clock = time.perf_counter_ns
    out = []
    for batch in batches:
        began = clock()
        run(batch)
        out.append((clock() - began) / per_batch / 1000)
    return out


def time_singles(call: Callable[[Any], object], items: Sequence[Any]) -> tuple[float, float]:
    """p95 and p99, in microseconds, of timing ``call(item)`` one at a time."""
    clock = time.perf_counter_ns
    samples = []
    for item in items:
        began = clock()
        call(item)
        samples.append((clock() - began) / 1000)
    samples.sort()
    return _percentile(samples, 0.95), _percentile(samples, 0.99)


def chunks(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items) - size + 1, size)]


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _r(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def row(
    name: str,
    unit: str,
    timing: Timing,
    *,
    target: float | None,
    meets_target: bool | None,
    peers: dict[str, dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    peers = peers or {}
    ratio_to = {
        peer: _r(data["median"] / timing.median, 2)
        for peer, data in peers.items()
        if data.get("median") and timing.median
    }
    return {
        "name": name,
        "unit": unit,
        "median": _r(timing.median),
        "p95": _r(timing.p95),
        "p99": _r(timing.p99),
        "n": timing.n,
        "peers": peers,
        "ratio_to": ratio_to,
        "target": target,
        "meets_target": meets_target,
        **extra,
    }


# ------------------------------------------------------------------------------------ redis


class RedisServer:
    """A private redis-server on a free port, which figure 3 kills."""

    def __init__(self) -> None:
        executable = shutil.which("redis-server")
        if executable is None:
            raise FileNotFoundError("redis-server is not on PATH")
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._dir = tempfile.mkdtemp(prefix="uh-bench-redis-")
        command = [executable, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        command += ["--appendonly", "no", "--dir", self._dir]
        self._command = command
        self._process = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if _answers(self.url):
                return
            time.sleep(0.05)
        self.close()
        raise RuntimeError("redis-server did not answer")

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait(10)

    def start(self) -> None:
        """Start the server again on the same port (empty), and wait until it answers."""
        if self._process.poll() is None:
            return
        self._process = subprocess.Popen(
            self._command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if _answers(self.url):
                return
            time.sleep(0.005)
        raise RuntimeError("redis-server did not answer after a restart")

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self._dir, ignore_errors=True)


def _answers(url: str) -> bool:
    client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
    try:
        return bool(client.ping())
    except (redis.RedisError, OSError):
        return False
    finally:
        client.close()


class CountingRedis(redis.Redis):
    """A redis-py client that counts the commands sent from one thread."""

    counted_thread: int | None = None
    count = 0

    def execute_command(self, *args: Any, **options: Any) -> Any:
        if threading.get_ident() == self.counted_thread:
            self.count += 1
        return super().execute_command(*args, **options)


def server_commands(url: str) -> int:
    client = redis.Redis.from_url(url)
    try:
        stats = client.info("commandstats")
    finally:
        client.close()
    return sum(int(entry["calls"]) for entry in stats.values())


@contextlib.contextmanager
def redis_for_benchmark() -> Iterator[tuple[str | None, RedisServer | None, str]]:
    """A private server when redis-server is on PATH, else ``REDIS_URL`` / 127.0.0.1:6379."""
    try:
        server = RedisServer()
    except (FileNotFoundError, RuntimeError) as exc:
        url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
        note = f"no private redis-server ({exc})"
        yield (url if _answers(url) else None), None, note
        return
    try:
        yield server.url, server, "private redis-server"
    finally:
        server.close()


# ------------------------------------------------------------------------------------ workload


def users(count: int) -> list[tuple[str, str]]:
    """``count`` distinct users; every third has a clinic email."""
    return [(f"user-{i}", f"u{i}@example.com" if i % 3 else f"u{i}{CLINIC}") for i in range(count)]


def clinic_rule(rule_id: str = "clinic") -> Rule:
    ends_with = Condition(attribute="email", operator="ends_with", values=[CLINIC])
    return Rule(id=rule_id, conditions=[ends_with], variant="on")


def mix_flags() -> list[Flag]:
    return [
        Flag(key="plain", enabled=True),
        Flag(key="rollout-25", enabled=True, rollout=Rollout(percentage=25)),
        Flag(key="clinic-email", enabled=True, default_variant="off", rules=[clinic_rule()]),
    ]


def bulk_flags(count: int) -> list[Flag]:
    """``count`` flags: plain, rollout, email rule, and string flags with an ``in`` rule."""
    out: list[Flag] = []
    for i in range(count):
        key = f"bulk-{i:03d}"
        kind = i % 4
        if kind == 0:
            out.append(Flag(key=key, enabled=True))
        elif kind == 1:
            out.append(Flag(key=key, enabled=True, rollout=Rollout(percentage=10 + i % 80)))
        elif kind == 2:
            out.append(Flag(key=key, enabled=True, default_variant="off", rules=[clinic_rule()]))
        else:
            plan = Condition(attribute="plan", operator="in", values=["pro", "team"])
            out.append(
                Flag(
                    key=key,
                    kind="string",
                    enabled=True,
                    variants={"a": "alpha", "b": "beta"},
                    default_variant="a",
                    off_variant="a",
                    rules=[Rule(id="plan", conditions=[plan], variant="b")],
                )
            )
    return out


def seed(store: Any, flags: Sequence[Flag]) -> FeatureFlagAdmin:
    admin = FeatureFlagAdmin(store)
    if store.read() is None:
        admin.initialize(**ACTOR)
    for flag in flags:
        admin.create_flag(flag, **ACTOR)
    return admin


# ------------------------------------------------------------------------------------ peers


def ld_flag_docs(flags: Sequence[Flag]) -> dict[str, Any]:
    """The same flags as LaunchDarkly flag documents (for its file data source)."""
    docs: dict[str, Any] = {}
    for flag in flags:
        values = list(flag.variants.values())
        names = list(flag.variants)
        doc: dict[str, Any] = {
            "key": flag.key,
            "on": flag.enabled,
            "variations": values,
            "offVariation": names.index(flag.off_variant),
            "fallthrough": {"variation": names.index(flag.default_variant)},
            "version": 1,
            "salt": flag.key,
            "rules": [],
        }
        if flag.rollout is not None:
            on = int(flag.rollout.percentage * 1000)
            doc["fallthrough"] = {
                "rollout": {
                    "variations": [
                        {"variation": names.index("on"), "weight": on},
                        {"variation": names.index("off"), "weight": 100_000 - on},
                    ]
                }
            }
        for rule in flag.rules:
            clause = rule.conditions[0]
            op = {"ends_with": "endsWith", "in": "in"}[clause.operator.value]
            doc["rules"].append(
                {
                    "id": rule.id,
                    "clauses": [{"attribute": clause.attribute, "op": op, "values": clause.values}],
                    "variation": names.index(rule.variant or flag.default_variant),
                }
            )
        docs[flag.key] = doc
    return docs


@contextlib.contextmanager
def launchdarkly(flags: Sequence[Flag]) -> Iterator[Any]:
    from ldclient.client import LDClient
    from ldclient.config import Config
    from ldclient.integrations import Files

    logging.getLogger("ldclient").setLevel(logging.ERROR)
    folder = tempfile.mkdtemp(prefix="uh-bench-ld-")
    path = os.path.join(folder, "flags.json")
    with open(path, "w", encoding="utf-8") as handle:
        json.dump({"flags": ld_flag_docs(flags)}, handle)
    config = Config(
        "offline-benchmark-key",
        update_processor_class=Files.new_data_source(paths=[path]),
        send_events=False,
        diagnostic_opt_out=True,
    )
    client = LDClient(config=config, start_wait=10)
    try:
        if not client.is_initialized():
            raise RuntimeError("LaunchDarkly did not load the flag file")
        yield client
    finally:
        client.close()
        shutil.rmtree(folder, ignore_errors=True)


def ld_context(user: str, email: str) -> Any:
    from ldclient import Context

    return Context.builder(user).set("email", email).build()


def growthbook_features() -> dict[str, Any]:
    return {
        "plain": {"defaultValue": True},
        "rollout-25": {
            "defaultValue": False,
            "rules": [{"force": True, "coverage": 0.25, "hashAttribute": "id"}],
        },
        "clinic-email": {
            "defaultValue": False,
            "rules": [{"condition": {"email": {"$regex": "@clinic\\.org$"}}, "force": True}],
        },
    }


@contextlib.contextmanager
def unleash() -> Iterator[Any]:
    from UnleashClient import UnleashClient
    from UnleashClient.cache import FileCache

    logging.getLogger("UnleashClient").setLevel(logging.ERROR)
    folder = tempfile.mkdtemp(prefix="uh-bench-unleash-")
    cache = FileCache("uh-benchmark", directory=folder)
    cache.bootstrap_from_dict(
        {
            "version": 1,
            "features": [
                {"name": "plain", "enabled": True, "strategies": [{"name": "default"}]},
                {
                    "name": "rollout-25",
                    "enabled": True,
                    "strategies": [
                        {
                            "name": "flexibleRollout",
                            "parameters": {
                                "rollout": "25",
                                "stickiness": "userId",
                                "groupId": "rollout-25",
                            },
                        }
                    ],
                },
                {
                    "name": "clinic-email",
                    "enabled": True,
                    "strategies": [
                        {
                            "name": "default",
                            "constraints": [
                                {
                                    "contextName": "email",
                                    "operator": "STR_ENDS_WITH",
                                    "values": [CLINIC],
                                }
                            ],
                        }
                    ],
                },
            ],
        }
    )
    # Never initialised: the bootstrapped engine evaluates; nothing registers, fetches or
    # reports metrics. The URL is a closed local port in case anything tried.
    client = UnleashClient(
        url="http://127.0.0.1:9/api",
        app_name="uh-benchmark",
        disable_metrics=True,
        disable_registration=True,
        cache=cache,
    )
    try:
        yield client
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def peer_entry(name: str, median: float | None, note: str | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"median": _r(median), "version": _version(PEER_DISTS[name])}
    if note:
        entry["note"] = note
    return entry


def run_peer(name: str, measure: Callable[[], float], peers: dict[str, dict[str, Any]]) -> None:
    if _version(PEER_DISTS[name]) is None:
        peers[name] = peer_entry(name, None, "not installed")
        return
    try:
        peers[name] = peer_entry(name, measure())
    except Exception as exc:
        peers[name] = peer_entry(name, None, f"could not run: {type(exc).__name__}: {exc}")


# ------------------------------------------------------------------------------------ figure 1


def figure_mix(quick: bool, redis_url: str | None, redis_note: str) -> dict[str, Any]:
    count = 5_000 if quick else 100_000
    batch = 300
    population = users(count)
    contexts = [{"targeting_key": user, "email": email} for user, email in population]
    pairs: Pairs = [(key, ctx) for ctx in contexts for key in MIX]

    counting: CountingRedis | None = None
    prefix = f"uh-bench-{uuid.uuid4().hex[:8]}"
    if redis_url is not None:
        counting = CountingRedis.from_url(redis_url)
        store: Any = RedisFeatureFlagStore(counting, prefix=prefix)
    else:
        store = InMemoryFeatureFlagStore()
    seed(store, mix_flags())
    client = FeatureFlagClient(store)
    client.wait_ready(10)
    is_enabled = client.is_enabled

    def ours(items: Pairs) -> None:
        for key, ctx in items:
            is_enabled(key, ctx)

    ours(pairs[:30_000])  # warm-up
    before = server_commands(redis_url) if redis_url else 0
    if counting is not None:
        counting.counted_thread = threading.get_ident()
        counting.count = 0
    medians = time_batches(ours, chunks(pairs, batch) * (1 if quick else 3), per_batch=batch)
    sample = random.Random(7).sample(pairs, min(len(pairs), 20_000))
    p95, p99 = time_singles(lambda pair: is_enabled(*pair), sample)
    evaluations = len(medians) * batch
    thread_commands = counting.count if counting is not None else None
    if counting is not None:
        counting.counted_thread = None
    server_delta = (server_commands(redis_url) - before - 1) if redis_url else None
    timing = Timing(statistics.median(medians), p95, p99, evaluations)
    share = {key: sum(is_enabled(key, ctx) for ctx in contexts) / count for key in MIX}

    peers: dict[str, dict[str, Any]] = {}

    def measure_ld() -> float:
        with launchdarkly(mix_flags()) as ld:
            variation = ld.variation
            ld_pairs = [(key, ld_context(u, e)) for u, e in population for key in MIX]

            def run(items: Pairs) -> None:
                for key, ctx in items:
                    variation(key, ctx, False)

            run(ld_pairs[:3_000])
            return statistics.median(time_batches(run, chunks(ld_pairs, batch), per_batch=batch))

    def measure_growthbook() -> float:
        from growthbook import GrowthBook

        gb = GrowthBook(features=growthbook_features())
        attributes = [{"id": u, "email": e} for u, e in population]
        is_on = gb.is_on
        set_attributes = gb.set_attributes

        def run(items: Sequence[dict[str, Any]]) -> None:
            for attrs in items:
                set_attributes(attrs)
                is_on("plain")
                is_on("rollout-25")
                is_on("clinic-email")

        run(attributes[:1_000])
        per_user = batch // len(MIX)
        return statistics.median(
            time_batches(run, chunks(attributes, per_user), per_batch=per_user * len(MIX))
        )

    def measure_unleash() -> float:
        with unleash() as un:
            check = un.is_enabled
            contexts = [{"userId": u, "properties": {"email": e}} for u, e in population]
            un_pairs = [(key, ctx) for ctx in contexts for key in MIX]
            if not check("plain", un_pairs[0][1]):
                raise RuntimeError("bootstrapped flags were not loaded")

            def run(items: Pairs) -> None:
                for key, ctx in items:
                    check(key, ctx)

            run(un_pairs[:3_000])
            return statistics.median(time_batches(run, chunks(un_pairs, batch), per_batch=batch))

    def measure_openfeature() -> float:
        from openfeature import api
        from openfeature.evaluation_context import EvaluationContext

        domain = f"uh-bench-{uuid.uuid4().hex[:6]}"
        api.set_provider_and_wait(FeatureFlagProvider(client), domain=domain)
        of_client = api.get_client(domain)
        get = of_client.get_boolean_value
        of_pairs = [
            (key, EvaluationContext(targeting_key=u, attributes={"email": e}))
            for u, e in population
            for key in MIX
        ]

        def run(items: Pairs) -> None:
            for key, ctx in items:
                get(key, False, ctx)

        try:
            run(of_pairs[:3_000])
            return statistics.median(time_batches(run, chunks(of_pairs, batch), per_batch=batch))
        finally:
            api.shutdown()

    run_peer("launchdarkly", measure_ld, peers)
    run_peer("growthbook", measure_growthbook, peers)
    run_peer("unleash", measure_unleash, peers)
    peers["unleash"].setdefault(
        "note", "bootstrapped from a dict, never initialised: no fetch, registration or metrics"
    )
    run_peer("openfeature", measure_openfeature, peers)
    peers["openfeature"].setdefault("note", "OpenFeature SDK client with this package's provider")
    client.close()
    store.close()
    if counting is not None:
        counting.close()

    ld_ratio = (peers["launchdarkly"].get("median") or 0) / timing.median
    ld_ok = ld_ratio >= 5 if peers["launchdarkly"].get("median") else None
    meets = timing.median <= 1.5 and ld_ok is not False
    return row(
        "evaluate_mix_distinct_users",
        "us",
        timing,
        target=1.5,
        meets_target=meets,
        peers=peers,
        users=count,
        store="redis" if redis_url else "memory",
        redis=redis_note,
        redis_commands_per_evaluation=(
            thread_commands / evaluations if thread_commands is not None else None
        ),
        redis_server_commands_during_timing=server_delta,
        served_on_share={key: round(value, 4) for key, value in share.items()},
        target_vs_launchdarkly=">= 5x",
        meets_target_vs_launchdarkly=ld_ok,
    )


# ------------------------------------------------------------------------------------ figure 4


def figure_bulk(quick: bool) -> dict[str, Any]:
    flags = bulk_flags(100)
    store = InMemoryFeatureFlagStore()
    seed(store, flags)
    client = FeatureFlagClient(store)
    client.wait_ready(10)
    ctx = {"targeting_key": "user-42", "email": "doc@clinic.org", "plan": "pro"}
    calls = 300 if quick else 5_000
    batch = 50
    evaluate_all = client.evaluate_all
    assert len(evaluate_all(ctx)) == 100

    def run(items: Sequence[int]) -> None:
        for _ in items:
            evaluate_all(ctx)

    run(range(200))
    medians = time_batches(run, chunks(range(calls), batch), per_batch=batch)
    p95, p99 = time_singles(lambda _: evaluate_all(ctx), range(min(calls, 2_000)))
    timing = Timing(statistics.median(medians), p95, p99, len(medians) * batch)

    peers: dict[str, dict[str, Any]] = {}

    def measure_ld() -> float:
        with launchdarkly(flags) as ld:
            ld_ctx = ld_context("user-42", "doc@clinic.org")
            state = ld.all_flags_state(ld_ctx)
            if len(state.to_values_map()) != 100:
                raise RuntimeError("LaunchDarkly did not load 100 flags")

            def run_ld(items: Sequence[int]) -> None:
                for _ in items:
                    ld.all_flags_state(ld_ctx)

            ld_calls = max(batch, calls // 10)
            return statistics.median(
                time_batches(run_ld, chunks(range(ld_calls), batch), per_batch=batch)
            )

    run_peer("launchdarkly", measure_ld, peers)
    if "launchdarkly" in peers:
        peers["launchdarkly"].setdefault("note", "all_flags_state() on the same 100 flags")
    client.close()
    return row(
        "evaluate_all_100_flags",
        "us",
        timing,
        target=150.0,
        meets_target=timing.median <= 150.0,
        peers=peers,
    )


# ------------------------------------------------------------------------------------ figure 2


def subscriber(
    url: str, prefix: str, key: str, bulk: list[str], ready: Any, out: Any, stop: Any
) -> None:  # runs in a child process
    client = FeatureFlagClient.from_url(url, prefix=prefix)
    client.wait_ready(10)
    pid = os.getpid()
    first = bulk[0]

    def on_change(event: Any) -> None:
        fired = time.monotonic_ns()
        if key in event.changed_keys:
            out.put(("single", pid, fired, client.is_enabled(key), True))
        if first in event.changed_keys:
            values = [client.is_enabled(name) for name in bulk]
            out.put(("bulk", pid, fired, values[0], len(set(values)) == 1))

    client.add_listener(on_change)
    ready.put(pid)
    stop.wait(600)
    client.close()


def _collect(
    out: Any, kind: str, expected: bool, began: int, processes: int
) -> tuple[list[float], int, int]:
    """Latencies (ms) of the processes that saw ``expected``; missed and torn counts."""
    seen: set[int] = set()
    latencies: list[float] = []
    torn = 0
    deadline = time.monotonic() + 5
    while len(seen) < processes and time.monotonic() < deadline:
        try:
            what, pid, fired, value, whole = out.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            break
        if what != kind:
            continue
        torn += not whole
        if value is expected and whole and pid not in seen:
            seen.add(pid)
            latencies.append((fired - began) / 1e6)
    return latencies, processes - len(seen), torn


def _timing(latencies: list[float]) -> Timing:
    latencies.sort()
    return Timing(
        statistics.median(latencies) if latencies else None,
        _percentile(latencies, 0.95) if latencies else None,
        _percentile(latencies, 0.99) if latencies else None,
        len(latencies),
    )


def figure_propagation(quick: bool, redis_url: str | None, redis_note: str) -> list[dict[str, Any]]:
    processes = 8
    writes = 6 if quick else 100
    change_sets = 6 if quick else 50
    bulk_size = 50
    name = f"propagation_redis_{processes}_subscribers"
    bulk_name = f"change_set_{bulk_size}_flags_{processes}_subscribers"
    if redis_url is None:
        return [
            {"name": n, "unit": "ms", "median": None, "n": 0, "skipped": redis_note}
            for n in (name, bulk_name)
        ]
    prefix = f"uh-bench-{uuid.uuid4().hex[:8]}"
    key = "propagated"
    bulk = [f"bulk-{i:02d}" for i in range(bulk_size)]
    store = RedisFeatureFlagStore.from_url(redis_url, prefix=prefix)
    admin = seed(store, [Flag(key=key, enabled=False)] + [Flag(key=k) for k in bulk])
    spawn = multiprocessing.get_context("spawn")
    ready, out, stop = spawn.Queue(), spawn.Queue(), spawn.Event()
    children = [
        spawn.Process(target=subscriber, args=(redis_url, prefix, key, bulk, ready, out, stop))
        for _ in range(processes)
    ]
    for child in children:
        child.start()
    latencies: list[float] = []
    bulk_latencies: list[float] = []
    missed = bulk_missed = torn = 0
    committed_at = [0]
    commit = store.commit

    def timed_commit(change: Any) -> int:
        committed_at[0] = time.monotonic_ns()  # the change set is validated by now
        return commit(change)

    store.commit = timed_commit  # type: ignore[method-assign]
    try:
        for _ in range(processes):
            ready.get(timeout=60)
        for i in range(writes):
            enabled = i % 2 == 0
            began = time.monotonic_ns()
            admin.toggle_flag(key, enabled, actor="benchmark", reason="propagation")
            found, lost, _ = _collect(out, "single", enabled, began, processes)
            latencies += found
            missed += lost
        for i in range(change_sets):
            enabled = i % 2 == 0
            changes = admin.change_set()
            for name_ in bulk:
                changes.toggle_flag(name_, enabled)
            admin.apply_change_set(changes, actor="benchmark", reason="change set")
            found, lost, broken = _collect(out, "bulk", enabled, committed_at[0], processes)
            bulk_latencies += found
            bulk_missed += lost
            torn += broken
    finally:
        stop.set()
        for child in children:
            child.join(15)
            if child.is_alive():
                child.kill()
        store.close()
    timing = _timing(latencies)
    bulk_timing = _timing(bulk_latencies)
    return [
        row(
            name,
            "ms",
            timing,
            target=50.0,
            meets_target=timing.p99 is not None and timing.p99 <= 50.0 and missed == 0,
            target_applies_to="p99",
            writes=writes,
            missed_notifications=missed,
            max=_r(latencies[-1]) if latencies else None,
            redis=redis_note,
        ),
        row(
            bulk_name,
            "ms",
            bulk_timing,
            target=10.0,
            meets_target=bulk_timing.p99 is not None
            and bulk_timing.p99 <= 10.0
            and bulk_missed == 0
            and torn == 0,
            target_applies_to="p99, no torn read, no missed notification",
            change_sets=change_sets,
            flags_per_change_set=bulk_size,
            missed_notifications=bulk_missed,
            torn_reads=torn,
            max=_r(bulk_latencies[-1]) if bulk_latencies else None,
            redis=redis_note,
        ),
    ]


# ------------------------------------------------------------------------------------ figure 3


def figure_outage(quick: bool, server: RedisServer | None, redis_note: str) -> dict[str, Any]:
    name = "evaluate_with_redis_stopped"
    if server is None:
        return {"name": name, "unit": "us", "median": None, "n": 0, "skipped": redis_note}
    prefix = f"uh-bench-{uuid.uuid4().hex[:8]}"
    store = RedisFeatureFlagStore.from_url(server.url, prefix=prefix, socket_timeout=0.5)
    seed(store, mix_flags())
    client = FeatureFlagClient(store, reconnect_max_delay=1.0)
    client.wait_ready(10)
    population = users(3_000 if quick else 20_000)
    pairs: Pairs = [
        (key, {"targeting_key": user, "email": email}) for user, email in population for key in MIX
    ]
    batch = 300
    window = 0.5 if quick else 3.0
    is_enabled = client.is_enabled

    def run(items: Pairs) -> None:
        for key, ctx in items:
            is_enabled(key, ctx)

    def measure() -> tuple[list[float], list[bool]]:
        medians: list[float] = []
        ended = time.monotonic() + window
        while time.monotonic() < ended:
            medians += time_batches(run, chunks(pairs, batch), per_batch=batch)
        return medians, [is_enabled(key, ctx) for key, ctx in pairs]

    run(pairs)
    up, values_up = measure()
    server.stop()
    down, values_down = measure()
    sample = random.Random(7).sample(pairs, min(len(pairs), 10_000))
    down_p95, down_p99 = time_singles(lambda pair: is_enabled(*pair), sample)
    reason = client.evaluate(MIX[0], pairs[0][1]).reason.value
    client.close()
    store.close()
    up_median = statistics.median(up)
    down_median = statistics.median(down)
    change = (down_median - up_median) / up_median
    unchanged = values_up == values_down
    timing = Timing(down_median, down_p95, down_p99, len(down) * batch)
    return row(
        name,
        "us",
        timing,
        target=_r(up_median * 1.2),
        meets_target=abs(change) <= 0.2 and unchanged,
        target_applies_to="median within 20 % of the Redis-up median, values unchanged",
        redis_up_median=_r(up_median),
        change_pct=_r(change * 100, 1),
        values_unchanged=unchanged,
        reason_while_down=reason,
        window_s=window,
    )


# ------------------------------------------------------------------------------------ figure 5


def figure_recovery(quick: bool, server: RedisServer | None, redis_note: str) -> dict[str, Any]:
    name = "recovery_after_redis_restart"
    if server is None:
        return {"name": name, "unit": "s", "median": None, "n": 0, "skipped": redis_note}
    trials = 2 if quick else 10
    poll_interval = 1.0 if quick else DEFAULT_POLL_INTERVAL
    holds = [0.5, 1.0, 2.0, 4.0, 8.0, 0.2, 3.0, 6.0, 1.5, 12.0]
    server.start()
    prefix = f"uh-bench-{uuid.uuid4().hex[:8]}"
    store = RedisFeatureFlagStore.from_url(server.url, prefix=prefix)
    admin = seed(store, [Flag(key="recovery", enabled=False)])
    client = FeatureFlagClient.from_url(server.url, prefix=prefix, poll_interval=poll_interval)
    client.wait_ready(10)
    seconds: list[float] = []
    held: list[float] = []
    try:
        for trial in range(trials):
            wanted = trial % 2 == 0
            hold = holds[trial % len(holds)] * (0.25 if quick else 1.0)
            server.stop()
            time.sleep(hold)  # the outage being measured, not a wait for the result
            server.start()
            back = time.monotonic()
            document = {"flags": {"recovery": {"key": "recovery", "enabled": wanted}}}
            admin.initialize(actor="benchmark", reason="restore", document=document)
            deadline = back + 60
            while client.is_enabled("recovery") is not wanted and time.monotonic() < deadline:
                time.sleep(0.001)
            seconds.append(time.monotonic() - back)
            held.append(hold)
    finally:
        metrics = client.sync_metrics()
        client.close()
        store.close()
    ordered = sorted(seconds)
    timing = Timing(
        statistics.median(ordered),
        _percentile(ordered, 0.95),
        _percentile(ordered, 0.99),
        len(ordered),
    )
    return row(
        name,
        "s",
        timing,
        target=poll_interval,
        meets_target=max(seconds) <= poll_interval,
        target_applies_to="every trial (max)",
        poll_interval_s=poll_interval,
        max=_r(max(seconds)),
        min=_r(min(seconds)),
        trials=[{"outage_s": h, "recovery_s": _r(s)} for h, s in zip(held, seconds, strict=True)],
        outages_seen=metrics.outages,
        recoveries_seen=metrics.recoveries,
    )


# ------------------------------------------------------------------------------------ main


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run, in seconds")
    args = parser.parse_args(argv)
    logging.getLogger("unified_health").setLevel(logging.ERROR)
    results = []
    with redis_for_benchmark() as (url, server, note):
        results.append(figure_mix(args.quick, url, note))
        results.append(figure_bulk(args.quick))
        results.extend(figure_propagation(args.quick, url, note))
        results.append(figure_outage(args.quick, server, note))
        results.append(figure_recovery(args.quick, server, note))
    report = {
        "package": PACKAGE,
        "version": _version(PACKAGE),
        "python": platform.python_version(),
        "machine": {
            "cpus": os.cpu_count() or 1,
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
        },
        "quick": args.quick,
        "results": results,
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
