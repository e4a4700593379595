"""The read-validate-commit cycle every admin write goes through.

Every mutation reads the store, validates the change against everything else (variants, regexes,
prerequisite cycles, segment references), seals one audit record and commits it all in one
atomic step. Context keys in the record's ``before`` / ``after`` are replaced by keyed hashes
(see `unified_health.feature_flags._audit.redact`). If another writer got there first the cycle
re-reads and re-checks (a stale ``expected_version`` then raises `ConflictError`); if the store is
unreachable the call raises `StoreUnavailableError` and nothing was written.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, TypeVar

from pydantic import BaseModel

from unified_health.feature_flags._audit import new_audit_key, raw_digest, redact, seal
from unified_health.feature_flags._changes import (
    Change,
    ChangeSetResult,
    ResolvedChange,
    resolve_changes,
)
from unified_health.feature_flags._clock import Clock, SystemClock
from unified_health.feature_flags._errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    StoreUnavailableError,
)
from unified_health.feature_flags._logging import logger
from unified_health.feature_flags._models import Flag, Segment
from unified_health.feature_flags._validation import check_state, parse_model
from unified_health.feature_flags.stores._protocol import (
    Commit,
    FeatureFlagStore,
    StoreState,
    Write,
)

__all__ = [
    "Writer",
    "Mutation",
    "StoreView",
    "check_expected",
    "change_set_mutation",
    "check_writes",
    "document_writes",
    "check_who",
    "doc",
    "dump",
    "raw_version",
]


@dataclass(frozen=True)
class StoreView:
    """A parsed view of one store state (broken documents are left out of ``flags``).

    Examples:
        >>> from unified_health.feature_flags import InMemoryFeatureFlagStore
        >>> Writer(InMemoryFeatureFlagStore()).view().live_flags()
        {}
    """

    state: StoreState
    flags: dict[str, Flag]
    segments: dict[str, Segment]

    def live_flags(self) -> dict[str, Flag]:
        """Flags that are not archived.

        Examples:
            >>> from unified_health.feature_flags import InMemoryFeatureFlagStore
            >>> Writer(InMemoryFeatureFlagStore()).view().live_flags()
            {}
        """
        return {k: f for k, f in self.flags.items() if not f.archived}

    def live_segments(self) -> dict[str, Segment]:
        """Segments that are not archived.

        Examples:
            >>> from unified_health.feature_flags import InMemoryFeatureFlagStore
            >>> Writer(InMemoryFeatureFlagStore()).view().live_segments()
            {}
        """
        return {k: s for k, s in self.segments.items() if not s.archived}


@dataclass(frozen=True)
class Mutation:
    """What a mutation writes and how the audit record describes it.

    Examples:
        >>> Mutation("flag.delete", "f", (Write("flags", "f", None),), None, None).action
        'flag.delete'
    """

    action: str
    target: str
    writes: tuple[Write, ...]
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    result: Any = None
    changes: tuple[ResolvedChange, ...] | None = None


def dump(model: BaseModel | None) -> dict[str, Any] | None:
    """Return a model as JSON-ready data, or ``None``.

    Examples:
        >>> dump(None) is None
        True
    """
    return None if model is None else model.model_dump(mode="json")


def doc(model: BaseModel) -> str:
    """Return a model as the JSON document a store keeps.

    Examples:
        >>> doc(Flag(key="f")).startswith('{"key":"f"')
        True
    """
    return model.model_dump_json()


def check_who(actor: str, reason: str) -> None:
    """Check the actor and reason every write carries.

    Raises:
        InvalidInputError: Either is empty or too long.

    Examples:
        >>> check_who("ops", "")
        Traceback (most recent call last):
        ...
        unified_health.feature_flags._errors.InvalidInputError: reason: must be 1-2000 characters
    """
    if not actor or len(actor) > 200:
        raise InvalidInputError("actor", "must be 1-200 characters")
    if not reason or len(reason) > 2000:
        raise InvalidInputError("reason", "must be 1-2000 characters")


def check_expected(kind: str, key: str, current: int, expected: int | None) -> None:
    """Raise `ConflictError` when ``expected`` is given and is not ``current``.

    Examples:
        >>> check_expected("flag", "beta", 3, None)
        >>> check_expected("flag", "beta", 3, 2)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        unified_health.feature_flags._errors.ConflictError: flag 'beta' is at version 3, ...
    """
    if expected is not None and expected != current:
        raise ConflictError(
            f"{kind} {key!r} is at version {current}, the write expected {expected}"
        )


def raw_version(raw: str) -> int:
    """Return the ``version`` an unreadable stored document claims (0 when none).

    Examples:
        >>> raw_version('{"version": 7, "from_the_future": 1}'), raw_version("{bad")
        (7, 0)
    """
    try:
        value = json.loads(raw).get("version", 0)
    except (ValueError, AttributeError):
        return 0
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def change_set_mutation(
    view: StoreView,
    changes: tuple[Change, ...],
    expected_store_version: int | None,
    now: datetime,
    *,
    action: str = "change_set.apply",
    extra_writes: tuple[Write, ...] = (),
    extra_audit: dict[str, Any] | None = None,
    result: Any = None,
) -> Mutation:
    """Resolve a change set against ``view`` into one mutation (see `apply_change_set`).

    Scheduled changes use it too: ``extra_writes`` (their schedule documents) join the same
    commit, and ``extra_audit`` joins its audit record.

    Raises:
        ConflictError: The store or a document is not at the expected version.

    Examples:
        >>> from datetime import UTC
        >>> from unified_health.feature_flags import ChangeSet, InMemoryFeatureFlagStore
        >>> view = Writer(InMemoryFeatureFlagStore()).view()
        >>> at = datetime(2026, 1, 1, tzinfo=UTC)
        >>> changes = ChangeSet().put_flag({"key": "a"}).changes
        >>> [w.key for w in change_set_mutation(view, changes, None, at).writes]
        ['a']
    """
    state = view.state
    if expected_store_version is not None and state.version != expected_store_version:
        raise ConflictError(
            f"the store is at version {state.version}, the change set expected "
            f"{expected_store_version}"
        )
    raw: dict[tuple[str, str], str] = {("flag", k): v for k, v in state.flags.items()}
    raw.update({("segment", k): v for k, v in state.segments.items()})
    raw_versions = {where: raw_version(text) for where, text in raw.items()}
    resolved = resolve_changes(
        changes,
        flags=view.flags,
        segments=view.segments,
        raw=raw,
        raw_versions=raw_versions,
        now=now,
    )
    writes = tuple(
        Write(
            "flags" if c.kind == "flag" else "segments",
            c.key,
            None if c.after is None else doc(c.after),
        )
        for c in resolved
    )
    summary = ChangeSetResult(
        version=state.version + 1,
        flags={c.key: c.after for c in resolved if isinstance(c.after, Flag)},
        segments={c.key: c.after for c in resolved if isinstance(c.after, Segment)},
        deleted_flags=[c.key for c in resolved if c.kind == "flag" and c.after is None],
        deleted_segments=[c.key for c in resolved if c.kind == "segment" and c.after is None],
    )
    target = ",".join(sorted({f"{c.kind}:{c.key}" for c in resolved}))[:500] or "*"
    return Mutation(
        action,
        target,
        writes + extra_writes,
        extra_audit,
        extra_audit,
        summary if result is None else result,
        tuple(resolved),
    )


def _audit_changes(
    changes: tuple[ResolvedChange, ...], audit_key: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The audit ``before``/``after`` of a change set: every change, documents redacted."""
    before = [
        {"kind": c.kind, "key": c.key, "op": c.op, "document": redact(dump(c.before), audit_key)}
        for c in changes
    ]
    after = [
        {"kind": c.kind, "key": c.key, "op": c.op, "document": redact(dump(c.after), audit_key)}
        for c in changes
    ]
    return {"changes": before}, {"changes": after}


