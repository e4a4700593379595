"""The read-validate-commit cycle every admin write goes through.

Every mutation reads the store, validates the change against everything else (variants, regexes,
prerequisite cycles, segment references), seals one audit record and commits it all in one
atomic step. If another writer got there first the cycle re-reads and re-checks (a stale
``expected_version`` then raises `ConflictError`); if the store is unreachable the call raises
`StoreUnavailableError` and nothing was written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from pydantic import BaseModel

from unified_health.feature_flags._audit import seal
from unified_health.feature_flags._config import Clock, SystemClock
from unified_health.feature_flags._errors import (
    ConflictError,
    InvalidInputError,
    StoreUnavailableError,
)
from unified_health.feature_flags._models import Flag, Segment
from unified_health.feature_flags._validation import parse_model
from unified_health.feature_flags.stores._protocol import (
    Commit,
    FeatureFlagStore,
    StoreState,
    Write,
)

__all__ = ["SEGMENT_OPS", "AdminCore", "Mutation", "StoreView", "check_who", "doc", "dump"]

_log = structlog.get_logger("unified_health.feature_flags")
SEGMENT_OPS = frozenset({"in_segment", "not_in_segment"})


@dataclass(frozen=True)
class StoreView:
    """A parsed view of one store state (broken documents are left out of ``flags``)."""

    state: StoreState
    flags: dict[str, Flag]
    segments: dict[str, Segment]

    def live_flags(self) -> dict[str, Flag]:
        """Flags that are not archived."""
        return {k: f for k, f in self.flags.items() if not f.archived}

    def live_segments(self) -> dict[str, Segment]:
        """Segments that are not archived."""
        return {k: s for k, s in self.segments.items() if not s.archived}


@dataclass(frozen=True)
class Mutation:
    """What a mutation writes and how the audit record describes it."""

    action: str
    target: str
    writes: tuple[Write, ...]
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    result: Any = None


def dump(model: BaseModel | None) -> dict[str, Any] | None:
    return None if model is None else model.model_dump(mode="json")


def doc(model: BaseModel) -> str:
    return model.model_dump_json()


def check_who(actor: str, reason: str) -> None:
    if not actor or len(actor) > 200:
        raise InvalidInputError("actor", "must be 1-200 characters")
    if not reason or len(reason) > 2000:
        raise InvalidInputError("reason", "must be 1-2000 characters")


class AdminCore:
    """Shared state and the mutation cycle of `FeatureFlagAdmin`."""

    def __init__(
        self, store: FeatureFlagStore, *, clock: Clock | None = None, max_attempts: int = 5
    ) -> None:
        self._store = store
        self._clock = clock if clock is not None else SystemClock()
        self._max_attempts = max_attempts

    def view(self) -> StoreView:
        """Read and parse the store.

        Returns:
            The parsed view.

        Raises:
            StoreUnavailableError: The store is unreachable or holds no data (not initialised).
        """
        state = self._store.read()
        if state is None:
            raise StoreUnavailableError(
                "the store holds no flag data (wiped or not initialised): restore it with "
                "initialize()"
            )
        flags: dict[str, Flag] = {}
        for key, raw in state.flags.items():
            try:
                flags[key] = parse_model(Flag, raw)
            except InvalidInputError:
                _log.warning("feature_flags_document_rejected", kind="Flag", key=key)
        segments: dict[str, Segment] = {}
        for key, raw in state.segments.items():
            try:
                segments[key] = parse_model(Segment, raw)
            except InvalidInputError:
                _log.warning("feature_flags_document_rejected", kind="Segment", key=key)
        return StoreView(state, flags, segments)

    def mutate(
        self, build: Callable[[StoreView], Mutation | None], *, actor: str, reason: str
    ) -> Any:
        """Run one read-validate-commit cycle, retrying when the store moved.

        Args:
            build: Computes the mutation from a fresh view, raising on invalid input or
                conflict; ``None`` means nothing to do.
            actor: Who asks.
            reason: Why.

        Returns:
            The mutation's ``result`` (or ``None`` when nothing was done).

        Raises:
            ConflictError: A stale expected version, or the store kept moving.
            StoreUnavailableError: Nothing was written.
        """
        check_who(actor, reason)
        for _attempt in range(self._max_attempts):
            view = self.view()
            mutation = build(view)
            if mutation is None:
                return None
            state = view.state
            record, digest = seal(
                seq=state.audit_length + 1,
                at=self._clock.now(),
                actor=actor,
                reason=reason,
                action=mutation.action,
                target=mutation.target,
                before=mutation.before,
                after=mutation.after,
                store_version=state.version + 1,
                prev_hash=state.audit_head,
            )
            commit = Commit(
                base_epoch=state.epoch,
                base_version=state.version,
                writes=mutation.writes,
                audit_record=record,
                audit_hash=digest,
            )
            try:
                version = self._store.commit(commit)
            except ConflictError:
                continue
            _log.info(
                "feature_flags_mutation_committed",
                action=mutation.action,
                target=mutation.target,
                version=version,
            )
            return mutation.result
        raise ConflictError(f"the store kept changing; gave up after {self._max_attempts} attempts")

    def now(self) -> datetime:
        """The admin clock's current time."""
        return self._clock.now()
