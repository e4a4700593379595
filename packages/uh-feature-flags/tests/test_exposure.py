"""Exposure events: hashed keys, allow-listed attributes only, bounded queue, counted drops."""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from unified_health.feature_flags import (
    ExposureEvent,
    ExposureRecorder,
    FeatureFlagAdmin,
    FeatureFlagClient,
    InMemoryFeatureFlagStore,
    InvalidInputError,
    Reason,
)
from unified_health.feature_flags.testing import (
    FakeClock,
    InMemoryExposureSink,
    capture_logs,
    flag,
)

PATIENT = {"user_id": "mrn-000123", "email": "jane@example.org", "plan": "pro"}


def _client(recorder: ExposureRecorder) -> FeatureFlagClient:
    store = InMemoryFeatureFlagStore()
    admin = FeatureFlagAdmin(store)
    admin.create_flag(flag("ramp").rollout(100).build(), actor="ops", reason="r")
    admin.create_flag(
        flag("colour", kind="string").variants(a="a", b="b").default("a").off("b").build(),
        actor="ops",
        reason="r",
    )
    return FeatureFlagClient(store, exposures=recorder, background=False)


def test_event_timestamps_come_from_the_injected_clock() -> None:
    clock = FakeClock()
    sink = InMemoryExposureSink()
    recorder = ExposureRecorder(
        sink, hash_key=b"secret-key-0123456789", flush_interval=3600, clock=clock
    )
    with _client(recorder) as client:
        client.is_enabled("ramp", PATIENT)
        clock.advance(90)
        client.is_enabled("ramp", PATIENT)
    recorder.close()
    assert [e.timestamp for e in sink.events] == [
        datetime(2026, 1, 5, 9, 0, tzinfo=UTC),
        datetime(2026, 1, 5, 9, 1, 30, tzinfo=UTC),
    ]


def test_events_carry_flag_variant_reason_and_a_keyed_hash_only() -> None:
    sink = InMemoryExposureSink()
    recorder = ExposureRecorder(sink, hash_key=b"secret-key-0123456789", flush_interval=3600)
    with _client(recorder) as client:
        client.is_enabled("ramp", PATIENT)
        client.get_variant("colour", PATIENT)
        client.evaluate("ramp", PATIENT)
        client.evaluate_all(PATIENT)  # bulk evaluation records nothing
    assert recorder.flush() == 3
    recorder.close()
    assert [(e.flag_key, e.variant, e.reason) for e in sink.events] == [
        ("ramp", "on", Reason.SPLIT),
        ("colour", "a", Reason.STATIC),
        ("ramp", "on", Reason.SPLIT),
    ]
    expected_hash = recorder.hash_context_key("mrn-000123")
    assert all(e.context_hash == expected_hash for e in sink.events)
    assert expected_hash != ExposureRecorder(
        sink, hash_key=b"other-key-0123456789"
    ).hash_context_key("mrn-000123")
    text = repr(sink.events)
    for value in PATIENT.values():
        assert value not in text


def test_allow_listed_attributes_are_copied() -> None:
    sink = InMemoryExposureSink()
    recorder = ExposureRecorder(sink, allow_attributes=["plan"], flush_interval=3600)
    with _client(recorder) as client:
        client.is_enabled("ramp", PATIENT)
    recorder.close()
    assert sink.events[0].attributes == {"plan": "pro"}


def test_a_full_queue_drops_and_counts_without_blocking() -> None:
    sink = InMemoryExposureSink()
    recorder = ExposureRecorder(sink, max_queue=5, flush_interval=3600)
    with _client(recorder) as client:
        for _ in range(12):
            client.is_enabled("ramp", PATIENT)
    assert recorder.dropped == 7
    recorder.close()
    assert len(sink.events) == 5
    assert recorder.sent == 5


def test_a_failing_sink_is_counted_and_logged_once() -> None:
    class Broken:
        def send(self, events: Sequence[ExposureEvent]) -> None:
            raise RuntimeError("analytics is down")

    recorder = ExposureRecorder(Broken(), batch_size=2, flush_interval=3600)
    with _client(recorder) as client, capture_logs() as logs:
        for _ in range(5):
            assert client.is_enabled("ramp", PATIENT)
        recorder.flush()
    recorder.close()
    assert recorder.failed == 5
    assert [e["event"] for e in logs] == ["exposure_delivery_failed"]


def test_the_background_thread_delivers() -> None:
    sink = InMemoryExposureSink()
    delivered: list[int] = []

    class Signalling:
        def send(self, events: Sequence[ExposureEvent]) -> None:
            sink.send(events)
            delivered.append(len(events))

    recorder = ExposureRecorder(Signalling(), flush_interval=0.01)
    with _client(recorder) as client:
        client.is_enabled("ramp", PATIENT)
    recorder.close()
    assert sum(delivered) == 1


def test_without_a_hash_key_the_hash_is_keyed_by_a_random_secret_not_plain_sha256() -> None:
    recorder = ExposureRecorder(InMemoryExposureSink(), flush_interval=3600)
    try:
        found = recorder.hash_context_key("mrn-000123")
        guessable = {
            hashlib.sha256(b"mrn-000123").hexdigest()[:32],
            hmac.new(b"", b"mrn-000123", hashlib.sha256).hexdigest()[:32],
        }
        assert found is not None
        assert found not in guessable
    finally:
        recorder.close()


@pytest.mark.parametrize("key", [b"", "", b"short"])
def test_an_empty_or_short_hash_key_is_refused(key: bytes | str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        ExposureRecorder(InMemoryExposureSink(), hash_key=key)
    assert caught.value.field == "hash_key"


def _in_child(report: object) -> str:
    """Run ``report()`` in a forked child and return what it wrote."""
    assert callable(report)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: no pytest machinery from here on
        code = 1
        try:
            os.write(write, str(report()).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    chunks = []
    while chunk := os.read(read, 4096):
        chunks.append(chunk)
    os.close(read)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    return b"".join(chunks).decode()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_delivery_resumes_in_a_forked_child_of_a_client_without_a_background_thread() -> None:
    delivered = threading.Event()

    class Signalling:
        def send(self, events: Sequence[ExposureEvent]) -> None:
            delivered.set()

    recorder = ExposureRecorder(Signalling(), flush_interval=0.01)
    with _client(recorder) as client:

        def report() -> bool:
            client.is_enabled("ramp", PATIENT)
            return delivered.wait(10)

        assert _in_child(report) == "True"
    recorder.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_recorder_shared_by_two_clients_has_one_thread_in_a_forked_child() -> None:
    recorder = ExposureRecorder(InMemoryExposureSink(), flush_interval=3600)
    store = InMemoryFeatureFlagStore()
    first = FeatureFlagClient(store, exposures=recorder)
    second = FeatureFlagClient(store, exposures=recorder)

    def report() -> int:
        # threads delivering for this recorder (other tests' recorders may be alive too)
        return sum(
            getattr(thread, "_target", None) == recorder._run for thread in threading.enumerate()
        )

    try:
        assert _in_child(report) == "1"
    finally:
        first.close()
        second.close()
        recorder.close()
