"""The one normaliser: invisible characters, compatibility forms and look-alike letters cannot
hide an identifier, and the client and the public `Sanitizer` give the same output."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from unified_health.analytics import AnalyticsClient, Sanitizer
from unified_health.analytics.testing import FakeClock, RecordingProvider

Make = Callable[..., AnalyticsClient]
INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u202e"]


@pytest.mark.parametrize("mark", INVISIBLE)
@pytest.mark.parametrize(
    ("text", "category"),
    [("123-45-6789", "ssn"), ("802-232-8775", "phone"), ("4111 1111 1111 1111", "credit_card"),
     ("ana@example.org", "email")],
)  # fmt: skip
def test_invisible_characters_inside_an_identifier(mark: str, text: str, category: str) -> None:
    hidden = mark.join(text)
    cleaned, counts = Sanitizer().scrub_value(f"id {hidden}")
    assert cleaned == f"id [REDACTED:{category}]"
    assert counts == {category: 1}


def test_full_width_and_look_alike_letters_are_folded() -> None:
    assert (
        Sanitizer().scrub_value(
            "\uff11\uff12\uff13\uff0d\uff14\uff15\uff0d\uff16\uff17\uff18\uff19"
        )[0]
        == "[REDACTED:ssn]"
    )
    assert Sanitizer().scrub_value("\u043elivia brennan")[0] == "[REDACTED:name]"  # Cyrillic \u043e


@given(st.text(max_size=40))
def test_folded_output_has_no_invisible_characters(text: str) -> None:
    cleaned, _ = Sanitizer().scrub_value(text)
    assert not any(mark in cleaned for mark in INVISIBLE)


VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=30),
    st.decimals(), st.datetimes(timezones=st.just(UTC)), st.datetimes(), st.binary(max_size=8),
)  # fmt: skip
PROPS = st.dictionaries(
    st.from_regex(r"[a-z]{2,8}(_[a-z]{2,8})?", fullmatch=True),
    st.recursive(
        VALUES,
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(st.from_regex(r"[a-z]{2,6}", fullmatch=True), inner, max_size=3)
        ),
        max_leaves=8,
    ),
    max_size=4,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(PROPS)
def test_client_and_public_sanitizer_agree(make_client: Make, props: dict[str, object]) -> None:
    from unified_health.analytics._normalize import RESERVED_KEYS

    props = {k: v for k, v in props.items() if k not in RESERVED_KEYS}
    clock = FakeClock()
    rec = RecordingProvider()
    client = make_client([rec], clock=clock, sanitizer=Sanitizer(clock=clock))
    result = Sanitizer(clock=clock).scrub(props)
    queued = client.track("thing_done", props, user_id="u-1")
    assert client.flush(5)
    if result.rejected is not None:
        assert not queued
        return
    if queued:
        assert rec.events[-1]["properties"] == result.properties


def test_same_output_for_decimals_naive_datetimes_and_nan(make_client: Make) -> None:
    props = {"d": Decimal("1.5"), "naive": datetime(2026, 1, 1), "nan": math.nan, "n": 3}
    rec = RecordingProvider()
    client = make_client([rec])
    client.track("thing_done", props, user_id="u-1")
    assert client.flush(5)
    assert rec.events[0]["properties"] == Sanitizer().scrub(props).properties == {"d": 1.5, "n": 3}