def check_writes(view: StoreView, writes: tuple[Write, ...]) -> None:
    """Run the one state validation on what ``writes`` would leave in the store.

    Raises:
        InvalidInputError: The writes add a cross-definition problem (see `check_state`).

    Examples:
        >>> from unified_health.feature_flags import InMemoryFeatureFlagStore, Prerequisite
        >>> view = Writer(InMemoryFeatureFlagStore()).view()
        >>> flag = Flag(key="a", prerequisites=[Prerequisite(key="missing")])
        >>> try:
        ...     check_writes(view, (Write("flags", "a", doc(flag)),))
        ... except InvalidInputError as err:
        ...     print(err.field)
        flags.a.prerequisites.0.key
    """
    flags = dict(view.flags)
    segments = dict(view.segments)
    for write in writes:
        if write.collection == "flags":
            if write.value is None:
                flags.pop(write.key, None)
            else:
                flags[write.key] = parse_model(Flag, write.value)
        elif write.collection == "segments":
            if write.value is None:
                segments.pop(write.key, None)
            else:
                segments[write.key] = parse_model(Segment, write.value)
    check_state(flags, segments, before=(view.flags, view.segments))


def document_writes(state: StoreState) -> list[Write]:
    """Validate a whole document (an import or a restore) and return the writes that store it.

    Every flag and segment is parsed and checked on its own, then the whole set goes through
    the same `check_state` as every other write, so an import can never hold what
    `FeatureFlagAdmin.create_flag` would refuse (prerequisite cycles, chains too deep, missing
    references). Settings must be known and well formed.

    Raises:
        InvalidInputError: Naming the first offending field.

    Examples:
        >>> from unified_health.feature_flags._snapshot import state_from_document
        >>> writes = document_writes(state_from_document({"flags": {"a": {"key": "a"}}}))
        >>> [(w.collection, w.key) for w in writes]
        [('flags', 'a')]
    """
    segments: dict[str, Segment] = {}
    for key, raw in state.segments.items():
        segment = _parse_field(Segment, raw, f"segments.{key}")
        if segment.key != key:
            raise InvalidInputError(f"segments.{key}.key", "must equal its map key")
        segments[key] = segment
    flags: dict[str, Flag] = {}
    for key, raw in state.flags.items():
        flag = _parse_field(Flag, raw, f"flags.{key}")
        if flag.key != key:
            raise InvalidInputError(f"flags.{key}.key", "must equal its map key")
        flags[key] = flag
    for name, raw in state.settings.items():
        if name != "kill_switch":
            raise InvalidInputError(f"settings.{name}", "unknown setting")
        if not isinstance(json.loads(raw), bool):
            raise InvalidInputError("settings.kill_switch", "must be a boolean")
    check_state(flags, segments)
    writes = [Write("segments", key, doc(segment)) for key, segment in segments.items()]
    writes.extend(Write("flags", key, doc(flag)) for key, flag in flags.items())
    writes.extend(Write("settings", name, raw) for name, raw in state.settings.items())
    return writes


