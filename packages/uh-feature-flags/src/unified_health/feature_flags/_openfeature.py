"""An OpenFeature provider backed by a `FeatureFlagClient` (extra ``openfeature``).

The provider evaluates locally through the client, so its results are the client's results: same
value, variant and reason, with OpenFeature's error codes. What it adds is the OpenFeature
lifecycle:

* ``initialize`` waits for the client's first snapshot (``PROVIDER_READY``), or raises so
  OpenFeature reports ``PROVIDER_ERROR`` when none arrives in time;
* each change the client applies becomes ``PROVIDER_CONFIGURATION_CHANGED`` with
  ``flags_changed``, preceded by ``PROVIDER_READY`` when the provider was not ready;
* when the client's status turns ``STALE`` (the store has been unreachable for its
  ``stale_after``), the provider emits ``PROVIDER_STALE`` and keeps serving the last values, and
  emits ``PROVIDER_READY`` once the store answers again. The client reports its status from its
  synchronisation, so these events fire whether or not anything is being evaluated.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from unified_health.feature_flags._client import FeatureFlagClient
from unified_health.feature_flags._logging import logger
from unified_health.feature_flags._models import ClientStatus, EvaluationResult, FlagChangeEvent

try:
    from openfeature.evaluation_context import EvaluationContext
    from openfeature.event import ProviderEventDetails
    from openfeature.exception import ErrorCode, ProviderNotReadyError
    from openfeature.flag_evaluation import FlagResolutionDetails, FlagValueType, Reason
    from openfeature.provider import AbstractProvider, Metadata, ProviderStatus
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "the OpenFeature provider needs the 'openfeature' extra: "
        "pip install 'uh-feature-flags[openfeature]'"
    ) from exc

__all__ = ["FeatureFlagProvider"]


_T = TypeVar("_T")
_STALE_MESSAGE = "flag store unreachable; serving the last snapshot"
ObjectValue = Sequence[FlagValueType] | Mapping[str, FlagValueType]


class FeatureFlagProvider(AbstractProvider):
    """Serve OpenFeature evaluations from a `FeatureFlagClient`.

    Args:
        client: The client to evaluate with. The provider never closes it unless
            ``close_client_on_shutdown`` is true.
        ready_timeout: Seconds ``initialize`` waits for the client's first snapshot; when it
            passes, ``initialize`` raises ``ProviderNotReadyError`` (OpenFeature marks the
            provider ERROR) and the provider turns READY when the snapshot arrives later.
        close_client_on_shutdown: Close the client when OpenFeature shuts the provider down.

    Examples:
        >>> from unified_health.feature_flags import FeatureFlagClient
        >>> provider = FeatureFlagProvider(FeatureFlagClient())
        >>> provider.get_metadata().name
        'uh-feature-flags'
    """

    def __init__(
        self,
        client: FeatureFlagClient,
        *,
        ready_timeout: float = 5.0,
        close_client_on_shutdown: bool = False,
    ) -> None:
        super().__init__()
        self._client = client
        self._ready_timeout = ready_timeout
        self._close_client = close_client_on_shutdown
        self._lock = threading.Lock()
        self._status = ProviderStatus.NOT_READY
        self._unsubscribe: Callable[[], None] | None = None

    @property
    def client(self) -> FeatureFlagClient:
        """The client this provider evaluates with."""
        return self._client

    @property
    def status(self) -> ProviderStatus:
        """The provider's own view of its state (OpenFeature also tracks it from events)."""
        return self._status

    def get_metadata(self) -> Metadata:
        """Name the provider.

        Returns:
            ``Metadata(name="uh-feature-flags")``.
        """
        return Metadata(name="uh-feature-flags")

    def initialize(self, evaluation_context: EvaluationContext) -> None:
        """Subscribe to the client's changes and wait for its first snapshot.

        Args:
            evaluation_context: OpenFeature's global context (unused: evaluation is per call).

        Raises:
            ProviderNotReadyError: No snapshot arrived within ``ready_timeout`` seconds.
        """
        with self._lock:
            if self._unsubscribe is None:
                changes = self._client.add_listener(self._on_change)
                statuses = self._client.add_status_listener(self._on_status)

                def unsubscribe() -> None:
                    changes()
                    statuses()

                self._unsubscribe = unsubscribe
        if self._client.wait_ready(self._ready_timeout):
            self._status = ProviderStatus.READY
            if self._client.status is ClientStatus.STALE:
                self._stale_changed(stale=True)
            return
        self._status = ProviderStatus.ERROR
        logger.warning("provider_ready_timed_out", timeout_s=self._ready_timeout)
        raise ProviderNotReadyError("no flag snapshot yet")

    def shutdown(self) -> None:
        """Unsubscribe from the client (and close it if asked to)."""
        with self._lock:
            unsubscribe, self._unsubscribe = self._unsubscribe, None
        if unsubscribe is not None:
            unsubscribe()
        self._status = ProviderStatus.NOT_READY
        if self._close_client:
            self._client.close()

    def _on_change(self, event: FlagChangeEvent) -> None:
        details = ProviderEventDetails(
            flags_changed=sorted(event.changed_keys), metadata={"version": event.version}
        )
        with self._lock:
            recovered = self._status is not ProviderStatus.READY
            self._status = ProviderStatus.READY
        if recovered:
            self.emit_provider_ready(details)
        self.emit_provider_configuration_changed(details)

    def _on_status(self, status: ClientStatus) -> None:
        if status is ClientStatus.STALE:
            self._stale_changed(stale=True)
        elif status is ClientStatus.READY:
            self._stale_changed(stale=False)

    # ----------------------------------------------------------------------------- resolution

    def resolve_boolean_details(
        self,
        flag_key: str,
        default_value: bool,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[bool]:
        """Resolve a boolean flag.

        Args:
            flag_key: The flag's key.
            default_value: Returned, with an error code, when the flag cannot be evaluated.
            evaluation_context: The merged OpenFeature context.

        Returns:
            The resolution; ``TYPE_MISMATCH`` when the flag's value is not a boolean.
        """
        return self._resolve(flag_key, default_value, evaluation_context, _as_bool)

    def resolve_string_details(
        self,
        flag_key: str,
        default_value: str,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[str]:
        """Resolve a string flag.

        Args:
            flag_key: The flag's key.
            default_value: Returned, with an error code, when the flag cannot be evaluated.
            evaluation_context: The merged OpenFeature context.

        Returns:
            The resolution; ``TYPE_MISMATCH`` when the flag's value is not a string.
        """
        return self._resolve(flag_key, default_value, evaluation_context, _as_str)

    def resolve_integer_details(
        self,
        flag_key: str,
        default_value: int,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[int]:
        """Resolve an integer flag.

        Args:
            flag_key: The flag's key.
            default_value: Returned, with an error code, when the flag cannot be evaluated.
            evaluation_context: The merged OpenFeature context.

        Returns:
            The resolution; ``TYPE_MISMATCH`` unless the value is an integer (a float with no
            fractional part counts, a boolean does not).
        """
        return self._resolve(flag_key, default_value, evaluation_context, _as_int)

    def resolve_float_details(
        self,
        flag_key: str,
        default_value: float,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[float]:
        """Resolve a float flag.

        Args:
            flag_key: The flag's key.
            default_value: Returned, with an error code, when the flag cannot be evaluated.
            evaluation_context: The merged OpenFeature context.

        Returns:
            The resolution; integers are widened to float, anything else is ``TYPE_MISMATCH``.
        """
        return self._resolve(flag_key, default_value, evaluation_context, _as_float)

    def resolve_object_details(
        self,
        flag_key: str,
        default_value: ObjectValue,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[ObjectValue]:
        """Resolve an object (JSON object or array) flag.

        Args:
            flag_key: The flag's key.
            default_value: Returned, with an error code, when the flag cannot be evaluated.
            evaluation_context: The merged OpenFeature context.

        Returns:
            The resolution; ``TYPE_MISMATCH`` unless the value is a JSON object or array.
        """
        return self._resolve(flag_key, default_value, evaluation_context, _as_object)

    def _resolve(
        self,
        flag_key: str,
        default_value: _T,
        evaluation_context: EvaluationContext | None,
        convert: Callable[[Any], tuple[bool, _T | None]],
    ) -> FlagResolutionDetails[_T]:
        result = self._client.evaluate(flag_key, to_context(evaluation_context), default_value)
        if result.error_code is None:
            stale = result.reason == "STALE"
            if stale is not (self._status is ProviderStatus.STALE):
                self._stale_changed(stale=stale)
        return to_resolution(result, default_value, convert)

    def _stale_changed(self, *, stale: bool) -> None:
        with self._lock:
            if stale and self._status is ProviderStatus.READY:
                self._status = ProviderStatus.STALE
            elif not stale and self._status is ProviderStatus.STALE:
                self._status = ProviderStatus.READY
            else:
                return
        if stale:
            self.emit_provider_stale(ProviderEventDetails(message=_STALE_MESSAGE))
        else:
            self.emit_provider_ready(ProviderEventDetails(message="flag store reachable again"))


def to_context(evaluation_context: EvaluationContext | None) -> dict[str, Any]:
    """Turn an OpenFeature context into the mapping the client evaluates.

    Args:
        evaluation_context: The OpenFeature context, or ``None``.

    Returns:
        The attributes, plus ``targeting_key`` when the context has one.
    """
    if evaluation_context is None:
        return {}
    context: dict[str, Any] = dict(evaluation_context.attributes)
    if evaluation_context.targeting_key is not None:
        context["targeting_key"] = evaluation_context.targeting_key
    return context


def to_resolution(
    result: EvaluationResult,
    default_value: _T,
    convert: Callable[[Any], tuple[bool, _T | None]],
) -> FlagResolutionDetails[_T]:
    """Map an `EvaluationResult` onto OpenFeature's ``FlagResolutionDetails``.

    Args:
        result: What the client returned.
        default_value: The caller's default, returned on any error.
        convert: Checks (and if needed widens) the value's type: ``(ok, converted)``.

    Returns:
        The resolution details.
    """
    metadata = dict(result.flag_metadata)
    if result.error_code is not None:
        return FlagResolutionDetails(
            value=default_value,
            error_code=ErrorCode(str(result.error_code)),
            error_message=result.error_message,
            reason=Reason.ERROR,
            flag_metadata=metadata,
        )
    if result.value is None:
        # The flag defers to the code default (e.g. a variant holding JSON null).
        return FlagResolutionDetails(
            value=default_value,
            reason=str(result.reason),
            variant=result.variant,
            flag_metadata=metadata,
        )
    ok, value = convert(result.value)
    if not ok:
        return FlagResolutionDetails(
            value=default_value,
            error_code=ErrorCode.TYPE_MISMATCH,
            error_message=f"flag value is a {type(result.value).__name__}",
            reason=Reason.ERROR,
            flag_metadata=metadata,
        )
    assert value is not None
    return FlagResolutionDetails(
        value=value,
        reason=str(result.reason),
        variant=result.variant,
        flag_metadata=metadata,
    )


def _as_bool(value: Any) -> tuple[bool, bool | None]:
    return (True, value) if isinstance(value, bool) else (False, None)


def _as_str(value: Any) -> tuple[bool, str | None]:
    return (True, value) if isinstance(value, str) else (False, None)


def _as_int(value: Any) -> tuple[bool, int | None]:
    if isinstance(value, bool):
        return False, None
    if isinstance(value, int):
        return True, value
    if isinstance(value, float) and value.is_integer():
        return True, int(value)
    return False, None


def _as_float(value: Any) -> tuple[bool, float | None]:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False, None
    return True, float(value)


def _as_object(value: Any) -> tuple[bool, ObjectValue | None]:
    if isinstance(value, dict | list):
        return True, value
    return False, None
