"""Immutable snapshots: parsed, compiled flags that a client swaps in with one assignment.

A snapshot is built off the hot path from a `StoreState` (raw JSON documents). Each document is
parsed on its own, so a corrupt or foreign one yields a ``PARSE_ERROR`` evaluator for that flag
and leaves the others untouched. Unchanged flags reuse the previous snapshot's parsed models and
compiled evaluators.
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

from unified_health.feature_flags._compile import (
    Evaluator,
    compile_flag,
    compile_segment,
    constant,
    error_result,
)
from unified_health.feature_flags._errors import InvalidInputError
from unified_health.feature_flags._logging import logger
from unified_health.feature_flags._models import (
    ErrorCode,
    EvaluationResult,
    Flag,
    Reason,
    Segment,
)
from unified_health.feature_flags._operators import SEGMENT_OPERATORS, Matcher
from unified_health.feature_flags._validation import (
    MAX_PREREQUISITE_DEPTH,
    parse_model,
    prerequisite_depth,
)
from unified_health.feature_flags.stores._protocol import StoreState

__all__ = [
    "Snapshot",
    "build_snapshot",
    "changed_keys",
    "empty_snapshot",
    "error_for",
    "export_state",
    "stale_twin",
    "state_from_document",
]


_MAX_CACHED = 10_000
_ERROR_MESSAGES = {
    ErrorCode.FLAG_NOT_FOUND: "flag not found",
    ErrorCode.PROVIDER_NOT_READY: "no flag data yet",
    ErrorCode.INVALID_CONTEXT: "context is not a mapping",
    ErrorCode.TYPE_MISMATCH: "value type differs",
    ErrorCode.GENERAL: "evaluation failed",
}
StaleKey = tuple[str, str | None, Reason, str | None]


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One consistent, compiled view of every flag.

    ``stale`` and ``errors`` cache results built on demand (the ``STALE`` twin of a result, the
    error result of a flag and code), so serving them costs a dictionary lookup.

    Examples:
        >>> empty_snapshot().source
        'empty'
    """

    version: int
    epoch: str
    source: str
    state: StoreState
    evaluators: Mapping[str, Evaluator]
    everything: tuple[tuple[str, Evaluator], ...]
    client_side: tuple[tuple[str, Evaluator], ...]
    flags: Mapping[str, Flag]
    segments: Mapping[str, Segment]
    fingerprints: Mapping[str, Hashable]
    parsed: Mapping[str, Any]
    kill_switch: bool
    stale: dict[StaleKey, EvaluationResult] = field(default_factory=dict)
    errors: dict[tuple[str, ErrorCode], EvaluationResult] = field(default_factory=dict)


def empty_snapshot() -> Snapshot:
    """Return the snapshot of a client that has no data yet.

    Examples:
        >>> empty_snapshot().evaluators
        {}
    """
    state = StoreState(version=0, epoch="")
    return Snapshot(0, "", "empty", state, {}, (), (), {}, {}, {}, {}, kill_switch=False)


def stale_twin(snapshot: Snapshot, result: EvaluationResult) -> EvaluationResult:
    """Return ``result`` with reason ``STALE``, built once per distinct outcome of a snapshot.

    Args:
        snapshot: The snapshot that produced ``result``.
        result: A successful result.

    Returns:
        The same outcome, reason ``STALE``.

    Examples:
        >>> done = EvaluationResult(flag_key="f", value=True, variant="on", reason="STATIC")
        >>> stale_twin(empty_snapshot(), done).reason
        <Reason.STALE: 'STALE'>
    """
    key = (result.flag_key, result.variant, result.reason, result.rule_id)
    found = snapshot.stale.get(key)
    if found is None:
        found = result.model_copy(update={"reason": Reason.STALE})
        if len(snapshot.stale) < _MAX_CACHED:
            snapshot.stale[key] = found
    return found


