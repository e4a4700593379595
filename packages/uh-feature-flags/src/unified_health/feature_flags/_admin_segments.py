"""Segment verbs of `FeatureFlagAdmin`: create, update, archive, delete, get, list."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from unified_health.feature_flags._errors import ConflictError, InvalidInputError, NotFoundError
from unified_health.feature_flags._models import Segment
from unified_health.feature_flags._mutation import (
    SEGMENT_OPS,
    AdminCore,
    Mutation,
    StoreView,
    doc,
    dump,
)
from unified_health.feature_flags._validation import parse_model
from unified_health.feature_flags.stores._protocol import Write

__all__ = ["SegmentAdmin"]


class SegmentAdmin(AdminCore):
    """The segment half of `FeatureFlagAdmin`."""

    def get_segment(self, key: str) -> Segment:
        """Return a segment (archived ones included).

        Raises:
            NotFoundError: No such segment.
        """
        found = self.view().segments.get(key)
        if found is None:
            raise NotFoundError("segment", key)
        return found

    def list_segments(self) -> list[Segment]:
        """Return every segment, sorted by key."""
        return [s for _, s in sorted(self.view().segments.items())]

    def create_segment(
        self, segment: Segment | Mapping[str, Any], *, actor: str, reason: str
    ) -> Segment:
        """Create a segment at version 1.

        Raises:
            InvalidInputError: The definition is invalid.
            ConflictError: A segment with this key exists.
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

        Raises:
            InvalidInputError: The definition is invalid.
            NotFoundError: No such segment.
            ConflictError: The segment changed since ``expected_version``.
        """
        candidate = parse_model(Segment, segment)
        return self._replace_segment(
            candidate.key, lambda _: candidate, expected_version, "segment.update", actor, reason
        )

    def archive_segment(self, key: str, *, actor: str, reason: str) -> Segment:
        """Archive a segment.

        Raises:
            NotFoundError: No such segment.
            InvalidInputError: A live flag uses it.
        """
        return self._replace_segment(
            key,
            lambda s: s.model_copy(update={"archived": True}),
            None,
            "segment.archive",
            actor,
            reason,
        )

    def delete_segment(self, key: str, *, actor: str, reason: str) -> None:
        """Delete a segment; deleting a missing segment does nothing.

        Raises:
            InvalidInputError: A live flag uses it.
        """

        def build(view: StoreView) -> Mutation | None:
            if key not in view.state.segments:
                return None
            self._check_unused_segment(key, view)
            before = view.segments.get(key)
            return Mutation(
                "segment.delete", key, (Write("segments", key, None),), dump(before), None
            )

        self.mutate(build, actor=actor, reason=reason)

    def _replace_segment(
        self,
        key: str,
        change: Callable[[Segment], Segment],
        expected_version: int | None,
        action: str,
        actor: str,
        reason: str,
    ) -> Segment:
        def build(view: StoreView) -> Mutation:
            current = view.segments.get(key)
            if current is None:
                raise NotFoundError("segment", key)
            if expected_version is not None and expected_version != current.version:
                raise ConflictError(
                    f"segment {key!r} is at version {current.version}, the write expected "
                    f"{expected_version}"
                )
            new = parse_model(Segment, change(current)).model_copy(
                update={
                    "version": current.version + 1,
                    "created_at": current.created_at,
                    "updated_at": self._clock.now(),
                }
            )
            if new.archived:
                self._check_unused_segment(key, view)
            writes = (Write("segments", key, doc(new)),)
            return Mutation(action, key, writes, dump(current), dump(new), new)

        result: Segment = self.mutate(build, actor=actor, reason=reason)
        return result

    @staticmethod
    def _check_unused_segment(key: str, view: StoreView) -> None:
        users = sorted(
            flag.key
            for flag in view.live_flags().values()
            if any(
                c.operator.value in SEGMENT_OPS and key in c.values
                for rule in flag.rules
                for c in rule.conditions
            )
        )
        if users:
            raise InvalidInputError("key", f"is used by flags: {', '.join(users)}")
