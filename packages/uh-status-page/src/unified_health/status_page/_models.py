"""The models of uh-status-page: frozen, strict pydantic models.

Invalid input to any of them raises `InvalidInputError`.

`FrozenModel` is the base of every model a user constructs: frozen, ``extra="forbid"`` and strict
(``"yes"`` is not a bool and ``"25"`` is not an int). A broken rule raises `InvalidInputError`
naming the field and the rule; pydantic's own error, whose text echoes the value, never escapes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from unified_health.status_page._errors import InvalidInputError

__all__ = [
    "COMPONENT_STATUSES",
    "IMPACTS",
    "INCIDENT_STATUSES",
    "MAINTENANCE_STATUSES",
    "Component",
    "ComponentGroup",
    "FrozenModel",
    "Incident",
    "IncidentTemplate",
    "IncidentUpdate",
    "Page",
    "Subscriber",
    "VendorModel",
    "check_aware",
    "check_choice",
    "check_text",
    "invalid_input",
]

COMPONENT_STATUSES = (
    "operational",
    "degraded_performance",
    "partial_outage",
    "major_outage",
    "under_maintenance",
)
"""Component statuses Statuspage accepts, from best to worst (maintenance last)."""

INCIDENT_STATUSES = ("investigating", "identified", "monitoring", "resolved")
"""Statuses of a realtime incident."""

MAINTENANCE_STATUSES = ("scheduled", "in_progress", "verifying", "completed")
"""Statuses of a scheduled maintenance."""

IMPACTS = ("none", "maintenance", "minor", "major", "critical")
"""Values of an incident's ``impact`` and ``impact_override``."""


def invalid_input(exc: ValidationError, *, prefix: str = "") -> InvalidInputError:
    """Turn pydantic's first error into an `InvalidInputError` that names field and rule only.

    Args:
        exc: The validation error.
        prefix: Dotted path to prepend to the field, for nested input.

    Returns:
        The error to raise (``raise invalid_input(exc) from None``: pydantic's message holds the
        value, so it is not kept as the cause).

    Examples:
        >>> class Name(FrozenModel):
        ...     name: str = Field(min_length=1)
        >>> try:
        ...     Name(name="")
        ... except InvalidInputError as err:
        ...     print(err.field, "|", err.rule)
        name | String should have at least 1 character
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
            >>> class Size(FrozenModel):
            ...     width: int
            >>> Size.parse({"width": 3}).width
            3
        """
        if not isinstance(data, Mapping):
            raise InvalidInputError("$", "must be a mapping")
        return cls(**data)


def check_choice(value: object, field: str, allowed: tuple[str, ...]) -> str:
    """Return ``value`` if it is one of ``allowed``, else raise `InvalidInputError`.

    Args:
        value: What the caller passed.
        field: The field name for the error.
        allowed: The accepted values.

    Returns:
        The value.

    Raises:
        InvalidInputError: ``value`` is not a str among ``allowed`` (the value is not echoed).

    Examples:
        >>> check_choice("operational", "status", COMPONENT_STATUSES)
        'operational'
        >>> try:
        ...     check_choice("down", "status", ("up",))
        ... except InvalidInputError as err:
        ...     print(err)
        status: must be one of: up
    """
    if not isinstance(value, str) or value not in allowed:
        raise InvalidInputError(field, "must be one of: " + ", ".join(allowed))
    return value


def check_aware(value: object, field: str) -> datetime:
    """Return ``value`` if it is a timezone-aware datetime, else raise `InvalidInputError`.

    Examples:
        >>> from datetime import UTC
        >>> check_aware(datetime(2026, 1, 5, tzinfo=UTC), "starts_at").year
        2026
        >>> try:
        ...     check_aware(datetime(2026, 1, 5), "starts_at")
        ... except InvalidInputError as err:
        ...     print(err)
        starts_at: must be a timezone-aware datetime
    """
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInputError(field, "must be a timezone-aware datetime")
    return value


def check_text(value: object, field: str, *, max_length: int = 255, empty: bool = False) -> str:
    """Return ``value`` if it is a str of at most ``max_length`` characters.

    Examples:
        >>> check_text("API Degradation", "name")
        'API Degradation'
        >>> try:
        ...     check_text("", "name")
        ... except InvalidInputError as err:
        ...     print(err)
        name: must be a non-empty str of at most 255 characters
    """
    if not isinstance(value, str) or len(value) > max_length or (not empty and not value.strip()):
        kind = "a str" if empty else "a non-empty str"
        raise InvalidInputError(field, f"must be {kind} of at most {max_length} characters")
    return value