def error_for(snapshot: Snapshot, key: str, code: ErrorCode) -> EvaluationResult:
    """Return the error result of flag ``key`` for ``code``, built once per snapshot.

    Args:
        snapshot: The snapshot being served.
        key: The flag key.
        code: The error code.

    Returns:
        A result with reason ``ERROR`` and ``value=None``.

    Examples:
        >>> error_for(empty_snapshot(), "f", ErrorCode.FLAG_NOT_FOUND).error_message
        'flag not found'
    """
    found = snapshot.errors.get((key, code))
    if found is None:
        found = error_result(key, code, _ERROR_MESSAGES.get(code, code.value.lower()))
        if len(snapshot.errors) < _MAX_CACHED:
            snapshot.errors[(key, code)] = found
    return found


def _parse(
    kind: type[Flag] | type[Segment], key: str, raw: str, cache: Mapping[str, Any]
) -> Flag | Segment | None:
    found = cache.get(raw)
    if isinstance(found, kind):
        return found
    try:
        model = parse_model(kind, raw)
    except InvalidInputError as exc:
        logger.warning("document_rejected", kind=kind.__name__, key=key, field=exc.field)
        return None
    if model.key != key:
        logger.warning("document_rejected", kind=kind.__name__, key=key, field="key")
        return None
    return model


def _kill_switch(settings: Mapping[str, str]) -> bool:
    raw = settings.get("kill_switch")
    if raw is None:
        return False
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    if not isinstance(value, bool):
        logger.warning("setting_rejected", setting="kill_switch")
        return False
    return value


def _references(flag: Flag) -> tuple[str, ...]:
    keys = [
        str(v)
        for rule_ in flag.rules
        for c in rule_.conditions
        if c.operator.value in SEGMENT_OPERATORS
        for v in c.values
    ]
    return tuple(sorted(set(keys)))


def build_snapshot(state: StoreState, *, source: str, previous: Snapshot | None) -> Snapshot:
    """Parse and compile ``state`` into a snapshot, reusing what did not change.

    Args:
        state: Raw documents read atomically from a store (or a bootstrap document).
        source: ``"store"`` or ``"bootstrap"``, for diagnostics.
        previous: The snapshot being replaced, whose work may be reused.

    Returns:
        The new snapshot.

    Examples:
        >>> state = state_from_document('{"flags": {"f": {"key": "f", "enabled": true}}}')
        >>> sorted(build_snapshot(state, source="bootstrap", previous=None).evaluators)
        ['f']
    """
    cache = previous.parsed if previous is not None else {}
    parsed: dict[str, Any] = {}
    segments: dict[str, Segment] = {}
    broken_segments: set[str] = set()
    for key, raw in state.segments.items():
        segment = _parse(Segment, key, raw, cache)
        if isinstance(segment, Segment):
            parsed[raw] = segment
            if not segment.archived:
                segments[key] = segment
        else:
            broken_segments.add(key)
    flags: dict[str, Flag] = {}
    broken_flags: set[str] = set()
    for key, raw in state.flags.items():
        flag = _parse(Flag, key, raw, cache)
        if isinstance(flag, Flag):
            parsed[raw] = flag
            flags[key] = flag
        else:
            broken_flags.add(key)
    kill = _kill_switch(state.settings)
    live = {key: flag for key, flag in flags.items() if not flag.archived}
    matchers: dict[str, Matcher] = {key: compile_segment(s) for key, s in segments.items()}
    graph = {key: [p.key for p in flag.prerequisites] for key, flag in live.items()}
    depths = {key: prerequisite_depth(key, graph) for key in live}
    evaluators: dict[str, Evaluator] = {}
    fingerprints: dict[str, Hashable] = {}
    old_evaluators = previous.evaluators if previous is not None else {}
    old_fingerprints = previous.fingerprints if previous is not None else {}
    for key in broken_flags:
        evaluators[key] = constant(
            error_result(key, ErrorCode.PARSE_ERROR, "the flag definition could not be parsed")
        )
        fingerprints[key] = ("broken", state.flags[key])
    order = sorted(live, key=lambda k: (depths[k] is None, depths[k] or 0))
    for key in order:
        flag = live[key]
        depth = depths[key]
        raw = state.flags[key]
        if depth is None or depth > MAX_PREREQUISITE_DEPTH:
            message = "prerequisites form a cycle" if depth is None else "prerequisites too deep"
            evaluators[key] = constant(error_result(key, ErrorCode.GENERAL, message))
            fingerprints[key] = ("error", raw)
            continue
        refs = _references(flag)
        if broken_segments.intersection(refs):
            evaluators[key] = constant(
                error_result(key, ErrorCode.PARSE_ERROR, "a segment it uses could not be parsed")
            )
            fingerprints[key] = ("broken-segment", raw)
            continue
        fingerprint = (
            raw,
            tuple(state.segments.get(ref) for ref in refs),
            tuple(fingerprints.get(p.key) for p in flag.prerequisites),
            kill,
        )
        fingerprints[key] = fingerprint
        reused = old_evaluators.get(key)
        if reused is not None and old_fingerprints.get(key) == fingerprint:
            evaluators[key] = reused
            continue
        evaluators[key] = compile_flag(
            flag, prerequisites=evaluators, segments=matchers, kill_switch=kill
        )
    everything = tuple(sorted(evaluators.items()))
    client_side = tuple(
        item for item in everything if item[0] in live and live[item[0]].client_side
    )
    return Snapshot(
        version=state.version,
        epoch=state.epoch,
        source=source,
        state=state,
        evaluators=evaluators,
        everything=everything,
        client_side=client_side,
        flags=flags,
        segments=segments,
        fingerprints=fingerprints,
        parsed=parsed,
        kill_switch=kill,
    )


