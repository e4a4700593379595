"""Exposure events: hashed keys, allow-listed attributes only, bounded queue, counted drops."""

from __future__ import annotations

from collections.abc import Sequence

from structlog.testing import capture_logs

from unified_health.feature_flags import (
    ExposureEvent,
    ExposureRecorder,
    FeatureFlagAdmin,
    FeatureFlagClient,
    InMemoryFeatureFlagStore,
    Reason,
)
from unified_health.feature_flags.testing import InMemoryExposureSink, flag

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


def test_events_carry_flag_variant_reason_and_a_keyed_hash_only() -> None:
    sink = InMemoryExposureSink()
    recorder = ExposureRecorder(sink, hash_key=b"secret", flush_interval=3600)
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
    assert expected_hash != ExposureRecorder(sink, hash_key=b"other").hash_context_key("mrn-000123")
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
    assert [e["event"] for e in logs] == ["feature_flags_exposures_failed"]


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
