"""Bad input: wrong types, huge, deep and recursive values, bytes, NaN, adversarial strings.
Each has a defined outcome; none raises from `Sanitizer.scrub` (without ``strict``)."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from unified_health.analytics import Sanitizer
from unified_health.analytics._normalize import MAX_NODES

S = Sanitizer()


@pytest.mark.parametrize("value", [None, 42, "text", ["a"], b"bytes"])
def test_not_a_mapping_fails_closed(value: Any) -> None:
    result = S.scrub(value)
    assert result.properties == {}
    assert dict(result.redactions) == {"unsupported_type": 1}


class Hostile(Mapping[str, object]):
    def __getitem__(self, key: str) -> object:
        raise RuntimeError("boom")

    def __iter__(self) -> Iterator[str]:
        raise RuntimeError("boom")

    def __len__(self) -> int:
        return 1


def test_a_mapping_whose_methods_raise_fails_closed() -> None:
    assert S.scrub(Hostile()).properties == {}


def test_nan_infinity_and_bytes_are_removed_and_counted() -> None:
    result = S.scrub({"a": math.nan, "b": math.inf, "c": b"\x00\xff", "d": 1})
    assert result.properties == {"d": 1}
    assert dict(result.redactions) == {"unserialisable": 3}


def test_recursive_structures_stop_at_the_depth_limit() -> None:
    loop: dict[str, object] = {}
    loop["self"] = loop
    items: list[object] = []
    items.append(items)
    result = S.scrub({"loop": loop, "items": items})
    assert result.redactions["too_deep"] == 2


def test_deep_nesting_is_cut() -> None:
    deep: dict[str, object] = {"x": 1}
    for _ in range(500):
        deep = {"x": deep}
    assert S.scrub({"deep": deep}).redactions["too_deep"] == 1


def test_huge_values_are_bounded() -> None:
    result = S.scrub({"many": list(range(100_000)), "wide": {f"k{i}": i for i in range(10_000)}})
    assert result.redactions["list_truncated"] == 1
    assert result.redactions["too_large"] >= 10_000 - MAX_NODES


@pytest.mark.parametrize(
    "text",
    ["a" * 65_536, "1 " * 30_000, "a.a." * 15_000, "@" * 50_000, "a at " * 12_000, "/1" * 30_000,
     "\u200b" * 50_000, "9" * 65_536, '"k":' * 15_000, "x=" * 30_000, "Dr. " * 15_000],
)  # fmt: skip
def test_adversarial_strings_finish(text: str) -> None:
    declared = Sanitizer(free_text_keys=["v"])
    assert isinstance(declared.scrub({"v": text}).properties["v"], str)
    assert isinstance(S.scrub({"v": text}).properties["v"], str)


def test_wrong_types_for_options_raise_clear_errors() -> None:
    from unified_health.analytics import InvalidInputError

    with pytest.raises(InvalidInputError) as caught:
        Sanitizer(detectors=[object()])  # type: ignore[list-item]
    assert caught.value.field == "detectors.0"
    with pytest.raises(InvalidInputError):
        Sanitizer(custom_patterns={"Bad Name": "x"})
    with pytest.raises(InvalidInputError):
        Sanitizer(custom_patterns={"empty": "x*"})
    with pytest.raises(InvalidInputError):
        Sanitizer(clock="now")  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_any_text_gives_a_string(text: str) -> None:
    cleaned, counts = S.scrub_value(text)
    assert isinstance(cleaned, str)
    assert all(v > 0 for v in counts.values())