def changed_keys(old: Snapshot, new: Snapshot) -> frozenset[str]:
    """Return the flags whose evaluation may differ between two snapshots.

    A flag counts as changed when its document, a segment it uses, a prerequisite or the kill
    switch changed, or when it appeared or disappeared.

    Args:
        old: The snapshot replaced.
        new: The snapshot applied.

    Returns:
        The changed flag keys.

    Examples:
        >>> state = state_from_document('{"flags": {"f": {"key": "f"}}}')
        >>> changed_keys(empty_snapshot(), build_snapshot(state, source="s", previous=None))
        frozenset({'f'})
    """
    keys = set(old.fingerprints) | set(new.fingerprints)
    return frozenset(k for k in keys if old.fingerprints.get(k) != new.fingerprints.get(k))


def export_state(state: StoreState) -> str:
    """Serialise a state as a bootstrap document (JSON) that `state_from_document` reads.

    Args:
        state: The state to export.

    Returns:
        A JSON document with ``version``, ``flags``, ``segments`` and ``settings``.

    Examples:
        >>> export_state(StoreState(version=3, epoch="e"))[:32]
        '{"flags":{},"format":"uh-feature'
    """
    document = {
        "format": "uh-feature-flags/v1",
        "version": state.version,
        "flags": {k: json.loads(v) for k, v in sorted(state.flags.items()) if _is_json(v)},
        "segments": {k: json.loads(v) for k, v in sorted(state.segments.items()) if _is_json(v)},
        "settings": {k: json.loads(v) for k, v in sorted(state.settings.items()) if _is_json(v)},
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"))


def _is_json(raw: str) -> bool:
    try:
        json.loads(raw)
    except ValueError:
        return False
    return True


def state_from_document(document: str | bytes | Mapping[str, Any]) -> StoreState:
    """Read a bootstrap document (as written by `export_state`) into a `StoreState`.

    Args:
        document: JSON text or an already-parsed mapping.

    Returns:
        The state, with epoch ``"bootstrap"``.

    Raises:
        InvalidInputError: When the document is not a bootstrap document.

    Examples:
        >>> state_from_document('{"version": 2}').version
        2
    """
    try:
        data = json.loads(document) if isinstance(document, str | bytes) else document
    except ValueError as exc:
        raise InvalidInputError("bootstrap", "must be a JSON document") from exc
    if not isinstance(data, Mapping):
        raise InvalidInputError("bootstrap", "must be a JSON object")
    sections: dict[str, dict[str, str]] = {}
    for name in ("flags", "segments", "settings"):
        section = data.get(name, {})
        if not isinstance(section, Mapping):
            raise InvalidInputError(f"bootstrap.{name}", "must be an object")
        sections[name] = {str(k): json.dumps(v) for k, v in section.items()}
    version = data.get("version", 0)
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise InvalidInputError("bootstrap.version", "must be a non-negative integer")
    return StoreState(
        version=version,
        epoch="bootstrap",
        flags=sections["flags"],
        segments=sections["segments"],
        settings=sections["settings"],
    )
