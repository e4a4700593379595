"""Input rules for what reaches vendors as it is: event names and group types.

Both are sent unpseudonymised, so besides their shape they must hold no personal data (the
sanitiser is asked). Names that passed are remembered: an application uses a few hundred.
"""

from __future__ import annotations

from unified_health.analytics._errors import InvalidInputError
from unified_health.analytics._models import DropReason
from unified_health.analytics._normalize import EVENT_NAME, GROUP_TYPE, RESERVED_KEYS
from unified_health.analytics._sanitize import Sanitizer

__all__ = ["NameRules", "drop_reason_of", "nonempty_str"]

_NAMES_KEPT = 10_000
_GROUP_TYPES_KEPT = 1_000


def nonempty_str(value: object) -> bool:
    """Whether ``value`` is a non-empty ``str``.

    Examples:
        >>> nonempty_str("user-1"), nonempty_str(""), nonempty_str(42)
        (True, False, False)
    """
    return isinstance(value, str) and bool(value)


def drop_reason_of(exc: InvalidInputError) -> str:
    """The `DropReason` an input error is counted under.

    Examples:
        >>> str(drop_reason_of(InvalidInputError("event", "must not contain personal data")))
        'invalid_name'
    """
    if exc.field == "event" or exc.rule.startswith("property names"):
        return DropReason.INVALID_NAME
    if "schema" in exc.rule:
        return DropReason.MISSING_SCHEMA
    if exc.field == "properties" and "bytes" in exc.rule:
        return DropReason.OVERSIZED
    if "." in exc.field:
        return DropReason.SCHEMA_VIOLATION
    return DropReason.INVALID_INPUT


class NameRules:
    """Checks event names and group types, remembering the ones that passed.

    Examples:
        >>> rules = NameRules(Sanitizer())
        >>> rules.check_event("appointment_booked")
        >>> rules.check_event("called 555-123-4567")
        Traceback (most recent call last):
        ...
        unified_health.analytics._errors.InvalidInputError: event: must not contain personal data
    """

    __slots__ = ("_events", "_group_types", "_sanitizer")

    def __init__(self, sanitizer: Sanitizer) -> None:
        self._sanitizer = sanitizer
        self._events: set[str] = set()
        self._group_types: set[str] = set()

    def check_event(self, name: str) -> None:
        """Raise unless ``name`` is a well-formed event name without personal data.

        Raises:
            InvalidInputError: Naming the ``event`` field and the rule broken.
        """
        if name in self._events:
            return
        if not nonempty_str(name) or not EVENT_NAME.match(name):
            raise InvalidInputError("event", "must be a letter then letters, digits, _.:/- ")
        self._check("event", name)
        if len(self._events) < _NAMES_KEPT:
            self._events.add(name)

    def _check(self, field: str, name: str) -> None:
        """The sanitiser's naming check (grammar and detectors).

        A sanitiser without one has the name scrubbed as a label instead.
        """
        check = getattr(self._sanitizer, "check_name", None)
        if check is not None:
            check(field, name)
            return
        cleaned, found = self._sanitizer.scrub_value(name)
        if found or cleaned != name:
            raise InvalidInputError(field, "must not contain personal data")

    def check_group_type(self, field: str, group_type: object) -> None:
        """Raise unless ``group_type`` is an identifier without personal data.

        Raises:
            InvalidInputError: Naming ``field`` and the rule broken.
        """
        if isinstance(group_type, str) and group_type in self._group_types:
            return
        if not (isinstance(group_type, str) and GROUP_TYPE.match(group_type)):
            raise InvalidInputError(field, "group types must be a letter then letters, digits, _-")
        if group_type.lower() in RESERVED_KEYS:
            raise InvalidInputError(field, "group types must not be reserved property names")
        self._check(field, group_type)
        if len(self._group_types) < _GROUP_TYPES_KEPT:
            self._group_types.add(group_type)
