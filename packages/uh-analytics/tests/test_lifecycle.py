"""Shutdown, the exit hook and fork safety, in real subprocesses against a fake vendor."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import pytest

from unified_health.analytics.testing import FakePostHog

PRELUDE = """
import logging, os, sys
logging.basicConfig(stream=sys.stderr, level=logging.INFO)
from unified_health.analytics import AnalyticsClient, HmacPseudonymizer, PostHogProvider
def make():
    return AnalyticsClient(
        [PostHogProvider("phc_test_key", base_url=os.environ["VENDOR_URL"])],
        default_consent="analytics",
        pseudonymizer=HmacPseudonymizer({"k1": b"k" * 32}),
        flush_interval=30,
        shutdown_timeout=10,
    )
"""


def run(script: str, url: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    code = PRELUDE + textwrap.dedent(script)
    env = {**os.environ, "VENDOR_URL": url}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout, env=env
    )


def names(vendor: FakePostHog) -> list[str]:
    return sorted(e["event"] for e in vendor.events)


@pytest.mark.slow
def test_exit_hook_drains_2000_queued_events() -> None:
    with FakePostHog(latency=0.05) as vendor:
        started = time.monotonic()
        result = run(
            """
            client = make()
            for i in range(2000):
                client.track("page_viewed", {"n": i}, user_id=f"user-{i % 50}")
            print(client.metrics().queued["posthog"] > 0)
            """,
            vendor.url,
        )
        elapsed = time.monotonic() - started
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "True"  # events were still queued at exit
        assert len(vendor.events) == 2000
        assert vendor.duplicates == 0
        assert elapsed < 30


def test_shutdown_reports_delivery_within_the_deadline() -> None:
    with FakePostHog(latency=0.05) as vendor:
        result = run(
            """
            import time
            client = make()
            for i in range(2000):
                client.track("page_viewed", {"n": i}, user_id="user-1")
            start = time.monotonic()
            report = client.shutdown(timeout=5)
            print(report.delivered["posthog"], report.lost, report.timed_out,
                  time.monotonic() - start < 5)
            """,
            vendor.url,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == ["2000", "0", "False", "True"]
        assert len(vendor.events) == 2000


def test_shutdown_deadline_reports_what_was_not_delivered() -> None:
    with FakePostHog() as vendor:
        vendor.stall_next(5, times=10)
        result = run(
            """
            import time
            client = make()
            for i in range(10):
                client.track("page_viewed", {"n": i}, user_id="user-1")
            start = time.monotonic()
            report = client.shutdown(timeout=0.5)
            print(report.undelivered["posthog"], report.lost, round(time.monotonic() - start))
            """,
            vendor.url,
        )
        assert result.returncode == 0, result.stderr
        undelivered, lost, seconds = result.stdout.split()
        assert (undelivered, lost) == ("10", "10")
        assert int(seconds) <= 1


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_client_created_before_fork_works_in_the_child() -> None:
    with FakePostHog() as vendor:
        result = run(
            """
            client = make()
            client.track("before_fork", user_id="user-1")
            pid = os.fork()
            if pid == 0:
                for i in range(10):
                    client.track("in_child", {"n": i}, user_id="user-2")
                sys.exit(0)  # the exit hook drains the child's queue
            _, status = os.waitpid(pid, 0)
            client.track("after_fork", user_id="user-1")
            report = client.shutdown()
            print(os.waitstatus_to_exitcode(status), report.lost)
            """,
            vendor.url,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == ["0", "0"]
        assert names(vendor) == ["after_fork", "before_fork", *["in_child"] * 10]
        assert vendor.duplicates == 0


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_child_delivers_when_a_lock_was_held_at_fork() -> None:
    """A lock of the pseudonymiser or a store held by another thread at fork time is renewed."""
    with FakePostHog() as vendor:
        result = run(
            """
            from unified_health.analytics import InMemoryConsentStore, SurrogatePseudonymizer
            pseudonymizer = SurrogatePseudonymizer()
            store = InMemoryConsentStore()
            client = AnalyticsClient(
                [PostHogProvider("phc_test_key", base_url=os.environ["VENDOR_URL"])],
                default_consent="analytics", pseudonymizer=pseudonymizer, consent_store=store,
                register_atexit=False,
            )
            pseudonymizer._lock.acquire()  # as if another thread were inside them at fork
            pseudonymizer._store._lock.acquire()
            store._lock.acquire()
            pid = os.fork()
            if pid == 0:
                client.set_consent("user-2", {"analytics"})
                client.track("in_child", user_id="user-2")
                print(client.shutdown(timeout=5).lost, flush=True)
                os._exit(0)
            _, status = os.waitpid(pid, 0)
            print(os.waitstatus_to_exitcode(status))
            """,
            vendor.url,
            timeout=30,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == ["0", "0"]
        assert names(vendor) == ["in_child"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_multiprocessing_fork_child_does_not_lose_events() -> None:
    with FakePostHog() as vendor:
        result = run(
            """
            import multiprocessing
            client = make()
            def work():
                for i in range(25):
                    client.track("in_worker", {"n": i}, user_id="user-3")
            ctx = multiprocessing.get_context("fork")
            proc = ctx.Process(target=work)
            proc.start()
            proc.join(30)
            print(proc.exitcode, client.shutdown().lost)
            """,
            vendor.url,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == ["0", "0"]
        assert names(vendor) == ["in_worker"] * 25
