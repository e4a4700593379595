"""Segment verbs of `FeatureFlagAdmin`: create, update, archive, delete, get, list."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from unified_health.feature_flags._errors import ConflictError, InvalidInputError, NotFoundError
from unified_health.feature_flags._models import Segment
from unified_health.feature_flags._mutation import (
    AdminCore,
    Mutation,
    StoreView,
    doc,
    dump,
)
from unified_health.feature_flags._operators import SEGMENT_OPERATORS
from unified_health.feature_flags._validation import parse_model
from unified_health.feature_flags.stores._protocol import Write

__all__ = ["SegmentAdmin"]


class SegmentAdmin(AdminCore):
    """The segment half of `FeatureFlagAdmin`.

    Examples:
        >>> from unified_health.feature_flags import FeatureFlagAdmin, InMemoryFeatureFlagStore
        >>> FeatureFlagAdmin(InMemoryFeatureFlagStore()).list_segments()
        []
    """

    def get_segment(self, key: str) -> Segment:
        """Return a segment (archived ones included).

        Args:
            key: The segment key.

        Returns:
            The segment.

        Raises:
            NotFoundError: No such segment (or its stored document is unreadable).

        Examples:
            >>> from unified_health.feature_flags import FeatureFlagAdmin, InMemoryFeatureFlagStore
            >>> admin = FeatureFlagAdmin(InMemoryFeatureFlagStore())
            >>> _ = admin.create_segment(Segment(key="staff"), actor="ops", reason="new")
            >>> admin.get_segment("staff").version
            1
        """
        found = self.view().segments.get(key)
        if found is None:
            raise NotFoundError("segment", key)
        return found

    def list_segments(self) -> list[Segment]:
        """Return every readable segment, sorted by key.

        Examples:
            >>> from unified_health.feature_flags import FeatureFlagAdmin, InMemoryFeatureFlagStore
            >>> FeatureFlagAdmin(InMemoryFeatureFlagStore()).list_segments()
            []
        """
        return [s for _, s in sorted(self.view().segments.items())]

    def create_segment(
        self, segment: Segment | Mapping[str, Any], *, actor: str, reason: str
    ) -> Segment:
        """Create a segment at version 1.

        Args:
            segment: The definition (a model, or a mapping validated here).
            actor: Who asks.
            reason: Why.

        Returns:
            The stored segment.

        Raises:
            InvalidInputError: The definition is invalid.
            ConflictError: A segment with this key exists.

        Examples:
            >>> from unified_health.feature_flags import FeatureFlagAdmin, InMemoryFeatureFlagStore
            >>> admin = FeatureFlagAdmin(InMemoryFeatureFlagStore())
            >>> admin.create_segment({"key": "staff"}, actor="ops", reason="new").key
            'staff'
        """
        candidate = parse_model(Segment, segment)

        def build(view: StoreView) -> Mutation:
            if candidate.key in view.state.segments:
                raise ConflictError(f"segment {candidate.key!r} already exists")
            now = self._clock.now()
            new = candidate.model_copy(update={"version": 1, "created_at": now, "updated_at": now})
            writes = (Write("segments", new.key, doc(new)),)
            return Mutation("segment.create", new.key, writes, None, dump(new), new)

        result: Segment = self.mutate(build, actor=actor, reason=reason)
        return result

    def update_segment(
        self,
        segment: Segment | Mapping[str, Any],
        *,
        expected_version: int,
        actor: str,
        reason: str,
    ) -> Segment:
        """Replace a segment if it is still at ``expected_version``.

        This is also how an unreadable stored document is repaired.

        Args:
            segment: The new definition (its ``version`` is ignored).
            expected_version: The version the caller read (the ETag).
            actor: Who asks.
            reason: Why.

        Returns:
            The stored segment, at ``expected_version + 1``.

        Raises:
            InvalidInputError: The definition is invalid.
            NotFoundError: No such segment.
            ConflictError: The segment changed since ``expected_version``.

        Examples:
            >>> from unified_health.feature_flags import FeatureFlagAdmin, InMemoryFeatureFlagStore
            >>> admin = FeatureFlagAdmin(InMemoryFeatureFlagStore())
            >>> _ = admin.create_segment(Segment(key="staff"), actor="ops", reason="new")
            >>> new = Segment(key="staff", included=["u1"])
            >>> admin.update_segment(new, expected_version=1, actor="ops", reason="add").version
            2
        """
        candidate = parse_model(Segment, segment)
        return self._replace_segment(
            candidate.key,
            lambda _: candidate,
            expected_version,
            "segment.update",
            actor,
            reason,
            whole=True,
        )

    def archive_segment(
        self, key: str, *, expected_version: int | None = None, actor: str, reason: str
    ) -> Segment:
        """Archive a segment.

        Args:
            key: The segment.
            expected_version: The version the caller read, if it must still be current
                (an HTTP ``If-Match``).
            actor: Who asks.
            reason: Why.

        Returns:
            The archived segment.

        Raises:
            NotFoundError: No such segment.
            InvalidInputError: A live flag uses it.
            ConflictError: ``expected_version`` is stale, or the stored document is unreadable
                (replace it in full with `update_segment`, or delete it).

        Examples:
            >>> from unified_health.feature_flags import FeatureFlagAdmin, InMemoryFeatureFlagStore
            >>> admin = FeatureFlagAdmin(InMemoryFeatureFlagStore())
            >>> _ = admin.create_segment(Segment(key="staff"), actor="ops", reason="new")
            >>> admin.archive_segment("staff", actor="ops", reason="unused").archived
            True
        """
        return self._replace_segment(
            key,
            lambda s: s.model_copy(update={"archived": True}),
            expected_version,
            "segment.archive",
            actor,
            reason,
        )

    def delete_segment(
        self, key: str, *, expected_version: int | None = None, actor: str, reason: str
    ) -> None:
        """Delete a segment; deleting a missing segment does nothing (unless a version is expected).

        Args:
            key: The segment.
            expected_version: The version the caller read, if it must still be current
                (an HTTP ``If-Match``); a missing segment is then a conflict.
            actor: Who asks.
            reason: Why.

        Raises:
            InvalidInputError: A live flag uses it.
            ConflictError: ``expected_version`` is stale.

        Examples:
            >>> from unified_health.feature_flags import FeatureFlagAdmin, InMemoryFeatureFlagStore
            >>> admin = FeatureFlagAdmin(InMemoryFeatureFlagStore())
            >>> admin.delete_segment("missing", actor="ops", reason="idempotent")
            >>> admin.list_segments()
            []
        """
        self.delete_document(
            "segment", key, expected_version, self._check_unused_segment, actor=actor, reason=reason
        )

    def _replace_segment(
        self,
        key: str,
        change: Callable[[Segment], Segment],
        expected_version: int | None,
        action: str,
        actor: str,
        reason: str,
        *,
        whole: bool = False,
    ) -> Segment:
        return self.replace_document(
            "segment", Segment, key, change, expected_version, action, actor=actor, reason=reason,
            whole=whole, check_unused=self._check_unused_segment,
        )  # fmt: skip

    @staticmethod
    def _check_unused_segment(key: str, view: StoreView) -> None:
        users = sorted(
            flag.key
            for flag in view.live_flags().values()
            if any(
                c.operator.value in SEGMENT_OPERATORS and key in c.values
                for rule in flag.rules
                for c in rule.conditions
            )
        )
        if users:
            raise InvalidInputError("key", f"is used by flags: {', '.join(users)}")
