"""`AnalyticsClient`: product analytics that cannot leak patient data, block, or lose events.

`track()` (and `identify`, `alias`, `group`) run on the caller's thread and do no I/O: they
validate, apply the schema, sanitise, check consent when that needs no I/O, and put the event on
one bounded queue per provider. They never raise (``strict=True`` raises input errors, for
tests). Everything else (consent re-check, pseudonymisation, batching, HTTP, retries) happens on
one sender thread per provider; see `unified_health.analytics._delivery`.
"""

from __future__ import annotations

import os
import random
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from unified_health.analytics import _lifecycle
from unified_health.analytics._builder import Call, EventBuilder, Limits, ScrubInto
from unified_health.analytics._clock import Clock, SystemClock
from unified_health.analytics._config import HMAC_KEYS, REDIS_URL, providers_from_env
from unified_health.analytics._consent import ConsentGate
from unified_health.analytics._delivery import ErrorCallback, Lane
from unified_health.analytics._errors import InvalidInputError
from unified_health.analytics._identity import (
    HmacPseudonymizer,
    Pseudonymizer,
    SurrogatePseudonymizer,
)
from unified_health.analytics._logging import DropLog, logger
from unified_health.analytics._metrics import Metrics
from unified_health.analytics._models import (
    ConsentCategory,
    DropReason,
    Event,
    EventKind,
    MetricsSnapshot,
    ProviderStatus,
    ShutdownReport,
)
from unified_health.analytics._options import ClientOptions
from unified_health.analytics._outbound import to_outbound
from unified_health.analytics._purger import SpillPurger
from unified_health.analytics._queue import DropPolicy
from unified_health.analytics._sanitize import Sanitizer
from unified_health.analytics._schema import SchemaRegistry
from unified_health.analytics._validation import NameRules, drop_reason_of, nonempty_str
from unified_health.analytics.providers._base import OutboundEvent, Provider
from unified_health.analytics.stores._memory import InMemoryConsentStore
from unified_health.analytics.stores._protocol import (
    ConsentStore,
    ForkAware,
    JournalingSpillStore,
    RedisClientProtocol,
    SpillStore,
)
from unified_health.analytics.stores._redis import (
    DEFAULT_PREFIX,
    RedisConsentStore,
    RedisSpillStore,
    RedisSurrogateIdStore,
    new_redis_client,
)

__all__ = ["AnalyticsClient"]


_BUILTIN_CATEGORIES = frozenset(c.value for c in ConsentCategory)


