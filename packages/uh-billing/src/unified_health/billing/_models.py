"""The models of uh-billing: frozen, strict pydantic models.

Invalid input to any of them raises `InvalidInputError`.

`FrozenModel` is the base of every model a user constructs: frozen, ``extra="forbid"`` and strict
(``"yes"`` is not a bool and ``"25"`` is not an int). A broken rule raises `InvalidInputError`
naming the field and the rule; pydantic's own error, whose text echoes the value, never escapes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from unified_health.billing._errors import InvalidInputError

__all__ = ["RUN_STATUSES", "FrozenModel", "RunRecord", "TrendPoint", "invalid_input"]


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
        ...     TrendPoint(run_key="", period="2026-11-24", open_discrepancies=0, critical=0)
        ... except InvalidInputError as err:
        ...     print(err.field, "|", err.rule)
        run_key | String should have at least 1 character
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
            >>> TrendPoint.parse({"run_key": "k", "period": "2026-11", "open_discrepancies": 2,
            ...                   "critical": 1}).critical
            1
        """
        if not isinstance(data, Mapping):
            raise InvalidInputError("$", "must be a mapping")
        return cls(**data)


RUN_STATUSES = ("running", "succeeded", "failed")
"""The states of a run record."""

_KEY = Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")


class RunRecord(FrozenModel):
    """What a store keeps about one run of one period (the report is kept beside it).

    Attributes:
        run_key: ``"<kind>:<label>:<zone>:<mode>"``, one per period; a period runs once.
        period: The period's label.
        status: ``"running"``, ``"succeeded"`` or ``"failed"``.
        attempts: How many times the run was started.
        started_at: When the last attempt started (aware UTC).
        finished_at: When it finished, if it did.
        open_discrepancies: Discrepancies found, once succeeded.
        critical: Critical ones among them.
        error_class: The exception class of a failed attempt (never its message).

    Examples:
        >>> from datetime import UTC, datetime
        >>> RunRecord(run_key="daily:2026-11-24:UTC:live", period="2026-11-24", status="running",
        ...           attempts=1, started_at=datetime(2026, 11, 25, 6, tzinfo=UTC)).status
        'running'
    """

    run_key: str = _KEY
    period: str = Field(min_length=1, max_length=40)
    status: Literal["running", "succeeded", "failed"]
    attempts: int = Field(ge=1)
    started_at: AwareDatetime
    finished_at: AwareDatetime | None = None
    open_discrepancies: int | None = Field(default=None, ge=0)
    critical: int | None = Field(default=None, ge=0)
    error_class: str | None = Field(default=None, max_length=200)

    def to_json(self) -> str:
        """Compact JSON with sorted keys, as every store writes it."""
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> RunRecord:
        """Read a record written by `to_json`.

        Examples:
            >>> from datetime import UTC, datetime
            >>> r = RunRecord(run_key="k", period="p", status="failed", attempts=2,
            ...               started_at=datetime(2026, 1, 1, tzinfo=UTC), error_class="OSError")
            >>> RunRecord.from_json(r.to_json()) == r
            True
        """
        data = json.loads(text)
        for name in ("started_at", "finished_at"):
            if data.get(name) is not None:
                data[name] = datetime.fromisoformat(data[name])
        return cls(**data)


class TrendPoint(FrozenModel):
    """Open discrepancies of one succeeded run, for the trend over periods.

    Examples:
        >>> TrendPoint(run_key="k", period="2026-11-24", open_discrepancies=3, critical=1).period
        '2026-11-24'
    """

    run_key: str = _KEY
    period: str
    open_discrepancies: int = Field(ge=0)
    critical: int = Field(ge=0)
