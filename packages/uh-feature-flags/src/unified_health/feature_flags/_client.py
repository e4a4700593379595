"""`FeatureFlagClient`: local evaluation on an immutable snapshot, kept fresh in the background.

Failure policy: evaluation never touches the network and never raises. If the store is down at
start, the client serves the ``bootstrap`` document when given, else the caller's defaults with
``PROVIDER_NOT_READY``. If the store goes down later, the client keeps serving its last snapshot
for as long as it takes; `evaluate` reports reason ``STALE`` once ``stale_after`` seconds have
passed without contact. A store that comes back empty or half-written is never applied.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, Self

from unified_health.feature_flags._client_support import (
    Bootstrap,
    fresh_event,
    read_bootstrap,
    register,
    type_ok,
    unregister,
)
from unified_health.feature_flags._clock import Clock, SystemClock
from unified_health.feature_flags._config import (
    DEFAULT_POLL_INTERVAL,
    DEFAULT_STALE_AFTER,
    Backoff,
    check_seconds,
    reconnect_cap,
    redis_settings_from_env,
)
from unified_health.feature_flags._errors import InvalidInputError
from unified_health.feature_flags._exposure import ExposureRecorder
from unified_health.feature_flags._logging import logger
from unified_health.feature_flags._models import (
    ClientStatus,
    ErrorCode,
    EvaluationContext,
    EvaluationResult,
    FlagChangeEvent,
    Reason,
    SyncMetrics,
)
from unified_health.feature_flags._snapshot import (
    Snapshot,
    build_snapshot,
    changed_keys,
    empty_snapshot,
    error_for,
    export_state,
    stale_twin,
    state_from_document,
)
from unified_health.feature_flags._sync import Synchronizer
from unified_health.feature_flags.stores._memory import InMemoryFeatureFlagStore
from unified_health.feature_flags.stores._protocol import FeatureFlagStore, StoreState
from unified_health.feature_flags.stores._redis import DEFAULT_PREFIX, RedisFeatureFlagStore

__all__ = ["FeatureFlagClient"]

_EMPTY: dict[str, Any] = {}
_MAX_WARNED = 1000
_INVALID_KEY = EvaluationResult(
    flag_key="",
    value=None,
    reason=Reason.ERROR,
    error_code=ErrorCode.FLAG_NOT_FOUND,
    error_message="the flag key is not a str",
)


def _as_bool(value: Any) -> bool:
    """``bool(value)``, or ``False`` when the value refuses to say."""
    if isinstance(value, bool):
        return value
    try:
        return bool(value)
    except Exception:  # noqa: BLE001 - a hostile default must not make evaluation raise
        return False


def _failed(default: Any) -> EvaluationResult:
    """The result of an evaluation that failed unexpectedly: the caller's default, GENERAL."""
    return EvaluationResult(
        flag_key="",
        value=default,
        reason=Reason.ERROR,
        error_code=ErrorCode.GENERAL,
        error_message="evaluation failed",
    )


