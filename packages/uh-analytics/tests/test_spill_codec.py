"""The spill record codec: the bounded map of spilled subjects under concurrent spills.

Several threads (the spill writer and the senders) spill at once; the map of remembered
subjects must stay within its bound and never raise. (Its eviction once raced and killed the
delivery thread with a ``KeyError``; the race itself is too rare under the GIL to reproduce
on demand, so this checks the bound and the absence of errors under contention.)
"""

from __future__ import annotations

import threading

from unified_health.analytics import HmacPseudonymizer
from unified_health.analytics._models import Event
from unified_health.analytics._outbound import to_outbound
from unified_health.analytics._spill import SpillCodec

IDS = HmacPseudonymizer({"k1": b"0123456789abcdef0123456789abcdef"})


def test_concurrent_spills_keep_the_subject_map_bounded_and_never_raise() -> None:
    codec = SpillCodec(lambda e: to_outbound(e, IDS), keep=8)
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def spill(worker: int) -> None:
        start.wait()
        try:
            for n in range(3_000):
                event = Event(
                    "track", "e", {}, f"user-{n}", None, "analytics", 0.0, f"{worker}-{n}"
                )
                codec.decode(codec.encode(event))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=spill, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert codec.remembered <= 8


def test_a_replayed_event_gets_its_raw_subject_back_only_in_the_process_that_spilled_it() -> None:
    here = SpillCodec(lambda e: to_outbound(e, IDS))
    elsewhere = SpillCodec(lambda e: to_outbound(e, IDS))
    raw = here.encode(Event("track", "e", {}, "user-1", None, "analytics", 0.0, "id-1"))
    assert b"user-1" not in raw
    assert elsewhere.decode(raw).user_id is None
    assert here.decode(raw).user_id == "user-1"
