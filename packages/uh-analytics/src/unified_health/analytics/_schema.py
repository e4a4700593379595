"""Allow-list schemas per event: a pydantic model names the properties an event may carry.

Registered with `AnalyticsClient(schemas={"appointment_booked": AppointmentBooked})`:

* properties the model does not declare are dropped (counted ``schema_unknown_property``);
* values are validated (and coerced) by the model; an event that fails is dropped
  (``schema_violation``) or, in strict mode, raises `InvalidInputError`;
* free text is refused: a ``str`` field must be a ``Literal``/``Enum``, carry a ``pattern``, or opt
  in with ``Annotated[str, FreeText()]``. A model that breaks this rule is refused at registration.
* a top-level field declared ``FreeText`` is *declared free text* for the sanitiser: its prose
  is scrubbed by the detectors (and any named-entity detector the host adds) instead of being
  replaced by ``[REDACTED:free_text]`` as undeclared prose is.
"""

from __future__ import annotations

import enum
import types
from collections.abc import Mapping
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from unified_health.analytics._errors import InvalidInputError
from unified_health.analytics._scrub._declared import DeclaredText

__all__ = ["FreeText", "SchemaRegistry"]


class FreeText:
    """Marker that lets a ``str`` field of an event schema hold free text.

    Examples:
        >>> from typing import Annotated
        >>> from pydantic import BaseModel
        >>> class Feedback(BaseModel):
        ...     comment: Annotated[str, FreeText()]
        >>> SchemaRegistry({"feedback_sent": Feedback}).names
        ['feedback_sent']
    """

    def __repr__(self) -> str:
        return "FreeText()"


def _has_opt_in(metadata: Any) -> bool:
    for item in metadata:
        if isinstance(item, FreeText) or getattr(item, "pattern", None):
            return True
        inner = getattr(item, "metadata", None)  # a Field(...) inside Annotated
        if isinstance(inner, list) and _has_opt_in(inner):
            return True
    return False


def _declares_free_text(metadata: Any) -> bool:
    for item in metadata:
        if isinstance(item, FreeText):
            return True
        inner = getattr(item, "metadata", None)
        if isinstance(inner, list) and _declares_free_text(inner):
            return True
    return False


def _free_text_paths(annotation: Any, metadata: Any = ()) -> bool:
    """Whether ``annotation`` admits unconstrained text."""
    if _has_opt_in(metadata):
        return False
    if annotation is str:
        return True
    origin = get_origin(annotation)
    if origin is Annotated:
        base, *extra = get_args(annotation)
        return _free_text_paths(base, (*metadata, *extra))
    if origin is Literal:
        return False
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return False
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return any(
            _free_text_paths(f.annotation, f.metadata) for f in annotation.model_fields.values()
        )
    if origin in (Union, types.UnionType) or origin is not None:
        return any(_free_text_paths(arg) for arg in get_args(annotation) if arg is not Ellipsis)
    return annotation is Any


class SchemaRegistry:
    """Event name -> allow-list model.

    Args:
        schemas: The models, by event name.

    Raises:
        InvalidInputError: A model admits free text without opting in.

    Examples:
        >>> from typing import Literal
        >>> from pydantic import BaseModel
        >>> class Booked(BaseModel):
        ...     specialty: Literal["cardiology", "dermatology"]
        >>> reg = SchemaRegistry({"appointment_booked": Booked})
        >>> reg.apply("appointment_booked", {"specialty": "cardiology", "note": "x"})
        ({'specialty': 'cardiology'}, 1)
    """

    def __init__(self, schemas: Mapping[str, type[BaseModel]] | None = None) -> None:
        self._models: dict[str, type[BaseModel]] = {}
        self._fields: dict[str, frozenset[str]] = {}
        self._declared: dict[str, frozenset[str]] = {}
        for name, model in (schemas or {}).items():
            self.register(name, model)

    @property
    def names(self) -> list[str]:
        """Event names that have a schema."""
        return sorted(self._models)

    def __contains__(self, name: object) -> bool:
        return name in self._models

    def register(self, name: str, model: type[BaseModel]) -> None:
        """Add or replace the schema of ``name``.

        Raises:
            InvalidInputError: ``model`` is not a pydantic model or admits free text.
        """
        candidate: object = model
        if not (isinstance(candidate, type) and issubclass(candidate, BaseModel)):
            raise InvalidInputError(f"schemas.{name}", "must be a pydantic model class")
        for field_name, info in model.model_fields.items():
            if _free_text_paths(info.annotation, info.metadata):
                raise InvalidInputError(
                    f"schemas.{name}.{field_name}",
                    "free text must opt in with Annotated[str, FreeText()] "
                    "(or use a Literal, an Enum or a pattern)",
                )
        self._models[name] = model
        self._fields[name] = frozenset(
            info.alias or field_name for field_name, info in model.model_fields.items()
        )
        self._declared[name] = frozenset(
            info.alias or field_name
            for field_name, info in model.model_fields.items()
            if _declares_free_text(info.metadata)
        )

    def free_text_fields(self, name: str) -> frozenset[str]:
        """The properties of event ``name`` declared free text (``FreeText``).

        Examples:
            >>> from typing import Annotated
            >>> class Feedback(BaseModel):
            ...     comment: Annotated[str, FreeText()]
            >>> registry = SchemaRegistry({"feedback_sent": Feedback})
            >>> sorted(registry.free_text_fields("feedback_sent"))
            ['comment']
        """
        return self._declared.get(name, frozenset())

    def apply(self, name: str, properties: Mapping[str, Any]) -> tuple[dict[str, Any], int]:
        """Validate ``properties`` against the schema of ``name``.

        Returns:
            The validated properties (JSON-ready; declared free-text values marked so for the
            sanitiser) and how many unknown ones were dropped.

        Raises:
            InvalidInputError: A declared property is missing or invalid (names the field and
                the rule, never the value).
        """
        model = self._models[name]
        allowed = self._fields[name]
        known = {k: v for k, v in properties.items() if k in allowed}
        try:
            instance = model.model_validate(known)
        except ValidationError as exc:
            first = exc.errors()[0]
            # Only the declared property is named: deeper locations can be mapping keys, which
            # are data (``{"notes": {"jane@example.com": ...}}``).
            loc = first.get("loc", ())
            where = str(loc[0]) if loc else "properties"
            # Not chained on purpose: pydantic's message quotes the input, which may be PHI.
            raise InvalidInputError(f"{name}.{where}", str(first.get("type", "invalid"))) from None
        dumped = instance.model_dump(mode="json", exclude_unset=True, by_alias=True)
        for field_name in self._declared[name]:
            value = dumped.get(field_name)
            if type(value) is str:
                dumped[field_name] = DeclaredText(value)
        return dumped, len(properties) - len(known)
