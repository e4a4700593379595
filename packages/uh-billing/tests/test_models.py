"""Models refuse bad input with `InvalidInputError` naming the field, never the value."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from unified_health.billing import InvalidInputError, RunRecord

AT = datetime(2026, 11, 25, tzinfo=UTC)
GOOD: dict[str, object] = {
    "run_key": "daily:2026-11-24:UTC:live",
    "period": "2026-11-24",
    "status": "running",
    "attempts": 1,
    "started_at": AT,
}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"run_key": ""}, "run_key"),
        ({"attempts": "1"}, "attempts"),
        ({"attempts": 0}, "attempts"),
        ({"attempts": True}, "attempts"),
        ({"status": "yes"}, "status"),
        ({"started_at": datetime(2026, 11, 25)}, "started_at"),
        ({"extra": "x"}, "extra"),
    ],
)
def test_a_broken_rule_names_the_field(change: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        RunRecord(**{**GOOD, **change})  # type: ignore[arg-type]
    assert caught.value.field == field
    assert caught.value.__cause__ is None


def test_the_value_is_never_echoed() -> None:
    secret = "Jane Doe 123-45-6789"
    with pytest.raises(InvalidInputError) as caught:
        RunRecord(**{**GOOD, "run_key": secret + "\n"})  # type: ignore[arg-type]
    assert secret not in str(caught.value)
    assert secret not in repr(caught.value)


def test_parse_refuses_what_is_not_a_mapping() -> None:
    with pytest.raises(InvalidInputError) as caught:
        RunRecord.parse(["run_key", "x"])  # type: ignore[arg-type]
    assert caught.value.field == "$"


def test_records_are_frozen() -> None:
    record = RunRecord(**GOOD)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="frozen"):
        record.attempts = 2  # type: ignore[misc]
