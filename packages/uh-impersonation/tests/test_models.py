"""Models refuse bad input with `InvalidInputError` naming the field, never the value."""

from __future__ import annotations

import pytest

from unified_health.impersonation import InvalidInputError, Record


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"key": "", "version": 1, "data": {}}, "key"),
        ({"key": "r-1", "version": "1", "data": {}}, "version"),
        ({"key": "r-1", "version": 0, "data": {}}, "version"),
        ({"key": "r-1", "version": True, "data": {}}, "version"),
        ({"key": "r-1", "version": 1, "data": {}, "extra": "x"}, "extra"),
    ],
)
def test_a_broken_rule_names_the_field(fields: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        Record(**fields)  # type: ignore[arg-type]
    assert caught.value.field == field
    assert caught.value.__cause__ is None


def test_the_value_is_never_echoed() -> None:
    secret = "Jane Doe 123-45-6789"
    with pytest.raises(InvalidInputError) as caught:
        Record(key=secret + "\n", version=1, data={})
    assert secret not in str(caught.value)
    assert secret not in repr(caught.value)


def test_parse_refuses_what_is_not_a_mapping() -> None:
    with pytest.raises(InvalidInputError) as caught:
        Record.parse(["key", "r-1"])  # type: ignore[arg-type]
    assert caught.value.field == "$"


def test_records_are_frozen() -> None:
    record = Record(key="r-1", version=1, data={})
    with pytest.raises(ValueError, match="frozen"):
        record.version = 2  # type: ignore[misc]
