"""The common ticket model refuses bad input by field and rule, never echoing the value."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from unified_health.support import Comment, InvalidInputError, Ticket

AT = datetime(2026, 1, 5, 9, tzinfo=UTC)
BASE = {
    "id": "t",
    "subject": "s",
    "description": "d",
    "requester": "r",
    "created_at": AT,
    "updated_at": AT,
}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"subject": ""}, "subject"),
        ({"subject": "x" * 251}, "subject"),
        ({"priority": "critical"}, "priority"),
        ({"status": "archived"}, "status"),
        ({"tags": ("Not A Tag",)}, "tags.0"),
        ({"version": "2"}, "version"),
        ({"created_at": datetime(2026, 1, 5, 9)}, "created_at"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_fields_are_named(change: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        Ticket(**{**BASE, **change})  # type: ignore[arg-type]
    assert info.value.field == field


def test_the_value_never_appears_in_the_error() -> None:
    secret = "Jane Doe DOB 1980-02-03 " * 20
    with pytest.raises(InvalidInputError) as info:
        Comment(id="c", author="agent", body=secret * 200, created_at=AT)
    assert "Jane" not in str(info.value)
    assert info.value.field == "body"


def test_a_bool_is_not_coerced_from_a_string() -> None:
    with pytest.raises(InvalidInputError) as info:
        Comment(id="c", author="agent", body="b", public="yes", created_at=AT)  # type: ignore[arg-type]
    assert info.value.field == "public"