class VendorModel(BaseModel):
    """Base of what Statuspage answers: frozen, lenient about fields the vendor adds.

    Statuses stay plain strings, so a status the vendor introduces later is kept as it came
    (an open enum) instead of failing the whole answer; compare with the ``*_STATUSES`` tuples.

    Examples:
        >>> Component.model_validate({"id": "c1", "name": "API", "status": "new_state"}).status
        'new_state'
    """

    model_config = ConfigDict(frozen=True, extra="ignore")


class Component(VendorModel):
    """A component of a page.

    Examples:
        >>> Component.model_validate({"id": "c1", "name": "API", "status": "operational"}).name
        'API'
    """

    id: str
    name: str = ""
    status: str = ""
    description: str | None = None
    group_id: str | None = None
    group: bool = False
    position: int | None = None
    page_id: str | None = None
    showcase: bool | None = None
    created_at: AwareDatetime | None = None
    updated_at: AwareDatetime | None = None

    @property
    def status_known(self) -> bool:
        """Whether ``status`` is one this package knows (the vendor may add statuses)."""
        return self.status in COMPONENT_STATUSES


class ComponentGroup(VendorModel):
    """A group of components.

    Examples:
        >>> group = {"id": "g1", "name": "Core", "components": ["c1"]}
        >>> ComponentGroup.model_validate(group).components
        ['c1']
    """

    id: str
    name: str = ""
    description: str | None = None
    components: list[str] = Field(default_factory=list)
    position: int | None = None
    page_id: str | None = None
    created_at: AwareDatetime | None = None
    updated_at: AwareDatetime | None = None


class IncidentUpdate(VendorModel):
    """One update (message and status) of an incident.

    Examples:
        >>> IncidentUpdate.model_validate({"id": "u1", "status": "identified"}).status
        'identified'
    """

    id: str
    incident_id: str | None = None
    status: str = ""
    body: str | None = None
    created_at: AwareDatetime | None = None
    display_at: AwareDatetime | None = None
    affected_components: list[dict[str, Any]] | None = None


class Incident(VendorModel):
    """An incident or a scheduled maintenance.

    Examples:
        >>> incident = Incident.model_validate(
        ...     {"id": "i1", "name": "API down", "status": "investigating", "impact": "major"}
        ... )
        >>> (incident.status, incident.is_resolved)
        ('investigating', False)
    """

    id: str
    name: str = ""
    status: str = ""
    impact: str | None = None
    impact_override: str | None = None
    page_id: str | None = None
    shortlink: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    components: list[Component] = Field(default_factory=list)
    incident_updates: list[IncidentUpdate] = Field(default_factory=list)
    created_at: AwareDatetime | None = None
    updated_at: AwareDatetime | None = None
    resolved_at: AwareDatetime | None = None
    monitoring_at: AwareDatetime | None = None
    started_at: AwareDatetime | None = None
    scheduled_for: AwareDatetime | None = None
    scheduled_until: AwareDatetime | None = None
    scheduled_auto_in_progress: bool | None = None
    scheduled_auto_completed: bool | None = None
    auto_transition_to_maintenance_state: bool | None = None
    auto_transition_to_operational_state: bool | None = None

    @property
    def is_resolved(self) -> bool:
        """Whether the incident is over (``resolved``, or a maintenance ``completed``)."""
        return self.status in ("resolved", "completed", "postmortem")


class IncidentTemplate(VendorModel):
    """A saved incident template.

    Examples:
        >>> IncidentTemplate.model_validate({"id": "t1", "name": "Slow", "title": "Slow API"}).title
        'Slow API'
    """

    id: str
    name: str = ""
    title: str = ""
    body: str | None = None
    group_id: str | None = None
    update_status: str | None = None
    should_tweet: bool | None = None
    should_send_notifications: bool | None = None
    components: list[Component] = Field(default_factory=list)


class Subscriber(VendorModel):
    """A subscriber of a page. Contact fields are personal data: the package never logs them.

    Examples:
        >>> Subscriber.model_validate({"id": "s1", "mode": "email"}).mode
        'email'
    """

    id: str
    mode: str | None = None
    email: str | None = None
    endpoint: str | None = None
    phone_number: str | None = None
    phone_country: str | None = None
    skip_confirmation_notification: bool | None = None
    components: list[str] | None = None
    quarantined_at: AwareDatetime | None = None
    purge_at: AwareDatetime | None = None
    created_at: AwareDatetime | None = None


class Page(VendorModel):
    """A status page's profile.

    Examples:
        >>> Page.model_validate({"id": "p1", "name": "Acme"}).name
        'Acme'
    """

    id: str
    name: str = ""
    subdomain: str | None = None
    domain: str | None = None
    url: str | None = None
    time_zone: str | None = None
    created_at: AwareDatetime | None = None
    updated_at: AwareDatetime | None = None
