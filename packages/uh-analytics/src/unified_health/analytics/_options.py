"""The client's options as one frozen model, validated once (errors name the field).

`AnalyticsClient` keeps its keyword arguments as its public API and turns the plain-value ones
into a `ClientOptions`; objects (providers, stores, the pseudonymiser, the clock) are checked
against their protocols by the client itself.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from unified_health.analytics._errors import InvalidInputError

__all__ = ["ClientOptions"]

_RULES = {
    "greater_than": "must be greater than {gt}",
    "greater_than_equal": "must be at least {ge}",
    "literal_error": "must be one of: {expected}",
}


class ClientOptions(BaseModel):
    """The plain-value options of `AnalyticsClient` (see its docstring for each).

    Examples:
        >>> ClientOptions.of(flush_interval=0.2).flush_interval
        0.2
        >>> try:
        ...     ClientOptions.of(shutdown_timeout=-1)
        ... except InvalidInputError as exc:
        ...     (exc.field, exc.rule)
        ('shutdown_timeout', 'must be at least 0.0')
    """

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    require_schemas: bool = False
    default_category: str = "analytics"
    max_queue_events: int = Field(10_000, gt=0)
    max_queue_bytes: int = Field(16 * 1024 * 1024, gt=0)
    drop_policy: Literal["drop_newest", "drop_oldest"] = "drop_newest"
    flush_interval: float = Field(0.5, gt=0)
    max_in_flight: int = Field(2, gt=0)
    shutdown_timeout: float = Field(5.0, ge=0)
    retry_budget: float = Field(600.0, ge=0)
    durable: bool = False
    max_properties: int = Field(200, gt=0)
    max_string_length: int = Field(1024, gt=0)
    max_event_bytes: int = Field(32 * 1024, gt=0)
    strict: bool = False
    debug: bool = False
    seed: int | None = None
    register_atexit: bool = True

    @classmethod
    def of(cls, **values: Any) -> ClientOptions:
        """Validate ``values``; raise `InvalidInputError` naming the first bad one.

        Raises:
            InvalidInputError: An option of the wrong type or out of its range.
        """
        try:
            return cls(**values)
        except ValidationError as exc:
            error = exc.errors(include_input=False)[0]
            field = ".".join(str(part) for part in error["loc"]) or "options"
            template = _RULES.get(error["type"])
            context = error.get("ctx") or {}
            if template is not None:
                rule = template.format(**context)
            elif error["type"].endswith("_type") or error["type"] == "is_instance_of":
                rule = f"must be {_kind(error['type'])}"
            else:
                rule = "is not valid"
            raise InvalidInputError(field, rule) from None


def _kind(error_type: str) -> str:
    names = {
        "bool_type": "a bool (True or False)",
        "int_type": "an int",
        "float_type": "a number",
        "string_type": "a str",
    }
    return names.get(error_type, "of the documented type")