class AnalyticsClient:
    """Send sanitised, consented, pseudonymised events to analytics vendors.

    Args:
        providers: Destinations (`MixpanelProvider`, `AmplitudeProvider`, `PostHogProvider`, ...),
            each with the consent categories it may receive. Names must be unique.
        default_consent: Categories of users without a consent record (``essential`` is always
            granted).
        consent_store: Per-user consent records; in-memory by default.
        consent_categories: Categories beyond essential/analytics/marketing.
        pseudonymizer: Outbound ids; default: `HmacPseudonymizer.from_env()` when
            ``UH_ANALYTICS_HMAC_KEYS`` is set, else random surrogates kept in memory.
        sanitizer: The PII/PHI sanitiser; a default `Sanitizer()` otherwise.
        schemas: Allow-list pydantic models by event name.
        require_schemas: Drop events that have no schema.
        event_categories: Consent category by event name.
        default_category: Category of events not listed in ``event_categories``.
        super_properties: Properties added to every event.
        max_queue_events: Bound of each provider's queue, in events.
        max_queue_bytes: Bound of each provider's queue, in bytes of JSON.
        drop_policy: ``"drop_newest"`` or ``"drop_oldest"`` when a queue is full.
        flush_interval: Seconds an event may wait for its batch to fill.
        max_in_flight: Requests each provider may have waiting on its vendor at once (while
            the next batch is prepared); each has its own retries.
        shutdown_timeout: Default deadline of `shutdown()` (and of the exit hook).
        spill_store: Durable overflow (`RedisSpillStore`) for at-least-once delivery across
            restarts: events that cannot be delivered, and events a full queue has no room
            for, are written there and replayed as soon as the vendor answers again.
        retry_budget: Without a spill store, seconds a batch that used up its provider's
            ``max_retries`` may keep retrying while its queue has room (then it is dropped as
            ``retries_exhausted``). With a spill store such a batch is spilled instead.
        on_error: Called (on a delivery thread) with a `ProviderError` (`RateLimitedError` for
            429) for every failed delivery attempt; it carries the cause, never a payload.
            Exceptions it raises are logged by class and ignored.
        durable: Write every accepted event to the spill store's journal within about 0.1 s
            (needs a `JournalingSpillStore` such as `RedisSpillStore`), so a process killed
            outright (SIGKILL, OOM) loses at most that window: another process adopts its
            journal once its lease (`RedisSpillStore` ``lease_ttl``) runs out and delivers it.
        max_properties: Properties per event; extras are removed and counted. Must leave room
            for the properties each provider adds (`ProviderLimits.own_properties_per_event`:
            248 for `MixpanelProvider`).
        max_string_length: Characters per string value; longer ones are cut and counted.
        max_event_bytes: JSON bytes of one event's properties; bigger events are dropped.
        strict: Raise `InvalidInputError` for bad input instead of counting it (tests).
        debug: Log event names and counts (never values) as events pass.
        seed: Seed for insert ids and anonymous ids (tests).
        clock: The `Clock` for event timestamps, delivery deadlines and the sanitiser's
            notion of the current year; `SystemClock` by default (tests pass a `FakeClock`).
        register_atexit: Drain the queues when the interpreter exits.

    Raises:
        InvalidInputError: No provider, duplicate provider names, an unknown category, a
            bad bound, or a ``max_properties`` above a provider's per-event property limit.

    Examples:
        >>> from unified_health.analytics.testing import RecordingProvider
        >>> with AnalyticsClient([RecordingProvider()], default_consent="analytics") as client:
        ...     client.track("appointment_booked", {"specialty": "cardiology"}, user_id="user-1")
        True
    """

    def __init__(
        self,
        providers: Sequence[Provider],
        *,
        default_consent: str | Iterable[str] = "essential",
        consent_store: ConsentStore | None = None,
        consent_categories: Iterable[str] = (),
        pseudonymizer: Pseudonymizer | None = None,
        sanitizer: Sanitizer | None = None,
        schemas: Mapping[str, type[BaseModel]] | None = None,
        require_schemas: bool = False,
        event_categories: Mapping[str, str] | None = None,
        default_category: str = "analytics",
        super_properties: Mapping[str, Any] | None = None,
        max_queue_events: int = 10_000,
        max_queue_bytes: int = 16 * 1024 * 1024,
        drop_policy: DropPolicy = "drop_newest",
        flush_interval: float = 0.5,
        max_in_flight: int = 2,
        shutdown_timeout: float = 5.0,
        spill_store: SpillStore | None = None,
        retry_budget: float = 600.0,
        on_error: ErrorCallback | None = None,
        durable: bool = False,
        max_properties: int = 200,
        max_string_length: int = 1024,
        max_event_bytes: int = 32 * 1024,
        strict: bool = False,
        debug: bool = False,
        seed: int | None = None,
        clock: Clock | None = None,
        register_atexit: bool = True,
    ) -> None:
        if isinstance(providers, Provider) or not isinstance(providers, Sequence):
            raise InvalidInputError("providers", "must be a list of providers, e.g. [provider]")
        if not providers:
            raise InvalidInputError("providers", "must name at least one provider")
        for index, provider in enumerate(providers):
            if not isinstance(provider, Provider):
                raise InvalidInputError(f"providers[{index}]", "must be a Provider")
        names = [p.name for p in providers]
        if len(set(names)) != len(names):
            raise InvalidInputError("providers", "provider names must be unique")
        options = ClientOptions.of(
            require_schemas=require_schemas,
            default_category=default_category,
            max_queue_events=max_queue_events,
            max_queue_bytes=max_queue_bytes,
            drop_policy=drop_policy,
            flush_interval=flush_interval,
            max_in_flight=max_in_flight,
            shutdown_timeout=shutdown_timeout,
            retry_budget=retry_budget,
            durable=durable,
            max_properties=max_properties,
            max_string_length=max_string_length,
            max_event_bytes=max_event_bytes,
            strict=strict,
            debug=debug,
            seed=seed,
            register_atexit=register_atexit,
        )
        self._options = options
        for provider in providers:
            own = provider.limits.own_properties_per_event
            if own is not None and options.max_properties > own:
                raise InvalidInputError(
                    "max_properties",
                    f"must be at most {own} for provider {provider.name!r} (its vendor takes "
                    f"{provider.limits.max_properties_per_event} properties per event, "
                    f"{provider.limits.added_properties} of them added by the provider)",
                )
        if on_error is not None and not callable(on_error):
            raise InvalidInputError("on_error", "must be callable")
        if durable and not isinstance(spill_store, JournalingSpillStore):
            raise InvalidInputError(
                "durable", "needs a spill_store that keeps a journal, such as RedisSpillStore"
            )
        if clock is not None and not isinstance(clock, Clock):
            raise InvalidInputError("clock", "must be a Clock (now() and monotonic())")
        self._clock: Clock = clock if clock is not None else SystemClock()
        known = _BUILTIN_CATEGORIES | frozenset(consent_categories)
        self._gate = ConsentGate(consent_store or InMemoryConsentStore(), default_consent, known)
        for index, provider in enumerate(providers):
            self._gate.check(f"providers[{index}].categories", provider.categories)
        default_category_ = next(
            iter(self._gate.check("default_category", options.default_category))
        )
        event_categories_ = dict(event_categories or {})
        for name, category in event_categories_.items():
            self._gate.check(f"event_categories.{name}", category)
        self._pseudonymizer = pseudonymizer or _default_pseudonymizer()
        self._sanitizer = sanitizer if sanitizer is not None else Sanitizer(clock=self._clock)
        self._schemas = SchemaRegistry(schemas)
        self._strict = options.strict
        self._debug = options.debug
        self._shutdown_timeout = options.shutdown_timeout
        self._metrics = Metrics()
        self._drops = DropLog(self._clock)
        self._spill_store = spill_store
        scrub_into: ScrubInto = (
            getattr(self._sanitizer, "scrub_into", None) or self._scrub_via_result
        )
        self._builder = EventBuilder(
            gate=self._gate,
            names=NameRules(self._sanitizer),
            schemas=self._schemas,
            scrub_into=scrub_into,
            metrics=self._metrics,
            clock=self._clock,
            limits=Limits(
                options.max_properties, options.max_string_length, options.max_event_bytes
            ),
            default_category=default_category_,
            served=lambda category: bool(self._lanes_for[category]),
            event_categories=event_categories_,
            require_schemas=options.require_schemas,
            strict=options.strict,
            rng=random.Random(seed) if seed is not None else None,  # noqa: S311 - test ids
        )
        self._purger = (
            SpillPurger(
                spill_store,
                [p.name for p in providers],
                gate=self._gate,
                metrics=self._metrics,
                pseudonymizer=self._pseudonymizer,
            )
            if spill_store is not None
            else None
        )
        self._closed = False
        self._lock = threading.Lock()
        self._owned_redis: RedisClientProtocol | None = None  # made by from_url, closed here
        self._lanes = [
            Lane(
                provider,
                gate=self._gate,
                to_outbound=self._outbound,
                metrics=self._metrics,
                max_events=options.max_queue_events,
                max_bytes=options.max_queue_bytes,
                policy=options.drop_policy,
                flush_interval=options.flush_interval,
                spill=spill_store,
                debug=options.debug,
                max_in_flight=options.max_in_flight,
                clock=self._clock,
                retry_budget=options.retry_budget,
                on_error=on_error,
                durable=options.durable,
            )
            for provider in providers
        ]
        self._lanes_for = {
            cat: tuple(lane for lane in self._lanes if cat in lane.provider.categories)
            for cat in self._gate.known
        }
        self._metrics.set_queue_probe(lambda: {lane.name: lane.depth() for lane in self._lanes})
        if super_properties:
            self.register_super_properties(super_properties)
        self._pid = os.getpid()
        for lane in self._lanes:
            lane.start()
        self._atexit = options.register_atexit
        _lifecycle.register(self)
        logger.info("client_started", providers=names)

    # -- construction --------------------------------------------------------------------------
    @classmethod
    def from_url(
        cls,
        url: str,
        providers: Sequence[Provider],
        *,
        prefix: str = DEFAULT_PREFIX,
        socket_timeout: float = 2.0,
        socket_connect_timeout: float = 1.0,
        default_consent: str | Iterable[str] = "essential",
        consent_categories: Iterable[str] = (),
        pseudonymizer: Pseudonymizer | None = None,
        sanitizer: Sanitizer | None = None,
        schemas: Mapping[str, type[BaseModel]] | None = None,
        require_schemas: bool = False,
        event_categories: Mapping[str, str] | None = None,
        default_category: str = "analytics",
        super_properties: Mapping[str, Any] | None = None,
        max_queue_events: int = 10_000,
        max_queue_bytes: int = 16 * 1024 * 1024,
        drop_policy: DropPolicy = "drop_newest",
        flush_interval: float = 0.5,
        max_in_flight: int = 2,
        shutdown_timeout: float = 5.0,
        retry_budget: float = 600.0,
        on_error: ErrorCallback | None = None,
        durable: bool = False,
        max_properties: int = 200,
        max_string_length: int = 1024,
        max_event_bytes: int = 32 * 1024,
        strict: bool = False,
        debug: bool = False,
        seed: int | None = None,
        clock: Clock | None = None,
        register_atexit: bool = True,
    ) -> AnalyticsClient:
        """Create a client whose consent, surrogate ids and spill live in the Redis at ``url``.

        One Redis client is made for the `RedisConsentStore`, the `RedisSpillStore` and (unless
        a ``pseudonymizer`` is given) the `RedisSurrogateIdStore` of a `SurrogatePseudonymizer`,
        so every process sharing the Redis agrees on consent and outbound ids, and undelivered
        events survive a restart. The client owns that Redis client and closes it in
        `shutdown`. No connection is made here; the sender threads connect to replay the spill.

        Args:
            url: A Redis URL, e.g. ``redis://127.0.0.1:6379/0``.
            providers: Destinations, as for the constructor.
            prefix: Key prefix of the stores; wrapped in a hash tag unless it holds one.
            socket_timeout: Seconds a Redis call may take.
            socket_connect_timeout: Seconds a connection attempt may take.
            default_consent: As for the constructor; so are the other keyword arguments.
            consent_categories: Categories beyond essential/analytics/marketing.
            pseudonymizer: Outbound ids; surrogates kept in the Redis by default.
            sanitizer: The PII/PHI sanitiser.
            schemas: Allow-list pydantic models by event name.
            require_schemas: Drop events that have no schema.
            event_categories: Consent category by event name.
            default_category: Category of events not listed in ``event_categories``.
            super_properties: Properties added to every event.
            max_queue_events: Bound of each provider's queue, in events.
            max_queue_bytes: Bound of each provider's queue, in bytes of JSON.
            drop_policy: ``"drop_newest"`` or ``"drop_oldest"`` when a queue is full.
            flush_interval: Seconds an event may wait for its batch to fill.
            max_in_flight: Requests each provider may have waiting on its vendor at once.
            shutdown_timeout: Default deadline of `shutdown()`.
            retry_budget: Seconds a failing batch may keep retrying without a spill store.
            on_error: Called with a `ProviderError` for each failed delivery attempt.
            durable: Journal accepted events in the Redis spill store (see the constructor).
            max_properties: Properties per event.
            max_string_length: Characters per string value.
            max_event_bytes: JSON bytes of one event's properties.
            strict: Raise `InvalidInputError` for bad input instead of counting it (tests).
            debug: Log event names and counts (never values) as events pass.
            seed: Seed for insert ids and anonymous ids (tests).
            clock: The `Clock`; `SystemClock` by default.
            register_atexit: Drain the queues when the interpreter exits.

        Returns:
            The client.

        Raises:
            InvalidInputError: The URL, the prefix, a timeout or a client option is invalid.

        Examples:
            >>> from unified_health.analytics.testing import RecordingProvider
            >>> client = AnalyticsClient.from_url(
            ...     "redis://127.0.0.1:6379/0", [RecordingProvider()], register_atexit=False
            ... )
            >>> client.shutdown(timeout=1).lost
            0
        """
        redis_client = new_redis_client(url, socket_timeout, socket_connect_timeout)
        try:
            consent_store = RedisConsentStore(redis_client, prefix=prefix)
            spill_store = RedisSpillStore(redis_client, prefix=prefix)
            if pseudonymizer is None:
                surrogates = RedisSurrogateIdStore(redis_client, prefix=prefix)
                pseudonymizer = SurrogatePseudonymizer(surrogates)
            client = cls(
                providers,
                consent_store=consent_store,
                spill_store=spill_store,
                pseudonymizer=pseudonymizer,
                default_consent=default_consent,
                consent_categories=consent_categories,
                sanitizer=sanitizer,
                schemas=schemas,
                require_schemas=require_schemas,
                event_categories=event_categories,
                default_category=default_category,
                super_properties=super_properties,
                max_queue_events=max_queue_events,
                max_queue_bytes=max_queue_bytes,
                drop_policy=drop_policy,
                flush_interval=flush_interval,
                max_in_flight=max_in_flight,
                shutdown_timeout=shutdown_timeout,
                retry_budget=retry_budget,
                on_error=on_error,
                durable=durable,
                max_properties=max_properties,
                max_string_length=max_string_length,
                max_event_bytes=max_event_bytes,
                strict=strict,
                debug=debug,
                seed=seed,
                clock=clock,
                register_atexit=register_atexit,
            )
        except BaseException:
            redis_client.close()
            raise
        client._owned_redis = redis_client
        return client

    @classmethod
    def from_env(
        cls,
        *,
        environ: Mapping[str, str] | None = None,
        providers: Sequence[Provider] = (),
        prefix: str = DEFAULT_PREFIX,
        socket_timeout: float = 2.0,
        socket_connect_timeout: float = 1.0,
        sleep: Callable[[float], None] | None = None,
        default_consent: str | Iterable[str] = "essential",
        consent_categories: Iterable[str] = (),
        pseudonymizer: Pseudonymizer | None = None,
        sanitizer: Sanitizer | None = None,
        schemas: Mapping[str, type[BaseModel]] | None = None,
        require_schemas: bool = False,
        event_categories: Mapping[str, str] | None = None,
        default_category: str = "analytics",
        super_properties: Mapping[str, Any] | None = None,
        max_queue_events: int = 10_000,
        max_queue_bytes: int = 16 * 1024 * 1024,
        drop_policy: DropPolicy = "drop_newest",
        flush_interval: float = 0.5,
        max_in_flight: int = 2,
        shutdown_timeout: float = 5.0,
        retry_budget: float = 600.0,
        on_error: ErrorCallback | None = None,
        durable: bool = False,
        max_properties: int = 200,
        max_string_length: int = 1024,
        max_event_bytes: int = 32 * 1024,
        strict: bool = False,
        debug: bool = False,
        seed: int | None = None,
        clock: Clock | None = None,
        register_atexit: bool = True,
    ) -> AnalyticsClient:
        """Create a client configured by ``UH_ANALYTICS_*`` environment variables.

        Reads ``UH_ANALYTICS_REDIS_URL`` (optional: with it the client is built by `from_url`,
        without it the stores are in memory), ``UH_ANALYTICS_HMAC_KEYS`` (optional: the
        `HmacPseudonymizer` keys, ``id:secret[,id:secret...]``) and the providers' credentials:
        ``UH_ANALYTICS_POSTHOG_API_KEY``, ``UH_ANALYTICS_AMPLITUDE_API_KEY``,
        ``UH_ANALYTICS_MIXPANEL_PROJECT_ID`` with ``UH_ANALYTICS_MIXPANEL_SECRET`` (and optionally
        ``UH_ANALYTICS_MIXPANEL_SERVICE_ACCOUNT`` and ``UH_ANALYTICS_MIXPANEL_TOKEN``), each with
        optional ``..._REGION`` and ``..._BASE_URL``. Setting any variable of a vendor enables
        it. Values are never echoed in errors.

        Args:
            environ: Where to read the variables; `os.environ` by default.
            providers: Destinations added to those the variables configure.
            prefix: Key prefix of the Redis stores.
            socket_timeout: Seconds a Redis call may take.
            socket_connect_timeout: Seconds a Redis connection attempt may take.
            sleep: Injected sleep for the providers' backoff (tests pass `FakeClock.sleep`).
            default_consent: As for the constructor; so are the other keyword arguments.
            consent_categories: Categories beyond essential/analytics/marketing.
            pseudonymizer: Outbound ids; by default the HMAC keys when set, else surrogates
                (kept in the Redis when there is one).
            sanitizer: The PII/PHI sanitiser.
            schemas: Allow-list pydantic models by event name.
            require_schemas: Drop events that have no schema.
            event_categories: Consent category by event name.
            default_category: Category of events not listed in ``event_categories``.
            super_properties: Properties added to every event.
            max_queue_events: Bound of each provider's queue, in events.
            max_queue_bytes: Bound of each provider's queue, in bytes of JSON.
            drop_policy: ``"drop_newest"`` or ``"drop_oldest"`` when a queue is full.
            flush_interval: Seconds an event may wait for its batch to fill.
            max_in_flight: Requests each provider may have waiting on its vendor at once.
            shutdown_timeout: Default deadline of `shutdown()`.
            retry_budget: Seconds a failing batch may keep retrying without a spill store.
            on_error: Called with a `ProviderError` for each failed delivery attempt.
            durable: Journal accepted events in the Redis spill store (see the constructor).
            max_properties: Properties per event.
            max_string_length: Characters per string value.
            max_event_bytes: JSON bytes of one event's properties.
            strict: Raise `InvalidInputError` for bad input instead of counting it (tests).
            debug: Log event names and counts (never values) as events pass.
            seed: Seed for insert ids and anonymous ids (tests).
            clock: The `Clock`; `SystemClock` by default.
            register_atexit: Drain the queues when the interpreter exits.

        Returns:
            The client.

        Raises:
            InvalidInputError: No provider is configured (field ``providers``), or a variable is
                missing or malformed (the field is the variable's name).

        Examples:
            >>> env = {
            ...     "UH_ANALYTICS_POSTHOG_API_KEY": "phc_example",
            ...     "UH_ANALYTICS_HMAC_KEYS": "k1:0123456789abcdef0123",
            ... }
            >>> client = AnalyticsClient.from_env(environ=env, register_atexit=False)
            >>> sorted(client.get_consent("user-1"))
            ['essential']
            >>> client.shutdown(timeout=1).lost
            0
        """
        env: Mapping[str, str] = os.environ if environ is None else environ
        the_clock: Clock = clock if clock is not None else SystemClock()
        found = [*providers, *providers_from_env(env, sleep=sleep, clock=the_clock)]
        if not found:
            raise InvalidInputError(
                "providers",
                "set UH_ANALYTICS_POSTHOG_API_KEY, UH_ANALYTICS_AMPLITUDE_API_KEY or "
                "UH_ANALYTICS_MIXPANEL_PROJECT_ID and _SECRET, or pass providers=",
            )
        if pseudonymizer is None and env.get(HMAC_KEYS, "").strip():
            pseudonymizer = HmacPseudonymizer.from_env(HMAC_KEYS, environ=env)
        url = env.get(REDIS_URL, "").strip()
        if url:
            try:
                return cls.from_url(
                    url,
                    found,
                    prefix=prefix,
                    socket_timeout=socket_timeout,
                    socket_connect_timeout=socket_connect_timeout,
                    pseudonymizer=pseudonymizer,
                    default_consent=default_consent,
                    consent_categories=consent_categories,
                    sanitizer=sanitizer,
                    schemas=schemas,
                    require_schemas=require_schemas,
                    event_categories=event_categories,
                    default_category=default_category,
                    super_properties=super_properties,
                    max_queue_events=max_queue_events,
                    max_queue_bytes=max_queue_bytes,
                    drop_policy=drop_policy,
                    flush_interval=flush_interval,
                    max_in_flight=max_in_flight,
                    shutdown_timeout=shutdown_timeout,
                    retry_budget=retry_budget,
                    on_error=on_error,
                    durable=durable,
                    max_properties=max_properties,
                    max_string_length=max_string_length,
                    max_event_bytes=max_event_bytes,
                    strict=strict,
                    debug=debug,
                    seed=seed,
                    clock=the_clock,
                    register_atexit=register_atexit,
                )
            except InvalidInputError as exc:
                if exc.field == "url":
                    raise InvalidInputError(REDIS_URL, exc.rule) from exc
                raise
        if pseudonymizer is None:
            logger.warning("pseudonymizer_defaulted", strategy="surrogate_in_memory")
            pseudonymizer = SurrogatePseudonymizer()
        return cls(
            found,
            pseudonymizer=pseudonymizer,
            default_consent=default_consent,
            consent_categories=consent_categories,
            sanitizer=sanitizer,
            schemas=schemas,
            require_schemas=require_schemas,
            event_categories=event_categories,
            default_category=default_category,
            super_properties=super_properties,
            max_queue_events=max_queue_events,
            max_queue_bytes=max_queue_bytes,
            drop_policy=drop_policy,
            flush_interval=flush_interval,
            max_in_flight=max_in_flight,
            shutdown_timeout=shutdown_timeout,
            retry_budget=retry_budget,
            on_error=on_error,
            durable=durable,
            max_properties=max_properties,
            max_string_length=max_string_length,
            max_event_bytes=max_event_bytes,
            strict=strict,
            debug=debug,
            seed=seed,
            clock=the_clock,
            register_atexit=register_atexit,
        )

    # -- context manager -----------------------------------------------------------------------
    def __enter__(self) -> AnalyticsClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown()

    # -- tracking ------------------------------------------------------------------------------
    def track(
        self,
        event: str,
        properties: Mapping[str, Any] | None = None,
        *,
        user_id: str | None = None,
        anonymous_id: str | None = None,
        category: str | None = None,
        groups: Mapping[str, str] | None = None,
        timestamp: datetime | None = None,
    ) -> bool:
        """Queue an event for every provider its category and the user's consent allow.

        Never raises (except input errors with ``strict=True``) and does no I/O.

        Args:
            event: The event name (a letter, then letters, digits, ``_.:/-`` or spaces).
            properties: Event properties; sanitised, validated and bounded (see the docs).
            user_id: The raw user id; defaults to the current `analytics_context`.
            anonymous_id: A device/visitor id for events without a signed-in user.
            category: Consent category; defaults to ``event_categories`` or the default.
            groups: Group memberships, e.g. ``{"clinic": "clinic-42"}``: keys are pseudonymised;
                group types are sent as they are, so they must be identifiers (see the docs).
            timestamp: When it happened (timezone-aware); now by default.

        Returns:
            Whether the event was queued for at least one provider.

        Examples:
            >>> from unified_health.analytics.testing import RecordingProvider
            >>> client = AnalyticsClient([RecordingProvider()], register_atexit=False)
            >>> client.track("page_viewed", user_id="user-1")  # no analytics consent yet
            False
            >>> _ = client.shutdown()
        """
        return self._submit("track", event, properties, user_id, anonymous_id, category,
                            groups=groups, timestamp=timestamp)  # fmt: skip

    def identify(
        self,
        user_id: str,
        traits: Mapping[str, Any] | None = None,
        *,
        category: str | None = None,
    ) -> bool:
        """Set profile traits of a user (sanitised like properties).

        Examples:
            >>> from unified_health.analytics.testing import RecordingProvider
            >>> client = AnalyticsClient([RecordingProvider()], default_consent="analytics",
            ...                          register_atexit=False)
            >>> client.identify("user-1", {"plan": "premium"})
            True
            >>> _ = client.shutdown()
        """
        return self._submit("identify", "$identify", traits, user_id, None, category)

    def alias(self, previous_id: str, user_id: str, *, category: str | None = None) -> bool:
        """Link a previous (anonymous) id to a user id; both are pseudonymised.

        Examples:
            >>> from unified_health.analytics.testing import RecordingProvider
            >>> client = AnalyticsClient([RecordingProvider()], default_consent="analytics",
            ...                          register_atexit=False)
            >>> client.alias("visitor-9", "user-1")
            True
            >>> _ = client.shutdown()
        """
        return self._submit("alias", "$create_alias", None, user_id, None, category,
                            previous_id=previous_id)  # fmt: skip

    def group(
        self,
        group_type: str,
        group_key: str,
        traits: Mapping[str, Any] | None = None,
        *,
        user_id: str | None = None,
        category: str | None = None,
    ) -> bool:
        """Set traits of a group (an organisation, a clinic); the key is pseudonymised.

        Examples:
            >>> from unified_health.analytics.testing import RecordingProvider
            >>> client = AnalyticsClient([RecordingProvider()], default_consent="analytics",
            ...                          register_atexit=False)
            >>> client.group("clinic", "clinic-42", {"tier": "gold"}, user_id="user-1")
            True
            >>> _ = client.shutdown()
        """
        return self._submit("group", "$groupidentify", traits, user_id, None, category,
                            group_type=group_type, group_key=group_key)  # fmt: skip

    def _submit(
        self,
        kind: EventKind,
        name: str,
        properties: Mapping[str, Any] | None,
        user_id: str | None,
        anonymous_id: str | None,
        category: str | None,
        *,
        groups: Mapping[str, str] | None = None,
        timestamp: datetime | None = None,
        previous_id: str | None = None,
        group_type: str | None = None,
        group_key: str | None = None,
    ) -> bool:
        call = Call(kind, name, properties, user_id, anonymous_id, category, groups, timestamp,
                    previous_id, group_type, group_key)  # fmt: skip
        try:
            return self._build_and_queue(call)
        except InvalidInputError as exc:
            reason = drop_reason_of(exc)
            self._metrics.drop(reason)
            if self._strict:
                raise
            self._drops.note(reason, kind=kind, field=exc.field, rule=exc.rule)
            return False
        except Exception as exc:
            self._metrics.drop(DropReason.INTERNAL_ERROR)
            # No traceback: its message and locals can hold the raw ids and properties.
            logger.error("track_failed", kind=kind, error_class=type(exc).__name__)
            if self._strict:
                raise
            return False

    def _build_and_queue(self, call: Call) -> bool:
        if self._closed:
            self._metrics.drop(DropReason.CLIENT_CLOSED)
            self._drops.note(DropReason.CLIENT_CLOSED, kind=call.kind)
            return False
        built = self._builder.build(call)
        if isinstance(built, DropReason):
            self._metrics.drop(built)
            if built == DropReason.NO_PROVIDER:
                self._drops.note(built, kind=call.kind)
            return False
        return self._enqueue(built)

    def _enqueue(self, event: Event) -> bool:
        """Put ``event`` on the lane of every provider taking its category."""
        queued = False
        for lane in self._lanes_for[event.category]:
            queued = lane.put(event) or queued
        if queued:
            self._metrics.enqueue()
            if self._debug:
                logger.debug(
                    "event_enqueued", event_name=event.name, kind=event.kind,
                    category=event.category, property_count=len(event.traits or event.properties),
                )  # fmt: skip
        return queued

    def _scrub_via_result(
        self, properties: Mapping[str, object], counts: dict[str, int]
    ) -> dict[str, object]:
        """`Sanitizer.scrub_into` for a sanitiser that only offers ``scrub``."""
        result = self._sanitizer.scrub(properties)
        counts.update({str(k): v for k, v in result.redactions.items() if v})
        return dict(result.properties)

    def _outbound(self, event: Event) -> OutboundEvent:
        return to_outbound(event, self._pseudonymizer)

    # -- super properties ----------------------------------------------------------------------
    def register_super_properties(self, properties: Mapping[str, Any]) -> None:
        """Add properties to every later track event (sanitised with each event).

        Examples:
            >>> from unified_health.analytics.testing import RecordingProvider
            >>> client = AnalyticsClient([RecordingProvider()], register_atexit=False)
            >>> client.register_super_properties({"app_version": "4.2.0"})
            >>> client.super_properties
            {'app_version': '4.2.0'}
            >>> _ = client.shutdown()
        """
        with self._lock:
            builder = self._builder
            builder.super_properties = {**builder.super_properties, **properties}

    def unregister_super_property(self, key: str) -> None:
        """Stop adding ``key`` to events. Idempotent.

        Examples:
            >>> from unified_health.analytics.testing import RecordingProvider
            >>> client = AnalyticsClient([RecordingProvider()], register_atexit=False)
            >>> client.register_super_properties({"app_version": "4.2.0", "build": "77"})
            >>> client.unregister_super_property("build")
            >>> client.unregister_super_property("missing")
            >>> client.super_properties
            {'app_version': '4.2.0'}
            >>> _ = client.shutdown()
        """
        with self._lock:
            builder = self._builder
            builder.super_properties = {
                k: v for k, v in builder.super_properties.items() if k != key
            }

    @property
    def super_properties(self) -> dict[str, Any]:
        """A copy of the current super properties."""
        return dict(self._builder.super_properties)

    # -- consent -------------------------------------------------------------------------------
    def set_consent(self, user_id: str, categories: Iterable[str]) -> None:
        """Record a user's consent; withdrawn categories stop delivery at once.

        Queued events of the user in categories no longer consented to are dropped now; their
        events in the spill store are removed by a background thread (`flush` waits for it), so
        this call never reads the spill store; events already being sent are re-checked before
        every attempt. Raises on failure (consent is a correctness path); calling again after a
        failure is safe.

        Raises:
            InvalidInputError: An unknown category or an empty user id.
            StoreUnavailableError: The consent store could not be written.

        Examples:
            >>> from unified_health.analytics.testing import RecordingProvider
            >>> client = AnalyticsClient([RecordingProvider()], register_atexit=False)
            >>> client.set_consent("user-1", {"essential", "analytics"})
            >>> sorted(client.get_consent("user-1"))
            ['analytics', 'essential']
            >>> _ = client.shutdown()
        """
        if not nonempty_str(user_id):
            raise InvalidInputError("user_id", "must be a non-empty string")
        granted = self._gate.check("categories", categories)
        self._gate.store.set_consent(user_id, granted)
        effective = granted | {ConsentCategory.ESSENTIAL.value}
        purged = self._withdraw(user_id, effective)
        logger.info("consent_updated", categories=sorted(effective), purged=purged)

    def get_consent(self, user_id: str) -> frozenset[str]:
        """Return the user's effective categories (their record or the default, plus essential).

        Raises:
            StoreUnavailableError: The consent store could not be read.

        Examples:
            >>> from unified_health.analytics.testing import RecordingProvider
            >>> client = AnalyticsClient([RecordingProvider()], register_atexit=False)
            >>> sorted(client.get_consent("user-1"))
            ['essential']
            >>> _ = client.shutdown()
        """
        return self._gate.consent_of(user_id)

    def clear_consent(self, user_id: str) -> None:
        """Delete the user's record; they fall back to ``default_consent`` (queue purged too).

        Their queued and spilled events outside the default are dropped, as in `set_consent`.

        Raises:
            StoreUnavailableError: The consent or spill store failed (safe to call again).

        Examples:
            >>> from unified_health.analytics.testing import RecordingProvider
            >>> client = AnalyticsClient([RecordingProvider()], register_atexit=False)
            >>> client.set_consent("user-1", {"analytics"})
            >>> client.clear_consent("user-1")
            >>> sorted(client.get_consent("user-1"))
            ['essential']
            >>> _ = client.shutdown()
        """
        self._gate.store.delete_consent(user_id)
        self._withdraw(user_id, self._gate.default)  # the default always holds essential

    def _withdraw(self, subject: str, allowed: frozenset[str]) -> int:
        """Drop ``subject``'s queued and spilled events outside ``allowed``; return how many."""

        def withdrawn(event: Event) -> bool:
            return (event.user_id or event.anonymous_id) == subject and (
                event.category not in allowed
            )

        if self._purger is not None:
            self._purger.submit(subject, allowed, self._now())
        return sum(lane.purge(withdrawn) for lane in self._lanes)

    def _now(self) -> float:
        return self._clock.now().timestamp()

    # -- schemas -------------------------------------------------------------------------------
    def register_schema(self, event: str, model: type[BaseModel]) -> None:
        """Add (or replace) the allow-list schema of an event.

        Raises:
            InvalidInputError: The model admits free text without opting in.

        Examples:
            >>> from typing import Literal
            >>> from pydantic import BaseModel
            >>> from unified_health.analytics.testing import RecordingProvider
            >>> class Booked(BaseModel):
            ...     specialty: Literal["cardiology"]
            >>> class Note(BaseModel):
            ...     text: str
            >>> client = AnalyticsClient([RecordingProvider()], register_atexit=False)
            >>> client.register_schema("appointment_booked", Booked)
            >>> try:
            ...     client.register_schema("note_added", Note)  # free text without FreeText()
            ... except InvalidInputError as exc:
            ...     exc.field
            'schemas.note_added.text'
            >>> _ = client.shutdown()
        """
        self._schemas.register(event, model)

    # -- delivery control ----------------------------------------------------------------------
    def metrics(self) -> MetricsSnapshot:
        """Counters: enqueued, sent, retried, dropped by reason, redacted by category.

        Examples:
            >>> from unified_health.analytics.testing import RecordingProvider
            >>> client = AnalyticsClient([RecordingProvider()], register_atexit=False)
            >>> client.metrics().enqueued
            0
            >>> _ = client.shutdown()
        """
        return self._metrics.snapshot()

    def flush(self, timeout: float = 10.0) -> bool:
        """Send everything queued now and wait; return whether all queues drained in time.

        Examples:
            >>> from unified_health.analytics.testing import RecordingProvider
            >>> client = AnalyticsClient([RecordingProvider()], register_atexit=False)
            >>> client.flush(timeout=1.0)
            True
            >>> _ = client.shutdown()
        """
        self._ensure_started()
        monotonic = self._clock.monotonic
        end = monotonic() + timeout
        purged = self._purger is None or self._purger.wait(timeout)
        drained = all(lane.flush(max(end - monotonic(), 0.0)) for lane in self._lanes)
        return purged and drained

    def shutdown(self, timeout: float | None = None) -> ShutdownReport:
        """Stop accepting events, drain the queues within ``timeout`` and report the rest.

        Undelivered events go to the spill store if there is one. Idempotent; also called at
        interpreter exit. Closes the HTTP clients the providers created.

        Examples:
            >>> from unified_health.analytics.testing import RecordingProvider
            >>> client = AnalyticsClient([RecordingProvider()], register_atexit=False)
            >>> client.shutdown(timeout=1.0).lost
            0
        """
        with self._lock:
            if self._closed:
                return ShutdownReport()
            self._closed = True
        self._ensure_started()
        monotonic = self._clock.monotonic
        started = monotonic()
        budget = self._shutdown_timeout if timeout is None else timeout
        deadline = started + budget
        # The report covers this shutdown only: earlier losses are in metrics().
        before = {
            lane.name: (lane.delivered, lane.undelivered, lane.spilled) for lane in self._lanes
        }
        if self._purger is not None:
            self._purger.close(deadline - monotonic())
        for lane in self._lanes:
            lane.begin_shutdown(deadline)
        for lane in self._lanes:
            lane.finish(deadline - monotonic())
        for lane in self._lanes:
            try:
                lane.provider.close()
            except Exception:  # noqa: BLE001 - closing must not raise into the host
                logger.warning("provider_close_failed", provider=lane.name)
        report = ShutdownReport(
            delivered={lane.name: lane.delivered - before[lane.name][0] for lane in self._lanes},
            undelivered={
                lane.name: lane.undelivered - before[lane.name][1] for lane in self._lanes
            },
            spilled=sum(lane.spilled - before[lane.name][2] for lane in self._lanes),
            timed_out=monotonic() > deadline,
            duration=round(monotonic() - started, 6),
        )
        _lifecycle.unregister(self)
        if self._owned_redis is not None:
            try:
                self._owned_redis.close()
            except Exception as exc:  # noqa: BLE001 - closing must not raise into the host
                logger.warning("redis_close_failed", error_class=type(exc).__name__)
        logger.info(
            "client_stopped",
            delivered=sum(report.delivered.values()),
            undelivered=sum(report.undelivered.values()),
            spilled=report.spilled,
        )
        return report

    def delivery_status(self) -> dict[str, ProviderStatus]:
        """Where every accepted event is, per provider, with the lane's state and last error.

        For each provider ``accepted + replayed == sent + queued + in_flight + spilled +
        dropped``, at any moment. ``last_error`` names the cause of the last failed attempt
        (``dns``, ``connect``, ``timeout``, ``http_status``, ``rate_limit``...), never a payload.

        Examples:
            >>> from unified_health.analytics.testing import RecordingProvider
            >>> client = AnalyticsClient([RecordingProvider()], default_consent="analytics",
            ...                          register_atexit=False)
            >>> client.track("page_viewed", user_id="user-1")
            True
            >>> client.flush(timeout=5)
            True
            >>> status = client.delivery_status()["recording"]
            >>> (status.state, status.accepted, status.sent, status.unaccounted)
            ('healthy', 1, 1, 0)
            >>> _ = client.shutdown()
        """
        return {lane.name: lane.status() for lane in self._lanes}

    @property
    def shutdown_timeout(self) -> float:
        """The default deadline of `shutdown()`, in seconds (set at construction)."""
        return self._shutdown_timeout

    @property
    def closed(self) -> bool:
        """Whether `shutdown()` was called."""
        return self._closed

    # -- process lifecycle ---------------------------------------------------------------------
    def _ensure_started(self) -> None:
        if self._pid != os.getpid():
            _lifecycle.restart_in_child()

    def _restart_if_forked(self) -> None:
        if self._pid == os.getpid() or self._closed:
            return
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._metrics.reset_lock()
        # Locks another thread held at fork time stay held in the child: renew the ones of the
        # pseudonymiser and stores too (those declaring `ForkAware`).
        parts: tuple[object, ...] = (self._pseudonymizer, self._gate.store, self._spill_store)
        for part in parts:
            if isinstance(part, ForkAware):
                part.reset_after_fork()
        if self._purger is not None:
            self._purger.reset_after_fork()
        for lane in self._lanes:
            lane.after_fork_in_child()
            lane.start()

    def _shutdown_at_exit(self) -> None:
        if self._atexit and not self._closed:
            self.shutdown()


def _default_pseudonymizer() -> Pseudonymizer:
    if os.environ.get(HMAC_KEYS):
        return HmacPseudonymizer.from_env(HMAC_KEYS)
    logger.warning("pseudonymizer_defaulted", strategy="surrogate_in_memory")
    return SurrogatePseudonymizer()