def _parse_field(model: type[_Document], raw: str, field: str) -> _Document:
    try:
        return parse_model(model, raw)
    except InvalidInputError as exc:
        raise InvalidInputError(f"{field}.{exc.field}", exc.rule) from None


_Document = TypeVar("_Document", Flag, Segment)


class Writer:
    """The read-validate-commit cycle that every `FeatureFlagAdmin` write goes through.

    The admin owns one; it is not part of the public API.

    Examples:
        >>> from unified_health.feature_flags import InMemoryFeatureFlagStore
        >>> Writer(InMemoryFeatureFlagStore()).view().state.version
        0
    """

    def __init__(
        self, store: FeatureFlagStore, *, clock: Clock | None = None, max_attempts: int = 5
    ) -> None:
        given: object = store
        if isinstance(given, str | bytes) or not isinstance(given, FeatureFlagStore):
            raise InvalidInputError(
                "store",
                "must be a FeatureFlagStore; for a Redis URL use FeatureFlagAdmin.from_url(url)",
            )
        attempts: object = max_attempts
        if isinstance(attempts, bool) or not isinstance(attempts, int) or not 1 <= attempts <= 100:
            raise InvalidInputError("max_attempts", "must be an integer from 1 to 100")
        self._store = store
        self._owns_store = False
        self._clock = clock if clock is not None else SystemClock()
        self._max_attempts = max_attempts

    def view(self) -> StoreView:
        """Read and parse the store.

        Returns:
            The parsed view.

        Raises:
            StoreUnavailableError: The store is unreachable or holds no data (not initialised).

        Examples:
            >>> from unified_health.feature_flags import InMemoryFeatureFlagStore
            >>> Writer(InMemoryFeatureFlagStore()).view().flags
            {}
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
                logger.warning("document_rejected", kind="Flag", key=key)
        segments: dict[str, Segment] = {}
        for key, raw in state.segments.items():
            try:
                segments[key] = parse_model(Segment, raw)
            except InvalidInputError:
                logger.warning("document_rejected", kind="Segment", key=key)
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

        Examples:
            >>> from unified_health.feature_flags import InMemoryFeatureFlagStore
            >>> core = Writer(InMemoryFeatureFlagStore())
            >>> core.mutate(lambda view: None, actor="ops", reason="nothing to do") is None
            True
        """
        check_who(actor, reason)
        for _attempt in range(self._max_attempts):
            view = self.view()
            mutation = build(view)
            if mutation is None:
                return None
            check_writes(view, mutation.writes)
            state = view.state
            audit_key = state.audit_key or new_audit_key()
            before, after = redact(mutation.before, audit_key), redact(mutation.after, audit_key)
            if mutation.changes is not None:
                before, after = _audit_changes(mutation.changes, audit_key)
                before.update(mutation.before or {})
                after.update(mutation.after or {})
            record, digest = seal(
                seq=state.audit_length + 1,
                at=self._clock.now(),
                actor=actor,
                reason=reason,
                action=mutation.action,
                target=mutation.target,
                before=before,
                after=after,
                store_version=state.version + 1,
                prev_hash=state.audit_head,
            )
            commit = Commit(
                base_epoch=state.epoch,
                base_version=state.version,
                writes=mutation.writes,
                audit_record=record,
                audit_hash=digest,
                audit_key="" if state.audit_key else audit_key,
            )
            try:
                version = self._store.commit(commit)
            except ConflictError:
                continue
            logger.info(
                "mutation_committed",
                action=mutation.action,
                target=mutation.target,
                version=version,
            )
            return mutation.result
        raise ConflictError(f"the store kept changing; gave up after {self._max_attempts} attempts")

    def delete_document(
        self,
        kind: Literal["flag", "segment"],
        key: str,
        expected_version: int | None,
        check_unused: Callable[[str, StoreView], None],
        *,
        actor: str,
        reason: str,
    ) -> None:
        """Delete a flag or segment (``kind``), idempotently unless a version is expected.

        A document this version cannot read is deleted too; ``check_unused`` refuses to delete
        what live flags still use.
        """
        collection: Literal["flags", "segments"] = "flags" if kind == "flag" else "segments"

        def build(view: StoreView) -> Mutation | None:
            raw = getattr(view.state, collection).get(key)
            if raw is None:
                if expected_version is not None:
                    raise ConflictError(
                        f"{kind} {key!r} does not exist, the write expected version "
                        f"{expected_version}"
                    )
                return None
            current = getattr(view, collection).get(key)
            version = current.version if current is not None else raw_version(raw)
            check_expected(kind, key, version, expected_version)
            check_unused(key, view)
            before = dump(current) if current is not None else raw_digest(raw)
            return Mutation(f"{kind}.delete", key, (Write(collection, key, None),), before, None)

        self.mutate(build, actor=actor, reason=reason)

    def replace_document(
        self,
        kind: Literal["flag", "segment"],
        model: type[_Document],
        key: str,
        change: Callable[[_Document], _Document],
        expected_version: int | None,
        action: str,
        *,
        actor: str,
        reason: str,
        whole: bool,
        check_unused: Callable[[str, StoreView], None],
        check_live: Callable[[_Document, StoreView], None] | None = None,
    ) -> _Document:
        """Replace a flag or segment with ``change`` of its current form, bumping its version.

        A document this version cannot read may only be replaced whole (``whole``). An archived
        result must be unused (``check_unused``); a live one passes ``check_live``.
        """
        collection: Literal["flags", "segments"] = "flags" if kind == "flag" else "segments"

        def build(view: StoreView) -> Mutation:
            raw = getattr(view.state, collection).get(key)
            if raw is None:
                raise NotFoundError(kind, key)
            current: _Document | None = getattr(view, collection).get(key)
            before: dict[str, Any] | None
            if current is None:
                version, created, before = raw_version(raw), None, raw_digest(raw)
            else:
                version, created, before = current.version, current.created_at, dump(current)
            check_expected(kind, key, version, expected_version)
            if current is None and not whole:
                raise ConflictError(
                    f"{kind} {key!r} is stored in a form this version cannot read; replace it "
                    f"in full with update_{kind}, or delete it"
                )
            base = current if current is not None else model(key=key)
            new = parse_model(model, change(base)).model_copy(
                update={
                    "version": version + 1,
                    "created_at": created,
                    "updated_at": self._clock.now(),
                }
            )
            if new.key != key:
                raise InvalidInputError("key", "cannot be changed")
            if new.archived:
                check_unused(key, view)
            elif check_live is not None:
                check_live(new, view)
            writes = (Write(collection, key, doc(new)),)
            return Mutation(action, key, writes, before, dump(new), new)

        result: _Document = self.mutate(build, actor=actor, reason=reason)
        return result

    def now(self) -> datetime:
        """The admin clock's current time.

        Examples:
            >>> from unified_health.feature_flags import InMemoryFeatureFlagStore
            >>> Writer(InMemoryFeatureFlagStore()).now().tzinfo is not None
            True
        """
        return self._clock.now()
