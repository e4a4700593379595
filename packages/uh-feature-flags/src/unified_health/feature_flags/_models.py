"""Pydantic v2 models: flag and segment definitions, evaluation results, change events.

Definitions (`Flag`, `Segment` and their parts) are frozen and reject unknown fields, so data
written by a newer version of this library is refused instead of half-understood. A `Flag` checks
its own consistency when it is built (variants named by rules exist, weights sum to 100 %,
operator values have the right type, regexes are safe); checks that need other flags (prerequisite
cycles, unknown segments) run in the admin API before anything is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    JsonValue,
    ValidationError,
    model_validator,
)

from unified_health.feature_flags._errors import InvalidInputError
from unified_health.feature_flags._validation import (
    check_condition,
    check_flag,
    check_rollout,
    check_segment,
    invalid_input,
)

__all__ = [
    "ClientStatus",
    "Condition",
    "ErrorCode",
    "EvaluationContext",
    "EvaluationResult",
    "Flag",
    "FlagChangeEvent",
    "FlagKind",
    "FrozenModel",
    "Instant",
    "Operator",
    "Prerequisite",
    "Reason",
    "Rollout",
    "Rule",
    "Segment",
    "SegmentRule",
    "SyncMetrics",
    "Target",
    "WeightedVariant",
]

KEY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"
"""Flag, segment, rule and variant keys: 1-128 characters, letters, digits and ``._:-``."""

FlagKind = Literal["boolean", "string", "number", "json"]


class Reason(StrEnum):
    """Why an evaluation produced its value (OpenFeature's vocabulary, plus one of ours).

    Examples:
        >>> Reason.TARGETING_MATCH.value
        'TARGETING_MATCH'
    """

    STATIC = "STATIC"
    TARGETING_MATCH = "TARGETING_MATCH"
    SPLIT = "SPLIT"
    DEFAULT = "DEFAULT"
    DISABLED = "DISABLED"
    STALE = "STALE"
    ERROR = "ERROR"
    UNKNOWN = "UNKNOWN"
    PREREQUISITE_FAILED = "PREREQUISITE_FAILED"


class ErrorCode(StrEnum):
    """What went wrong when an evaluation returned the caller's default (OpenFeature codes).

    Examples:
        >>> ErrorCode.FLAG_NOT_FOUND.value
        'FLAG_NOT_FOUND'
    """

    FLAG_NOT_FOUND = "FLAG_NOT_FOUND"
    TYPE_MISMATCH = "TYPE_MISMATCH"
    PARSE_ERROR = "PARSE_ERROR"
    TARGETING_KEY_MISSING = "TARGETING_KEY_MISSING"
    INVALID_CONTEXT = "INVALID_CONTEXT"
    PROVIDER_NOT_READY = "PROVIDER_NOT_READY"
    GENERAL = "GENERAL"


class ClientStatus(StrEnum):
    """Whether a `FeatureFlagClient` serves flag data, and how fresh it is.

    ``NOT_READY``: no flag data yet (neither the store nor a bootstrap answered). ``READY``: the
    client serves its snapshot and the store answers. ``DISCONNECTED``: the store is out of
    reach (or holds no data); the last snapshot is still served and the client keeps trying.
    ``STALE``: the store has been out of reach for ``stale_after`` seconds; the last snapshot is
    still served and results carry reason ``STALE``.

    Examples:
        >>> ClientStatus.STALE.value
        'STALE'
    """

    NOT_READY = "NOT_READY"
    READY = "READY"
    DISCONNECTED = "DISCONNECTED"
    STALE = "STALE"


class Operator(StrEnum):
    """Operators a `Condition` may use. Values of a condition are OR-ed.

    Examples:
        >>> Operator("ends_with") is Operator.ENDS_WITH
        True
    """

    IN = "in"
    NOT_IN = "not_in"
    STARTS_WITH = "starts_with"
    ENDS_WITH = "ends_with"
    CONTAINS = "contains"
    MATCHES = "matches"
    EXISTS = "exists"
    LT = "lt"
    LTE = "lte"
    GT = "gt"
    GTE = "gte"
    BEFORE = "before"
    AFTER = "after"
    SEMVER_EQ = "semver_eq"
    SEMVER_LT = "semver_lt"
    SEMVER_LTE = "semver_lte"
    SEMVER_GT = "semver_gt"
    SEMVER_GTE = "semver_gte"
    IN_SEGMENT = "in_segment"
    NOT_IN_SEGMENT = "not_in_segment"


def _instant_input(value: Any) -> Any:
    if isinstance(value, datetime | str):
        return value
    raise ValueError("must be a timezone-aware datetime or an ISO-8601 string")


Instant = Annotated[AwareDatetime, Field(strict=False), BeforeValidator(_instant_input)]
"""A timezone-aware instant: a ``datetime`` or an ISO-8601 string with an offset, never a number."""


class FrozenModel(BaseModel):
    """Base of every definition a user builds: frozen, strict, unknown fields refused.

    Strict means no silent coercion: ``"yes"`` is not a bool and ``"25"`` is not a number.
    A broken rule raises `InvalidInputError` naming the field and the rule; pydantic's own error,
    whose text may echo the value, never escapes. Enum fields accept their string values, and
    instants accept ISO-8601 strings (the JSON forms of both).

    Examples:
        >>> try:
        ...     Rollout(percentage="25")
        ... except InvalidInputError as err:
        ...     print(err.field, "|", err.rule)
        percentage | Input should be a valid number
    """

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise invalid_input(exc) from None

    # Tell pydantic this __init__ only wraps BaseModel's: otherwise `model_validate` and
    # `model_validate_json` would call it after validating, validating every document twice.
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]


class Condition(FrozenModel):
    """One test on a context attribute; a rule matches when all its conditions hold.

    A missing attribute never matches (whatever ``negate`` says), except for ``exists``, whose
    negation matches exactly the contexts that lack the attribute. When the attribute holds a
    list, the condition holds if any element matches.

    Examples:
        >>> Condition(attribute="email", operator="ends_with", values=["@clinic.org"]).operator
        <Operator.ENDS_WITH: 'ends_with'>
    """

    attribute: str = Field(default="key", min_length=1, max_length=128)
    operator: Operator = Field(strict=False)
    values: list[JsonValue] = Field(default_factory=list, max_length=10_000)
    context_kind: str = Field(default="user", pattern=KEY_PATTERN)
    negate: bool = False
    case_insensitive: bool = False

    @model_validator(mode="after")
    def _check(self) -> Condition:
        check_condition(self)
        return self


class WeightedVariant(FrozenModel):
    """A variant and its share of a rollout, in percent (up to three decimals).

    Examples:
        >>> WeightedVariant(variant="blue", weight=12.5).weight
        12.5
    """

    variant: str = Field(pattern=KEY_PATTERN)
    weight: float = Field(ge=0, le=100)


class Rollout(FrozenModel):
    """A deterministic split: who is in (``percentage``) and which variant they get (weights).

    ``percentage`` is the coverage: raising it only adds contexts. Among covered contexts the
    variant is chosen by ``variants`` (weights summing to 100); an empty list means the flag's
    ``default_variant``. Coverage and variant use independent hash bits, so changing coverage
    never moves a context between variants. See `unified_health.feature_flags._bucketing`.

    Examples:
        >>> Rollout(percentage=25).percentage
        25.0
    """

    percentage: float = Field(default=100.0, ge=0, le=100)
    variants: list[WeightedVariant] = Field(default_factory=list, max_length=100)
    bucket_by: str = Field(default="key", min_length=1, max_length=128)
    context_kind: str = Field(default="user", pattern=KEY_PATTERN)

    @model_validator(mode="after")
    def _check(self) -> Rollout:
        check_rollout(self)
        return self


class Rule(FrozenModel):
    """Conditions (all must hold) and what to serve: a fixed ``variant`` or a ``rollout``.

    A rule whose rollout does not cover the context is skipped, and the next rule is tried.

    Examples:
        >>> rule = Rule(
        ...     id="clinicians",
        ...     conditions=[Condition(attribute="role", operator="in", values=["clinician"])],
        ...     variant="on",
        ... )
        >>> rule.id
        'clinicians'
    """

    id: str = Field(pattern=KEY_PATTERN)
    conditions: list[Condition] = Field(default_factory=list, max_length=100)
    variant: str | None = Field(default=None, pattern=KEY_PATTERN)
    rollout: Rollout | None = None
    description: str = Field(default="", max_length=1000)

    @model_validator(mode="after")
    def _check(self) -> Rule:
        if (self.variant is None) == (self.rollout is None):
            raise InvalidInputError("variant", "exactly one of variant and rollout must be set")
        return self


class Target(FrozenModel):
    """Individual targeting: contexts whose key is listed get ``variant``.

    Examples:
        >>> Target(variant="on", values=["user-1", "user-2"]).context_kind
        'user'
    """

    variant: str = Field(pattern=KEY_PATTERN)
    values: list[str] = Field(max_length=100_000)
    context_kind: str = Field(default="user", pattern=KEY_PATTERN)


class Prerequisite(FrozenModel):
    """Another flag that must evaluate to one of ``variants`` before this flag is evaluated.

    Examples:
        >>> Prerequisite(key="new-billing").variants
        ['on']
    """

    key: str = Field(pattern=KEY_PATTERN)
    variants: list[str] = Field(default_factory=lambda: ["on"], min_length=1, max_length=100)


def _boolean_variants() -> dict[str, JsonValue]:
    return {"on": True, "off": False}


class Flag(FrozenModel):
    """A feature flag definition.

    Evaluation order: disabled (or global kill switch) serves ``off_variant``; a failed
    prerequisite serves ``off_variant``; individual ``targets``; ``rules`` in order; then the
    fallthrough: ``rollout`` when set (contexts it does not cover get ``off_variant``), else
    ``default_variant``.

    The defaults make a boolean flag: variants ``on`` (True) and ``off`` (False).

    Examples:
        >>> flag = Flag(key="new-checkout", enabled=True, rollout=Rollout(percentage=25))
        >>> (flag.kind, flag.default_variant, flag.off_variant)
        ('boolean', 'on', 'off')
    """

    key: str = Field(pattern=KEY_PATTERN)
    kind: FlagKind = "boolean"
    enabled: bool = False
    variants: dict[str, JsonValue] = Field(
        default_factory=_boolean_variants, min_length=1, max_length=100
    )
    default_variant: str = Field(default="on", pattern=KEY_PATTERN)
    off_variant: str = Field(default="off", pattern=KEY_PATTERN)
    targets: list[Target] = Field(default_factory=list, max_length=100)
    rules: list[Rule] = Field(default_factory=list, max_length=1000)
    rollout: Rollout | None = None
    prerequisites: list[Prerequisite] = Field(default_factory=list, max_length=50)
    salt: str = Field(default="", max_length=128)
    client_side: bool = False
    archived: bool = False
    version: int = Field(default=0, ge=0)
    description: str = Field(default="", max_length=2000)
    owner: str | None = Field(default=None, max_length=200)
    tags: list[str] = Field(default_factory=list, max_length=50)
    temporary: bool = True
    expires_at: Instant | None = None
    created_at: Instant | None = None
    updated_at: Instant | None = None

    @model_validator(mode="after")
    def _check(self) -> Flag:
        check_flag(self)
        return self


class SegmentRule(FrozenModel):
    """Conditions (all must hold) that put a context in a segment.

    Examples:
        >>> SegmentRule(conditions=[Condition(attribute="region", operator="in", values=["eu"])])
        SegmentRule(conditions=[...])
    """

    conditions: list[Condition] = Field(min_length=1, max_length=100)

    def __repr__(self) -> str:
        return "SegmentRule(conditions=[...])"


class Segment(FrozenModel):
    """A reusable audience: explicit includes and excludes by key, then rules.

    Membership: an excluded key is out; an included key is in; otherwise any matching rule puts
    the context in. Segment rules cannot refer to other segments.

    Examples:
        >>> Segment(key="pilot-clinics", context_kind="clinic", included=["c-1"]).included
        ['c-1']
    """

    key: str = Field(pattern=KEY_PATTERN)
    context_kind: str = Field(default="user", pattern=KEY_PATTERN)
    included: list[str] = Field(default_factory=list, max_length=100_000)
    excluded: list[str] = Field(default_factory=list, max_length=100_000)
    rules: list[SegmentRule] = Field(default_factory=list, max_length=1000)
    description: str = Field(default="", max_length=2000)
    archived: bool = False
    version: int = Field(default=0, ge=0)
    created_at: Instant | None = None
    updated_at: Instant | None = None

    @model_validator(mode="after")
    def _check(self) -> Segment:
        check_segment(self)
        return self


class EvaluationContext(FrozenModel):
    """A typed way to build an evaluation context; plain mappings work too.

    The user kind's attributes sit at the top level and its key is ``targeting_key`` (or
    ``user_id``, or ``key``). Other kinds (``clinic``, ``device``, ...) are nested mappings with
    their own ``key``.

    Examples:
        >>> ctx = EvaluationContext(
        ...     targeting_key="user-123",
        ...     attributes={"email": "a@clinic.org"},
        ...     kinds={"clinic": {"key": "c-9", "region": "eu"}},
        ... )
        >>> clinic = ctx.as_mapping()["clinic"]
        >>> clinic["region"]
        'eu'
    """

    targeting_key: str | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)
    kinds: dict[str, dict[str, Any]] = Field(default_factory=dict)

    def as_mapping(self) -> dict[str, Any]:
        """Return the plain mapping the evaluator reads.

        Returns:
            A new dict: attributes, then each kind's mapping, then ``targeting_key``.
        """
        out: dict[str, Any] = dict(self.attributes)
        out.update(self.kinds)
        if self.targeting_key is not None:
            out["targeting_key"] = self.targeting_key
        return out


class EvaluationResult(BaseModel):
    """The outcome of one evaluation: value, variant, reason and, on error, a code.

    Examples:
        >>> result = EvaluationResult(flag_key="f", value=True, variant="on", reason="STATIC")
        >>> (result.value, result.reason, result.error_code)
        (True, <Reason.STATIC: 'STATIC'>, None)
    """

    model_config = ConfigDict(frozen=True)

    flag_key: str
    value: Any
    variant: str | None = None
    reason: Reason
    error_code: ErrorCode | None = None
    error_message: str | None = None
    rule_id: str | None = None
    flag_metadata: Mapping[str, str | int | float | bool] = Field(default_factory=dict)


class SyncMetrics(BaseModel):
    """Counters and timings of a client's synchronisation with its store.

    ``connected`` is false during an outage; ``outages`` and ``recoveries`` count them;
    ``current_outage_seconds`` is how long the present one has lasted (``None`` when connected)
    and ``last_outage_seconds`` how long the last finished one lasted. ``reconnect_attempts``
    counts attempts made while disconnected, at most ``reconnect_max_delay`` apart, which is at
    most half of ``poll_interval``: the bound on how long after the store answers again a change
    is seen.

    Examples:
        >>> from unified_health.feature_flags import FeatureFlagClient
        >>> metrics = FeatureFlagClient(background=False).sync_metrics()
        >>> (metrics.connected, metrics.outages, metrics.poll_interval)
        (True, 0, 5.0)
    """

    model_config = ConfigDict(frozen=True)

    connected: bool
    outages: int
    recoveries: int
    reconnect_attempts: int
    reads: int
    polls: int
    announcements: int
    current_outage_seconds: float | None
    last_outage_seconds: float | None
    seconds_since_contact: float
    poll_interval: float
    reconnect_max_delay: float


class FlagChangeEvent(BaseModel):
    """Sent to listeners after a new snapshot is applied.

    Examples:
        >>> FlagChangeEvent(changed_keys=frozenset({"a"}), version=7).version
        7
    """

    model_config = ConfigDict(frozen=True)

    changed_keys: frozenset[str]
    version: int