class FeatureFlagClient:
    """Evaluate feature flags locally, in about a microsecond, from a store kept in sync.

    Args:
        store: Where flags live; an `InMemoryFeatureFlagStore` (owned by the client) by default.
        bootstrap: A snapshot to serve until the store answers: a JSON document (text, bytes or
            mapping, as produced by `export_snapshot`) or a path to a file holding one.
        clock: Injected time (``now()`` and ``monotonic()``), for staleness.
        poll_interval: Seconds between reconciliation polls that catch lost announcements.
            It bounds recovery too: once the store answers again after an outage, a change is
            seen within ``poll_interval`` (plus one connection attempt), however long the
            outage lasted.
        stale_after: Seconds without contact with the store after which `evaluate` says STALE.
        reconnect_max_delay: Ceiling of the jittered pause between reconnection attempts, in
            seconds; at most half of ``poll_interval`` (the default), so recovery stays bounded.
        seed: Seed for the backoff jitter.
        exposures: Records an exposure event for each single-flag evaluation, when given.
        background: Run the synchronisation thread (``False`` means `refresh` is called by you).
        startup_timeout: With ``background``, the constructor waits at most this long (1 s by
            default) for the thread's first attempt to read the store, then returns whatever
            happened: it never blocks longer on a dead store (`ready` says whether data came).
            Without ``background`` the first read runs in the constructor and is bounded by
            the store's own timeouts (``from_url``: a 1 s connect timeout).

    Raises:
        InvalidInputError: ``store`` is not a `FeatureFlagStore` (a URL belongs in `from_url`),
            or a duration is not a number of seconds > 0.

    Examples:
        >>> from unified_health.feature_flags import Flag, FeatureFlagAdmin
        >>> store = InMemoryFeatureFlagStore()
        >>> _ = FeatureFlagAdmin(store).create_flag(
        ...     Flag(key="new-feature", enabled=True), actor="ops", reason="launch"
        ... )
        >>> with FeatureFlagClient(store) as flags:
        ...     flags.is_enabled("new-feature", {"user_id": "user-123"})
        True
    """

    def __init__(
        self,
        store: FeatureFlagStore | None = None,
        *,
        bootstrap: Bootstrap | None = None,
        clock: Clock | None = None,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        stale_after: float = DEFAULT_STALE_AFTER,
        reconnect_max_delay: float | None = None,
        seed: int | None = None,
        exposures: ExposureRecorder | None = None,
        background: bool = True,
        startup_timeout: float = 1.0,
    ) -> None:
        given: object = store
        if given is not None and (
            isinstance(given, str | bytes) or not isinstance(given, FeatureFlagStore)
        ):
            raise InvalidInputError(
                "store",
                "must be a FeatureFlagStore; for a Redis URL use FeatureFlagClient.from_url(url)",
            )
        check_seconds("poll_interval", poll_interval)
        check_seconds("stale_after", stale_after)
        check_seconds("reconnect_max_delay", reconnect_max_delay, allow_none=True)
        if startup_timeout != 0:
            check_seconds("startup_timeout", startup_timeout)
        self._owns_store = store is None
        self._store: FeatureFlagStore = store if store is not None else InMemoryFeatureFlagStore()
        self._clock = clock if clock is not None else SystemClock()
        self._stale_after = stale_after
        self._exposures = exposures
        self._listeners: list[Callable[[FlagChangeEvent], None]] = []
        self._status_listeners: list[Callable[[ClientStatus], None]] = []
        self._status_lock = threading.RLock()
        self._warned: set[tuple[str, str]] = set()
        self._ready = threading.Event()
        self._closed = False
        self._snapshot: Snapshot = empty_snapshot()
        self._snapshot_version = 0
        if bootstrap is not None:
            state = state_from_document(read_bootstrap(bootstrap))
            self._install(build_snapshot(state, source="bootstrap", previous=None), notify=False)
        self._poll_interval = poll_interval
        self._reconnect_cap = reconnect_cap(poll_interval, reconnect_max_delay)
        self._sync = Synchronizer(
            self._store,
            apply=self._apply,
            current=lambda: (self._snapshot.epoch, self._snapshot.version),
            clock=self._clock,
            poll_interval=poll_interval,
            backoff=Backoff(cap=self._reconnect_cap, seed=seed),
            on_contact=self._check_status,
        )
        self._last_status = self.status
        self._background = background
        if background:
            self._sync.start()
            self._sync.wait_first_attempt(startup_timeout)
        else:
            self._sync.sync_once()
        register(self)

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        prefix: str = DEFAULT_PREFIX,
        bootstrap: Bootstrap | None = None,
        clock: Clock | None = None,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        stale_after: float = DEFAULT_STALE_AFTER,
        reconnect_max_delay: float | None = None,
        seed: int | None = None,
        exposures: ExposureRecorder | None = None,
        background: bool = True,
        startup_timeout: float = 1.0,
    ) -> FeatureFlagClient:
        """Build a client on a `RedisFeatureFlagStore` it owns (closed with the client).

        The first read happens here; a Redis that does not answer is not an error (the client
        serves ``bootstrap`` or your defaults and keeps trying), and it fails within the
        store's connect timeout.

        Args:
            url: A Redis URL such as ``redis://127.0.0.1:6379/0``.
            prefix: The key prefix.
            bootstrap: As for `FeatureFlagClient`.
            clock: As for `FeatureFlagClient`.
            poll_interval: As for `FeatureFlagClient`.
            stale_after: As for `FeatureFlagClient`.
            reconnect_max_delay: As for `FeatureFlagClient`.
            seed: As for `FeatureFlagClient`.
            exposures: As for `FeatureFlagClient`.
            background: As for `FeatureFlagClient`.
            startup_timeout: As for `FeatureFlagClient`.

        Returns:
            The client.

        Raises:
            InvalidInputError: The URL or the prefix is invalid.

        Examples:
            >>> url = "redis://127.0.0.1:6379/0"
            >>> with FeatureFlagClient.from_url(url, prefix="doc:ff", background=False) as flags:
            ...     flags.is_enabled("unknown-flag", default=True)
            True
        """
        store = RedisFeatureFlagStore.from_url(url, prefix=prefix)
        try:
            client = cls(
                store,
                bootstrap=bootstrap,
                clock=clock,
                poll_interval=poll_interval,
                stale_after=stale_after,
                reconnect_max_delay=reconnect_max_delay,
                seed=seed,
                exposures=exposures,
                background=background,
                startup_timeout=startup_timeout,
            )
        except BaseException:
            store.close()
            raise
        client._owns_store = True
        return client

    @classmethod
    def from_env(
        cls,
        *,
        environ: Mapping[str, str] | None = None,
        bootstrap: Bootstrap | None = None,
        clock: Clock | None = None,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        stale_after: float = DEFAULT_STALE_AFTER,
        reconnect_max_delay: float | None = None,
        seed: int | None = None,
        exposures: ExposureRecorder | None = None,
        background: bool = True,
        startup_timeout: float = 1.0,
    ) -> FeatureFlagClient:
        """Build a client like `from_url`, with the URL and prefix from the environment.

        Reads ``UH_FEATURE_FLAGS_REDIS_URL`` (required) and ``UH_FEATURE_FLAGS_PREFIX``
        (optional, ``uh:ff`` by default).

        Args:
            environ: The environment to read; ``os.environ`` by default.
            bootstrap: As for `FeatureFlagClient`.
            clock: As for `FeatureFlagClient`.
            poll_interval: As for `FeatureFlagClient`.
            stale_after: As for `FeatureFlagClient`.
            reconnect_max_delay: As for `FeatureFlagClient`.
            seed: As for `FeatureFlagClient`.
            exposures: As for `FeatureFlagClient`.
            background: As for `FeatureFlagClient`.
            startup_timeout: As for `FeatureFlagClient`.

        Returns:
            The client.

        Raises:
            InvalidInputError: ``UH_FEATURE_FLAGS_REDIS_URL`` is not set, or a setting is
                invalid.

        Examples:
            >>> env = {
            ...     "UH_FEATURE_FLAGS_REDIS_URL": "redis://127.0.0.1:6379/0",
            ...     "UH_FEATURE_FLAGS_PREFIX": "doc:ff",
            ... }
            >>> with FeatureFlagClient.from_env(environ=env, background=False) as flags:
            ...     flags.get_value("max-upload-mb", default=10)
            10
            >>> from unified_health.feature_flags import InvalidInputError
            >>> try:
            ...     FeatureFlagClient.from_env(environ={})
            ... except InvalidInputError as err:
            ...     print(err)
            UH_FEATURE_FLAGS_REDIS_URL: must be set
        """
        url, prefix = redis_settings_from_env(environ, DEFAULT_PREFIX)
        return cls.from_url(
            url,
            prefix=prefix,
            bootstrap=bootstrap,
            clock=clock,
            poll_interval=poll_interval,
            stale_after=stale_after,
            reconnect_max_delay=reconnect_max_delay,
            seed=seed,
            exposures=exposures,
            background=background,
            startup_timeout=startup_timeout,
        )

    # ------------------------------------------------------------------ hot path

    def is_enabled(
        self, key: str, context: Mapping[str, Any] | None = None, default: bool = False
    ) -> bool:
        """Evaluate a boolean flag.

        Args:
            key: The flag key.
            context: Context attributes (``user_id``/``targeting_key``, other kinds nested).
            default: Returned when the flag is unknown, not boolean, or cannot be evaluated.

        Returns:
            The flag's value for this context.

        Examples:
            >>> FeatureFlagClient().is_enabled("unknown-flag", default=True)
            True
        """
        try:
            if context is None:
                context = _EMPTY
            evaluate = self._snapshot.evaluators.get(key)
            if evaluate is not None and context.__class__ is dict:
                try:
                    result = evaluate(context)
                except Exception:  # noqa: BLE001 - evaluation never raises into the host
                    result = error_for(self._snapshot, key, ErrorCode.GENERAL)
                value = result.value
                if value.__class__ is not bool and result.error_code is None:
                    result = error_for(self._snapshot, key, ErrorCode.TYPE_MISMATCH)
                if self._exposures is not None:
                    self._exposures.record(key, result, context)
                if result.error_code is None:
                    return value  # type: ignore[no-any-return]  # checked to be a bool above
                self._warn_once(key, result.error_code)
                return _as_bool(default)
            result = self._resolve(key, context, default)
            return _as_bool(default) if result.error_code is not None else _as_bool(result.value)
        except Exception:  # noqa: BLE001 - evaluation never raises into the host
            return _as_bool(default)

    def get_variant(
        self, key: str, context: Mapping[str, Any] | None = None, default: str | None = None
    ) -> str | None:
        """Return the name of the variant served (e.g. ``"blue"``), or ``default``.

        Args:
            key: The flag key.
            context: Context attributes.
            default: Returned when the flag is unknown or cannot be evaluated.

        Returns:
            The variant name.

        Examples:
            >>> FeatureFlagClient().get_variant("checkout-button", {"user_id": "u1"}, "control")
            'control'
        """
        try:
            if context is None:
                context = _EMPTY
            evaluate = self._snapshot.evaluators.get(key)
            if evaluate is not None and context.__class__ is dict:
                try:
                    result = evaluate(context)
                except Exception:  # noqa: BLE001 - evaluation never raises into the host
                    result = error_for(self._snapshot, key, ErrorCode.GENERAL)
                if self._exposures is not None:
                    self._exposures.record(key, result, context)
                if result.error_code is None:
                    return result.variant
                self._warn_once(key, result.error_code)
                return default
            result = self._resolve(key, context, None)
            return default if result.error_code is not None else result.variant
        except Exception:  # noqa: BLE001 - evaluation never raises into the host
            return default

    def get_value(
        self, key: str, context: Mapping[str, Any] | None = None, default: Any = None
    ) -> Any:
        """Return the flag's value when its type matches ``default``'s, else ``default``.

        Args:
            key: The flag key.
            context: Context attributes.
            default: The fallback, whose type the value must match (``None`` accepts any).

        Returns:
            The value.

        Examples:
            >>> FeatureFlagClient().get_value("max-upload-mb", {"user_id": "u1"}, 10)
            10
            >>> FeatureFlagClient().get_value("max-upload-mb", default=10)
            10
        """
        try:
            result = self._resolve(key, context, default)
        except Exception:  # noqa: BLE001 - evaluation never raises into the host
            return default
        return default if result.error_code is not None else result.value

    def evaluate(
        self, key: str, context: Mapping[str, Any] | None = None, default: Any = None
    ) -> EvaluationResult:
        """Evaluate a flag and explain the outcome: value, variant, reason, rule, error code.

        Args:
            key: The flag key.
            context: Context attributes.
            default: The value used on error; when not ``None`` the flag's value must match
                its type (else ``TYPE_MISMATCH``).

        Returns:
            The `EvaluationResult`; reason ``STALE`` when the store has been unreachable for
            ``stale_after`` seconds.

        Examples:
            >>> FeatureFlagClient().evaluate("missing", default=False).error_code
            <ErrorCode.FLAG_NOT_FOUND: 'FLAG_NOT_FOUND'>
        """
        try:
            result = self._resolve(key, context, default)
            if result.error_code is not None:
                return result if default is None else result.model_copy(update={"value": default})
            if self._sync.is_stale(self._stale_after):
                return stale_twin(self._snapshot, result)
            return result
        except Exception:  # noqa: BLE001 - evaluation never raises into the host
            return _failed(default)

    def evaluate_all(
        self, context: Mapping[str, Any] | None = None, *, client_side_only: bool = False
    ) -> dict[str, EvaluationResult]:
        """Evaluate every live flag for one context (exposures are not recorded).

        Args:
            context: Context attributes.
            client_side_only: Only flags marked ``client_side``.

        Returns:
            Results by flag key; error results carry ``value=None``.

        Examples:
            >>> FeatureFlagClient().evaluate_all({"user_id": "u1"})
            {}
        """
        snapshot = self._snapshot
        try:
            ctx = self._context(context)
        except Exception:  # noqa: BLE001 - evaluation never raises into the host
            ctx = None
        stale = self._sync.is_stale(self._stale_after)
        out: dict[str, EvaluationResult] = {}
        chosen = snapshot.client_side if _as_bool(client_side_only) else snapshot.everything
        for key, evaluate in chosen:
            if ctx is None:
                out[key] = error_for(snapshot, key, ErrorCode.INVALID_CONTEXT)
                continue
            try:
                result = evaluate(ctx)
            except Exception:  # noqa: BLE001 - evaluation never raises into the host
                result = error_for(snapshot, key, ErrorCode.GENERAL)
            if stale and result.error_code is None:
                result = stale_twin(snapshot, result)
            out[key] = result
        return out

    # ------------------------------------------------------------------ slow path

    def _context(self, context: Any) -> Mapping[str, Any] | None:
        if context is None:
            return _EMPTY
        if isinstance(context, EvaluationContext):
            return context.as_mapping()
        if isinstance(context, Mapping):
            return context
        return None

    def _resolve(self, key: str, context: Any, default: Any) -> EvaluationResult:
        """Evaluate on the slow path; an error result keeps ``value=None`` (callers substitute)."""
        snapshot = self._snapshot
        if key.__class__ is not str:
            return _INVALID_KEY
        ctx = self._context(context)
        evaluate = snapshot.evaluators.get(key)
        if evaluate is None:
            missing = snapshot.source == "empty"
            code = ErrorCode.PROVIDER_NOT_READY if missing else ErrorCode.FLAG_NOT_FOUND
            result = error_for(snapshot, key, code)
        elif ctx is None:
            result = error_for(snapshot, key, ErrorCode.INVALID_CONTEXT)
        else:
            try:
                result = evaluate(ctx)
            except Exception:  # noqa: BLE001 - evaluation never raises into the host
                result = error_for(snapshot, key, ErrorCode.GENERAL)
            if result.error_code is None and not type_ok(result.value, default):
                result = error_for(snapshot, key, ErrorCode.TYPE_MISMATCH)
            if self._exposures is not None:
                self._exposures.record(key, result, ctx)
        if result.error_code is not None:
            self._warn_once(key, result.error_code)
        return result

    def _warn_once(self, key: str, code: ErrorCode) -> None:
        marker = (key, code.value)
        if marker in self._warned or len(self._warned) >= _MAX_WARNED:
            return
        self._warned.add(marker)
        logger.warning("default_served", flag_key=key, error_code=code.value)

    # ------------------------------------------------------------------ snapshots

    def _apply(self, state: StoreState) -> bool:
        current = self._snapshot
        if (
            current.source == "store"
            and state.epoch == current.epoch
            and state.version <= current.version
        ):
            self._ready.set()
            return False
        if current.source == "store" and state.epoch != current.epoch:
            logger.info("store_epoch_changed", version=state.version)
        self._install(build_snapshot(state, source="store", previous=current), notify=True)
        self._ready.set()
        return True

    def _install(self, snapshot: Snapshot, *, notify: bool) -> None:
        previous = self._snapshot
        version = snapshot.version
        if version <= self._snapshot_version and previous.source != "empty":
            version = self._snapshot_version + 1
        self._snapshot_version = max(version, self._snapshot_version)
        self._snapshot = snapshot
        changed = changed_keys(previous, snapshot)
        logger.debug("snapshot_applied", version=snapshot.version, changed=len(changed))
        if not notify or not changed:
            return
        event = FlagChangeEvent(changed_keys=changed, version=self._snapshot_version)
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception as exc:  # noqa: BLE001 - a listener must not break propagation
                logger.warning("listener_failed", error_class=type(exc).__name__)

    @property
    def status(self) -> ClientStatus:
        """``NOT_READY`` (no flag data), ``READY``, or ``STALE`` (store out of reach too long).

        Examples:
            >>> FeatureFlagClient(background=False).status
            <ClientStatus.READY: 'READY'>
        """
        if self._snapshot.source == "empty":
            return ClientStatus.NOT_READY
        if self._sync.is_stale(self._stale_after):
            return ClientStatus.STALE
        if not self._sync.healthy and self._sync.counters.outage_started is not None:
            return ClientStatus.DISCONNECTED
        return ClientStatus.READY

    def sync_metrics(self) -> SyncMetrics:
        """Return the synchronisation's counters: outages, recoveries, reconnect attempts.

        Examples:
            >>> FeatureFlagClient(background=False).sync_metrics().recoveries
            0
        """
        sync = self._sync
        counters = sync.counters
        now = self._clock.monotonic()
        started = counters.outage_started
        return SyncMetrics(
            connected=started is None,
            outages=counters.outages,
            recoveries=counters.recoveries,
            reconnect_attempts=counters.reconnect_attempts,
            reads=counters.reads,
            polls=counters.polls,
            announcements=counters.announcements,
            current_outage_seconds=None if started is None else max(0.0, now - started),
            last_outage_seconds=counters.last_outage_seconds,
            seconds_since_contact=max(0.0, now - sync.last_ok),
            poll_interval=self._poll_interval,
            reconnect_max_delay=self._reconnect_cap,
        )

    def add_status_listener(self, callback: Callable[[ClientStatus], None]) -> Callable[[], None]:
        """Call ``callback`` with the new `status` each time it changes.

        The synchronisation checks the status after every attempt to reach the store (on the
        sync thread, or on the thread calling `refresh`), so ``STALE`` is reported at the first
        failed attempt after ``stale_after`` seconds out of reach (attempts are at most
        ``reconnect_max_delay`` apart) and ``READY`` as soon as the store answers again, whether
        or not anything evaluates a flag.

        Args:
            callback: Receives a `ClientStatus`; exceptions are logged and ignored.

        Returns:
            A function that unsubscribes.

        Examples:
            >>> client = FeatureFlagClient(background=False)
            >>> seen = []
            >>> unsubscribe = client.add_status_listener(seen.append)
            >>> unsubscribe()
            >>> client.status, seen
            (<ClientStatus.READY: 'READY'>, [])
        """
        self._status_listeners.append(callback)

        def unsubscribe() -> None:
            if callback in self._status_listeners:
                self._status_listeners.remove(callback)

        return unsubscribe

    def _check_status(self) -> None:
        with self._status_lock:
            status = self.status
            if status is self._last_status:
                return
            self._last_status = status
            logger.info("status_changed", status=status.value)
            for listener in list(self._status_listeners):
                try:
                    listener(status)
                except Exception as exc:  # noqa: BLE001 - a listener must not break the sync
                    logger.warning("listener_failed", error_class=type(exc).__name__)

    @property
    def snapshot_version(self) -> int:
        """A number that grows with every change this client applies.

        It is local to this process (another worker may count differently), so it suits
        in-process caches; the OFREP bulk endpoint's ETag hashes the response body instead.

        Examples:
            >>> FeatureFlagClient().snapshot_version
            0
        """
        return self._snapshot_version

    def ready(self) -> bool:
        """Whether flag data from the store has been loaded at least once.

        Examples:
            >>> FeatureFlagClient().ready()
            True
        """
        return self._ready.is_set()

    def wait_ready(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the first load from the store.

        Args:
            timeout: Seconds to wait.

        Returns:
            Whether the client is ready.

        Examples:
            >>> FeatureFlagClient().wait_ready(1.0)
            True
        """
        return self._ready.wait(timeout)

    def refresh(self) -> bool:
        """Read the store now, on this thread, and apply what changed.

        Returns:
            Whether the store answered with usable state.

        Examples:
            >>> FeatureFlagClient(background=False).refresh()
            True
        """
        return self._sync.sync_once()

    def export_snapshot(self) -> str:
        """Return the current data as a bootstrap document (JSON) for ``bootstrap=``.

        Examples:
            >>> '"format":"uh-feature-flags/v1"' in FeatureFlagClient().export_snapshot()
            True
        """
        return export_state(self._snapshot.state)

    def add_listener(self, callback: Callable[[FlagChangeEvent], None]) -> Callable[[], None]:
        """Call ``callback`` (on the sync thread) after each applied change.

        Args:
            callback: Receives a `FlagChangeEvent`; exceptions are logged and ignored.

        Returns:
            A function that unsubscribes.

        Examples:
            >>> from unified_health.feature_flags import FeatureFlagAdmin, Flag
            >>> from unified_health.feature_flags import InMemoryFeatureFlagStore
            >>> store = InMemoryFeatureFlagStore()
            >>> client = FeatureFlagClient(store, background=False)
            >>> seen = []
            >>> unsubscribe = client.add_listener(lambda event: seen.append(event.changed_keys))
            >>> _ = FeatureFlagAdmin(store).create_flag(Flag(key="beta"), actor="ops", reason="new")
            >>> client.refresh()
            True
            >>> unsubscribe()
            >>> seen
            [frozenset({'beta'})]
        """
        self._listeners.append(callback)

        def unsubscribe() -> None:
            if callback in self._listeners:
                self._listeners.remove(callback)

        return unsubscribe

    # ------------------------------------------------------------------ lifecycle

    def _before_fork(self) -> None:
        self._sync.before_fork()

    def _after_fork_in_parent(self) -> None:
        self._sync.after_fork_in_parent()

    def _after_fork_in_child(self) -> None:
        self._ready = fresh_event(self._ready)
        self._status_lock = threading.RLock()
        if self._closed or not self._background:
            self._sync.after_fork_in_parent()
            return
        self._sync.after_fork_in_child()

    def close(self) -> None:
        """Stop synchronisation and close what the client opened (not an injected store)."""
        if self._closed:
            return
        self._closed = True
        unregister(self)
        self._sync.stop()
        if self._owns_store:
            self._store.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
