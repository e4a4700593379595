"""Change sets: several flag and segment changes committed as one.

A `ChangeSet` lists changes; `FeatureFlagAdmin.apply_change_set` resolves them against one read
of the store, validates the resulting state as a whole (the same `check_state` every write
runs), and commits every document, one audit record naming every change and one version bump in
a single compare-and-set. Clients see the store's versions one at a time and swap in a whole
snapshot per version, so a reader sees all of a change set or none of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from unified_health.feature_flags._errors import ConflictError, InvalidInputError, NotFoundError
from unified_health.feature_flags._models import Flag, Rollout, Segment
from unified_health.feature_flags._validation import KEY_RE, parse_model

__all__ = ["Change", "ChangeSet", "ChangeSetResult", "ResolvedChange", "resolve_changes"]

Kind = Literal["flag", "segment"]
Op = Literal["put", "delete", "patch"]
_MAX_CHANGES = 1000


@dataclass(frozen=True, slots=True)
class Change:
    """One change of a `ChangeSet` (built by its methods, not by hand).

    Examples:
        >>> Change("flag", "beta", "delete", None, None).op
        'delete'
    """

    kind: Kind
    key: str
    op: Op
    expected_version: int | None
    payload: Any


@dataclass(frozen=True, slots=True)
class ResolvedChange:
    """A change resolved against the store: the document before and after (``None``: absent).

    Examples:
        >>> ResolvedChange("flag", "beta", "delete", Flag(key="beta"), None).after is None
        True
    """

    kind: Kind
    key: str
    op: Op
    before: Flag | Segment | None
    after: Flag | Segment | None


class ChangeSetResult(BaseModel):
    """What `FeatureFlagAdmin.apply_change_set` committed.

    ``version`` is the store version of the one commit; ``flags`` and ``segments`` hold the
    stored definitions of what was put or patched; ``deleted_flags`` and ``deleted_segments``
    the keys that were deleted.

    Examples:
        >>> ChangeSetResult(version=4).deleted_flags
        []
    """

    model_config = ConfigDict(frozen=True)

    version: int
    flags: dict[str, Flag] = {}
    segments: dict[str, Segment] = {}
    deleted_flags: list[str] = []
    deleted_segments: list[str] = []


def _version(value: Any, field: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInputError(field, "must be a non-negative integer")
    return value


def _key(value: Any, field: str) -> str:
    if not isinstance(value, str) or not KEY_RE.fullmatch(value):
        raise InvalidInputError(field, "must be a key (letters, digits, ._:-; 1-128 characters)")
    return value


class ChangeSet:
    """Flag and segment changes to commit together: one version, one audit record, or nothing.

    Each method validates its input at once (so a mistake is reported where it is made) and
    returns the change set, so calls chain. A key may be changed once per change set.
    ``expected_version`` makes a change conditional: ``0`` means "must not exist yet", ``n``
    means "must still be at version n"; ``None`` applies it to whatever is current.

    Examples:
        >>> from unified_health.feature_flags import FeatureFlagAdmin, Flag
        >>> from unified_health.feature_flags import InMemoryFeatureFlagStore
        >>> admin = FeatureFlagAdmin(InMemoryFeatureFlagStore())
        >>> changes = ChangeSet().put_flag(Flag(key="new-billing", enabled=True))
        >>> changes = changes.put_flag(Flag(key="new-invoices", enabled=True))
        >>> result = admin.apply_change_set(changes, actor="ops", reason="release 42")
        >>> (result.version, sorted(result.flags))
        (1, ['new-billing', 'new-invoices'])
    """

    def __init__(self) -> None:
        self._changes: list[Change] = []
        self._seen: set[tuple[str, str]] = set()

    @property
    def changes(self) -> tuple[Change, ...]:
        """The changes, in the order they were added.

        Examples:
            >>> len(ChangeSet().delete_flag("old").changes)
            1
        """
        return tuple(self._changes)

    def __len__(self) -> int:
        return len(self._changes)

    def _add(self, kind: Kind, key: str, op: Op, expected: int | None, payload: Any) -> ChangeSet:
        field = f"changes.{len(self._changes)}"
        if len(self._changes) >= _MAX_CHANGES:
            raise InvalidInputError("changes", f"a change set holds at most {_MAX_CHANGES}")
        if (kind, key) in self._seen:
            raise InvalidInputError(f"{field}.key", f"changes this {kind} a second time")
        self._seen.add((kind, key))
        self._changes.append(Change(kind, key, op, expected, payload))
        return self

    def put_flag(
        self, flag: Flag | Mapping[str, Any], *, expected_version: int | None = None
    ) -> ChangeSet:
        """Create the flag, or replace its definition.

        Args:
            flag: The definition (its ``version`` and timestamps are set on commit).
            expected_version: ``0``: must not exist; ``n``: must be at version n.

        Returns:
            This change set.

        Raises:
            InvalidInputError: The definition or the version is invalid.

        Examples:
            >>> len(ChangeSet().put_flag({"key": "beta"}, expected_version=0))
            1
        """
        field = f"changes.{len(self._changes)}"
        expected = _version(expected_version, f"{field}.expected_version")
        try:
            model = parse_model(Flag, flag)
        except InvalidInputError as exc:
            raise InvalidInputError(f"{field}.{exc.field}", exc.rule) from None
        return self._add("flag", model.key, "put", expected, model)

    def delete_flag(self, key: str, *, expected_version: int | None = None) -> ChangeSet:
        """Delete the flag (a missing flag is fine unless a version is expected).

        Args:
            key: The flag.
            expected_version: The version it must still be at.

        Returns:
            This change set.

        Examples:
            >>> ChangeSet().delete_flag("old").changes[0].op
            'delete'
        """
        field = f"changes.{len(self._changes)}"
        expected = _version(expected_version, f"{field}.expected_version")
        return self._add("flag", _key(key, f"{field}.key"), "delete", expected, None)

    def toggle_flag(
        self, key: str, enabled: bool, *, expected_version: int | None = None
    ) -> ChangeSet:
        """Turn an existing flag on or off.

        Args:
            key: The flag.
            enabled: On or off.
            expected_version: The version it must still be at.

        Returns:
            This change set.

        Examples:
            >>> ChangeSet().toggle_flag("beta", True).changes[0].payload
            {'enabled': True}
        """
        return self.patch_flag(key, enabled=enabled, expected_version=expected_version)

    def patch_flag(
        self,
        key: str,
        *,
        enabled: bool | None = None,
        percentage: float | None = None,
        expected_version: int | None = None,
    ) -> ChangeSet:
        """Change an existing flag's ``enabled`` and/or its fallthrough rollout percentage.

        Args:
            key: The flag.
            enabled: On or off, if given.
            percentage: The fallthrough rollout's percentage (0-100), if given.
            expected_version: The version it must still be at.

        Returns:
            This change set.

        Raises:
            InvalidInputError: Nothing to change, or a bad value.

        Examples:
            >>> ChangeSet().patch_flag("beta", percentage=25).changes[0].payload
            {'percentage': 25}
        """
        field = f"changes.{len(self._changes)}"
        expected = _version(expected_version, f"{field}.expected_version")
        given_enabled: object = enabled
        if given_enabled is not None and not isinstance(given_enabled, bool):
            raise InvalidInputError(f"{field}.enabled", "must be a boolean")
        payload: dict[str, Any] = {}
        if enabled is not None:
            payload["enabled"] = enabled
        if percentage is not None:
            try:
                Rollout(percentage=percentage)
            except InvalidInputError as exc:
                raise InvalidInputError(f"{field}.{exc.field}", exc.rule) from None
            payload["percentage"] = percentage
        if not payload:
            raise InvalidInputError(field, "must change something (enabled or percentage)")
        return self._add("flag", _key(key, f"{field}.key"), "patch", expected, payload)

    def put_segment(
        self, segment: Segment | Mapping[str, Any], *, expected_version: int | None = None
    ) -> ChangeSet:
        """Create the segment, or replace its definition.

        Args:
            segment: The definition.
            expected_version: ``0``: must not exist; ``n``: must be at version n.

        Returns:
            This change set.

        Examples:
            >>> len(ChangeSet().put_segment({"key": "staff", "included": ["u-1"]}))
            1
        """
        field = f"changes.{len(self._changes)}"
        expected = _version(expected_version, f"{field}.expected_version")
        try:
            model = parse_model(Segment, segment)
        except InvalidInputError as exc:
            raise InvalidInputError(f"{field}.{exc.field}", exc.rule) from None
        return self._add("segment", model.key, "put", expected, model)

    def delete_segment(self, key: str, *, expected_version: int | None = None) -> ChangeSet:
        """Delete the segment (a missing one is fine unless a version is expected).

        Args:
            key: The segment.
            expected_version: The version it must still be at.

        Returns:
            This change set.

        Examples:
            >>> ChangeSet().delete_segment("staff").changes[0].kind
            'segment'
        """
        field = f"changes.{len(self._changes)}"
        expected = _version(expected_version, f"{field}.expected_version")
        return self._add("segment", _key(key, f"{field}.key"), "delete", expected, None)


def _check_expected(change: Change, current: int | None) -> None:
    expected = change.expected_version
    if expected is None:
        return
    if (current or 0) != expected:
        found = "does not exist" if current is None else f"is at version {current}"
        raise ConflictError(
            f"{change.kind} {change.key!r} {found}, the change set expected version {expected}"
        )


def resolve_changes(
    changes: tuple[Change, ...],
    *,
    flags: Mapping[str, Flag],
    segments: Mapping[str, Segment],
    raw: Mapping[tuple[str, str], str],
    raw_versions: Mapping[tuple[str, str], int],
    now: datetime,
) -> list[ResolvedChange]:
    """Resolve changes against the current documents; nothing is written here.

    Args:
        changes: The changes.
        flags: Readable flags by key.
        segments: Readable segments by key.
        raw: Every stored document by ``(kind, key)``, readable or not.
        raw_versions: The version an unreadable stored document claims, by ``(kind, key)``.
        now: The commit time (``created_at``/``updated_at``).

    Returns:
        One resolved change per change that does something (deleting a missing document does
        nothing).

    Raises:
        ConflictError: A version expectation failed, or a patch meets an unreadable document.
        NotFoundError: A patch names a missing flag.

    Examples:
        >>> from datetime import UTC
        >>> at = datetime(2026, 1, 1, tzinfo=UTC)
        >>> done = resolve_changes(
        ...     ChangeSet().put_flag({"key": "beta"}).changes,
        ...     flags={}, segments={}, raw={}, raw_versions={}, now=at,
        ... )
        >>> (done[0].after.version, done[0].before)
        (1, None)
    """
    out: list[ResolvedChange] = []
    for change in changes:
        current: Flag | Segment | None = (
            flags.get(change.key) if change.kind == "flag" else segments.get(change.key)
        )
        stored = (change.kind, change.key) in raw
        version = (
            current.version if current is not None else raw_versions.get((change.kind, change.key))
        )
        _check_expected(change, version if stored else None)
        if change.op == "delete":
            if stored:
                out.append(ResolvedChange(change.kind, change.key, "delete", current, None))
            continue
        if change.op == "patch":
            if not stored:
                raise NotFoundError(change.kind, change.key)
            if not isinstance(current, Flag):
                raise ConflictError(
                    f"flag {change.key!r} is stored in a form this version cannot read; "
                    "replace it with put_flag, or delete it"
                )
            new: Flag | Segment = _patched(current, change.payload)
        else:
            new = change.payload
        created = current.created_at if current is not None else None
        new = new.model_copy(
            update={
                "version": (version or 0) + 1,
                "created_at": created if stored and created is not None else now,
                "updated_at": now,
            }
        )
        out.append(ResolvedChange(change.kind, change.key, change.op, current, new))
    return out


def _patched(flag: Flag, payload: Mapping[str, Any]) -> Flag:
    update: dict[str, Any] = {}
    if "enabled" in payload:
        update["enabled"] = payload["enabled"]
    if "percentage" in payload:
        rollout = flag.rollout if flag.rollout is not None else Rollout()
        update["rollout"] = rollout.model_copy(update={"percentage": payload["percentage"]})
    return parse_model(Flag, flag.model_copy(update=update))
