"""The models of {{dist}}: frozen, strict pydantic models.

Invalid input to any of them raises `InvalidInputError`.

`FrozenModel` is the base of every model a user constructs: frozen, ``extra="forbid"`` and strict
(``"yes"`` is not a bool and ``"25"`` is not an int). A broken rule raises `InvalidInputError`
naming the field and the rule; pydantic's own error, whose text echoes the value, never escapes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from unified_health.{{module}}._errors import InvalidInputError

__all__ = ["FrozenModel", "Record", "invalid_input"]


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
