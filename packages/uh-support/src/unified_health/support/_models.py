"""The models of uh-support: frozen, strict pydantic models.

Invalid input to any of them raises `InvalidInputError`.

`FrozenModel` is the base of every model a user constructs: frozen, ``extra="forbid"`` and strict
(``"yes"`` is not a bool and ``"25"`` is not an int). A broken rule raises `InvalidInputError`
naming the field and the rule; pydantic's own error, whose text echoes the value, never escapes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from unified_health.support._errors import InvalidInputError

__all__ = [
    "Comment",
    "CsatRating",
    "FrozenModel",
    "HistoryEntry",
    "Record",
    "Ticket",
    "invalid_input",
]


def invalid_input(exc: ValidationError, *, prefix: str = "") -> InvalidInputError:
    """Turn pydantic's first error into an `InvalidInputError` that names field and rule only.

    Args:
        exc: The validation error.
        prefix: Dotted path to prepend to the field, for nested input.

    Returns:
        The error to raise (``raise invalid_input(exc) from None``: pydantic's message holds the
        value, so it is not kept as the cause).

    Examples:
        >>> try:
        ...     Record(key="", version=1, data={})
        ... except InvalidInputError as err:
        ...     print(err.field, "|", err.rule)
        key | String should have at least 1 character
    """
    error = exc.errors(include_url=False, include_input=False, include_context=False)[0]
    path = ".".join(str(part) for part in (*((prefix,) if prefix else ()), *error["loc"]))
    rule = "unknown field" if error["type"] == "extra_forbidden" else str(error["msg"])
    return InvalidInputError(path or "$", rule)


class FrozenModel(BaseModel):
    """Base of the package's models: frozen, strict, unknown fields refused.

    Examples:
        >>> class Size(FrozenModel):
        ...     width: int
        >>> Size(width=3).width
        3
        >>> try:
        ...     Size(width="3")
        ... except InvalidInputError as err:
        ...     print(err)
        width: Input should be a valid integer
    """

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise invalid_input(exc) from None

    # Tell pydantic this __init__ only wraps its own, so model_validate does not run it again.
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Self:
        """Validate a mapping (for example decoded JSON) into the model.

        Args:
            data: The fields.

        Returns:
            The model.

        Raises:
            InvalidInputError: A field broke a rule, or ``data`` is not a mapping.

        Examples:
            >>> Record.parse({"key": "a", "version": 1, "data": {}}).version
            1
        """
        if not isinstance(data, Mapping):
            raise InvalidInputError("$", "must be a mapping")
        return cls(**data)


class Record(FrozenModel):
    """One stored record: a key, a version that grows by one on every write, and its JSON data.

    Examples:
        >>> Record(key="r-1", version=1, data={"status": "open"}).data["status"]
        'open'
    """

    key: str = Field(min_length=1, max_length=256, pattern=r"^[^\x00-\x1f\x7f]+$")
    version: int = Field(ge=1)
    data: dict[str, Any]


STATUS_NAMES = ("new", "open", "pending", "on_hold", "solved", "closed")
PRIORITY_NAMES = ("low", "normal", "high", "urgent")
MAX_SUBJECT = 250
MAX_BODY = 65_536
_TAG = r"^[a-z0-9][a-z0-9_\-:.]{0,79}$"

CustomValue = str | int | bool | None


def _aware(value: datetime, field: str) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"{field} must be timezone-aware")
    return value.astimezone(UTC)


class Comment(FrozenModel):
    """One comment on a ticket: public (the requester sees it) or an internal note.

    Examples:
        >>> at = datetime(2026, 1, 5, 9, tzinfo=UTC)
        >>> Comment(id="c-1", author="agent", body="On it.", public=True, created_at=at).public
        True
    """

    id: str = Field(min_length=1, max_length=128)
    author: Literal["agent", "customer"]
    body: str = Field(min_length=1, max_length=MAX_BODY)
    public: bool = True
    created_at: datetime

    @field_validator("created_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return _aware(value, "created_at")


class HistoryEntry(FrozenModel):
    """One change in a ticket's life, as the SLA engine reads it.

    Examples:
        >>> at = datetime(2026, 1, 5, 9, tzinfo=UTC)
        >>> HistoryEntry(at=at, kind="status", value="open").value
        'open'
    """

    at: datetime
    kind: Literal["status", "priority", "comment"]
    value: str = Field(min_length=1, max_length=32)
    public: bool = True

    @field_validator("at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return _aware(value, "at")


class CsatRating(FrozenModel):
    """A satisfaction rating, recorded against the solve cycle its survey was offered in.

    ``score`` is 1 to 5; a good/bad rating is stored as 5 or 1 with ``scale="good_bad"``.

    Examples:
        >>> at = datetime(2026, 1, 5, 9, tzinfo=UTC)
        >>> CsatRating(cycle=1, score=5, scale="good_bad", rated_at=at).good
        True
    """

    cycle: int = Field(ge=1)
    score: int = Field(ge=1, le=5)
    scale: Literal["good_bad", "five_point"]
    comment: str | None = Field(default=None, max_length=MAX_BODY)
    rated_at: datetime

    @field_validator("rated_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return _aware(value, "rated_at")

    @property
    def good(self) -> bool:
        """Whether the rating counts as satisfied (good, 4 or 5)."""
        return self.score >= 4


class Ticket(FrozenModel):
    """A support ticket in the common model, whatever provider holds it.

    ``raw_status`` keeps the provider's own status word; ``version`` grows by one on every
    write; ``sla_due_at`` is the next SLA due time (kept by `SupportClient` for breach scans).

    Examples:
        >>> at = datetime(2026, 1, 5, 9, tzinfo=UTC)
        >>> ticket = Ticket(
        ...     id="t-1", subject="Portal login", description="Cannot sign in",
        ...     requester="patient-42", priority="high", created_at=at, updated_at=at,
        ... )
        >>> (ticket.status, ticket.version, ticket.tags)
        ('new', 1, ())
    """

    id: str = Field(min_length=1, max_length=128)
    subject: str = Field(min_length=1, max_length=MAX_SUBJECT)
    description: str = Field(min_length=1, max_length=MAX_BODY)
    requester: str = Field(min_length=1, max_length=256)
    status: Literal["new", "open", "pending", "on_hold", "solved", "closed"] = "new"
    raw_status: str = "new"
    priority: Literal["low", "normal", "high", "urgent"] = "normal"
    assignee: str | None = Field(default=None, min_length=1, max_length=256)
    tags: tuple[Annotated[str, Field(pattern=_TAG)], ...] = ()
    custom_fields: dict[str, CustomValue] = Field(default_factory=dict)
    comments: tuple[Comment, ...] = ()
    history: tuple[HistoryEntry, ...] = ()
    follow_up_of: str | None = None
    created_at: datetime
    updated_at: datetime
    version: int = Field(default=1, ge=1)
    sla_due_at: datetime | None = None
    sla_due_metric: str | None = None
    vendor_stamp: str | None = None
    csat: tuple[CsatRating, ...] = ()

    @field_validator("created_at", "updated_at", "sla_due_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return None if value is None else _aware(value, "time")

    def to_json(self) -> str:
        """Return the ticket as compact JSON (what the stores keep).

        Examples:
            >>> at = datetime(2026, 1, 5, 9, tzinfo=UTC)
            >>> Ticket(id="t", subject="s", description="d", requester="r", created_at=at,
            ...        updated_at=at).to_json()[:11]
            '{"id":"t","'
        """
        return self.model_dump_json()

    @classmethod
    def from_json(cls, text: str | bytes) -> Ticket:
        """Rebuild a ticket from `to_json` output.

        Examples:
            >>> at = datetime(2026, 1, 5, 9, tzinfo=UTC)
            >>> t = Ticket(id="t", subject="s", description="d", requester="r", created_at=at,
            ...            updated_at=at)
            >>> Ticket.from_json(t.to_json()) == t
            True
        """
        data = json.loads(text)
        if not isinstance(data, dict):
            raise InvalidInputError("$", "must be a JSON object")
        for name in ("created_at", "updated_at", "sla_due_at"):
            if isinstance(data.get(name), str):
                data[name] = datetime.fromisoformat(data[name])
        data["tags"] = tuple(data.get("tags", ()))
        data["comments"] = tuple(
            Comment(**{**item, "created_at": datetime.fromisoformat(item["created_at"])})
            for item in data.get("comments", ())
        )
        data["csat"] = tuple(
            CsatRating(**{**item, "rated_at": datetime.fromisoformat(item["rated_at"])})
            for item in data.get("csat", ())
        )
        data["history"] = tuple(
            HistoryEntry(**{**item, "at": datetime.fromisoformat(item["at"])})
            for item in data.get("history", ())
        )
        return cls(**data)
