"""What a provider is, and the shared HTTP machinery of the vendor providers.

A provider turns one pseudonymised `OutboundEvent` into the vendor's JSON (`encode`), sends a
batch of encoded events in one request (`deliver`) and says, event by event, what the vendor
made of it (`SendResult`). Batching, consent re-checks, retries and backoff live in the delivery
worker, so every provider gets them the same way.
"""

from __future__ import annotations

import abc
import email.utils
import gzip
import json
import random
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, runtime_checkable

import httpx

from unified_health.analytics._clock import Clock, SystemClock
from unified_health.analytics._errors import InvalidInputError
from unified_health.analytics._models import DropReason, EventKind
from unified_health.analytics._version import __version__

__all__ = [
    "HttpProvider",
    "OutboundEvent",
    "Provider",
    "ProviderLimits",
    "RoutedProvider",
    "SendResult",
]

USER_AGENT = f"uh-analytics/{__version__}"
_REQUEST_ID_HEADERS = ("x-request-id", "request-id", "x-amzn-requestid", "cf-ray")
_MAX_RETRY_AFTER = 600.0


@dataclass(frozen=True, slots=True)
class ProviderLimits:
    """A vendor's documented limits for one ingestion request.

    Attributes:
        max_events_per_request: Events per request.
        max_request_bytes: Uncompressed JSON bytes per request.
        max_event_bytes: JSON bytes of one encoded event; bigger events are dropped
            (``oversized``).
        max_properties_per_event: Properties one event may carry at the vendor, those the
            provider adds included (``None``: no limit).
        added_properties: The most properties the provider adds to every event (time, ids,
            library). An event may hold ``max_properties_per_event - added_properties`` of its
            own (caller and super properties plus group keys): `AnalyticsClient` refuses a
            ``max_properties`` above that, and the delivery worker drops an event over it
            (``oversized``) instead of sending what the vendor would reject.

    Examples:
        >>> ProviderLimits(2000, 10 * 1024 * 1024, 1024 * 1024).max_events_per_request
        2000
        >>> limits = ProviderLimits(2000, 10 * 1024 * 1024, 1024 * 1024, 254, 6)
        >>> limits.own_properties_per_event
        248
    """

    max_events_per_request: int
    max_request_bytes: int
    max_event_bytes: int
    max_properties_per_event: int | None = None
    added_properties: int = 0

    @property
    def own_properties_per_event(self) -> int | None:
        """Properties an event may hold of its own (group keys included); ``None``: no limit."""
        if self.max_properties_per_event is None:
            return None
        return self.max_properties_per_event - self.added_properties


@dataclass(frozen=True, slots=True)
class OutboundEvent:
    """An event as vendors may see it: every identifier already pseudonymised.

    Examples:
        >>> OutboundEvent("track", "page_viewed", {}, "k1_ab", "k1_ab", None, 0.0, "0" * 32).kind
        'track'
    """

    kind: EventKind
    name: str
    properties: Mapping[str, Any]
    distinct_id: str
    user_id: str | None
    device_id: str | None
    timestamp: float
    insert_id: str
    groups: Mapping[str, str] | None = None
    traits: Mapping[str, Any] | None = None
    previous_id: str | None = None
    group_type: str | None = None
    group_key: str | None = None
    properties_json: bytes | None = None

    @property
    def time_ms(self) -> int:
        """Milliseconds since the Unix epoch."""
        return int(self.timestamp * 1000)

    @property
    def iso_timestamp(self) -> str:
        """ISO 8601 UTC timestamp."""
        seconds = int(self.timestamp)
        micros = round((self.timestamp - seconds) * 1_000_000)
        if micros >= 1_000_000:
            seconds, micros = seconds + 1, 0
        return _iso_second(seconds) + f".{micros:06d}Z"


_LAST_SECOND: list[Any] = [None, ""]


def _iso_second(seconds: int) -> str:
    # Events of one batch mostly share their second: format it once.
    last = _LAST_SECOND
    if last[0] != seconds:
        text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
        _LAST_SECOND[:] = [seconds, text]
        return text
    return str(last[1])


@dataclass(slots=True)
class SendResult:
    """What the vendor made of one request, by index into the batch.

    ``accepted`` were ingested; ``retry`` may succeed later (backoff, at least ``retry_after``);
    ``resend`` were not ingested only because of their neighbours and go again at once;
    ``rejected`` will never be accepted (index -> drop reason); ``split`` asks for the batch to be
    halved (413, or a whole-batch 400 that names no event). When no answer arrived, ``error`` is
    the exception's class and ``cause`` one of ``dns``, ``connect``, ``timeout``, ``transport``.

    Examples:
        >>> SendResult(200, accepted=[0, 1]).ok
        True
    """

    status_code: int | None
    accepted: list[int] = field(default_factory=list)
    retry: list[int] = field(default_factory=list)
    resend: list[int] = field(default_factory=list)
    rejected: dict[int, str] = field(default_factory=dict)
    split: bool = False
    retry_after: float | None = None
    request_id: str | None = None
    error: str | None = None
    cause: str | None = None

    @property
    def ok(self) -> bool:
        """Whether every event was accepted."""
        return not (self.retry or self.resend or self.rejected or self.split)


@runtime_checkable
class Provider(Protocol):
    """The interface the delivery worker drives; implement it to add a destination.

    Examples:
        >>> from unified_health.analytics.testing import RecordingProvider
        >>> isinstance(RecordingProvider(), Provider)
        True
    """

    name: str
    categories: frozenset[str]
    limits: ProviderLimits
    max_retries: int

    def encode(self, event: OutboundEvent) -> bytes | None:
        """Return the vendor JSON of one event, or ``None`` if the vendor has no such call."""
        ...

    def deliver(self, parts: list[bytes], *, timeout: float) -> SendResult:
        """Send encoded events in one request and report per event."""
        ...

    def backoff(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait before attempt ``attempt + 1``."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait (injectable; tests pass a fake clock's sleep)."""
        ...

    def close(self) -> None:
        """Release connections the provider opened."""
        ...

    def reset_after_fork(self) -> None:
        """Drop connections inherited from a parent process."""
        ...


@runtime_checkable
class RoutedProvider(Provider, Protocol):
    """A provider whose events go to several endpoints (one endpoint per request).

    The delivery worker calls `encode_routed` instead of `encode`, keeps one batch per route
    within that route's `limits_for`, and passes the route back to `deliver`.

    Examples:
        >>> from unified_health.analytics import MixpanelProvider
        >>> isinstance(MixpanelProvider("1", "secret"), RoutedProvider)
        True
    """

    def encode_routed(self, event: OutboundEvent) -> tuple[str, bytes] | None:
        """Return ``(route, vendor JSON)`` of one event, or ``None`` if it cannot be sent."""
        ...

    def limits_for(self, route: str) -> ProviderLimits:
        """The vendor's limits for one request to ``route``."""
        ...

    def deliver(
        self, parts: list[bytes], *, timeout: float, route: str | None = None
    ) -> SendResult:
        """Send encoded events of one route in one request and report per event."""
        ...


def _unserialisable(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


_C_ENCODER: Any = getattr(json.encoder, "c_make_encoder", None)
# One C encoder built once (``json.dumps`` with options builds a new encoder per call). Values
# reaching it were rebuilt by the property rules, so they hold no cycles and no custom objects.
_ITERENCODE: Any = (
    _C_ENCODER(
        None, _unserialisable, json.encoder.encode_basestring, None, ":", ",", False, False, True
    )
    if _C_ENCODER is not None
    else None
)
#: A JSON string literal (quotes included) for ``value``.
quote: Callable[[str], str] = json.encoder.encode_basestring


def dumps(value: Any) -> bytes:
    """Compact JSON bytes (UTF-8, non-ASCII kept as is).

    Examples:
        >>> dumps({"a": [1, "é"]}).decode()
        '{"a":[1,"é"]}'
    """
    if _ITERENCODE is not None:
        return "".join(_ITERENCODE(value, 0)).encode()
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def parse_retry_after(value: str | None, clock: Clock) -> float | None:
    """Parse a Retry-After header (seconds, or an HTTP date measured from ``clock``).

    Examples:
        >>> parse_retry_after("2", SystemClock())
        2.0
        >>> from unified_health.analytics.testing import FakeClock
        >>> parse_retry_after("Mon, 05 Jan 2026 09:00:30 GMT", FakeClock())
        30.0
    """
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - clock.now().timestamp()
    return min(max(seconds, 0.0), _MAX_RETRY_AFTER)


def transport_cause(exc: BaseException) -> str:
    """Which network step failed: ``dns``, ``connect``, ``timeout`` or ``transport``.

    Examples:
        >>> transport_cause(httpx.ConnectTimeout("timed out"))
        'timeout'
        >>> transport_cause(httpx.ConnectError("connection refused"))
        'connect'
    """
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    seen: BaseException | None = exc
    for _ in range(8):  # the chain from httpx down to the socket error
        if seen is None:
            break
        if isinstance(seen, socket.gaierror):
            return "dns"
        seen = seen.__cause__ or seen.__context__
    if isinstance(exc, httpx.ConnectError):
        return "connect"
    return "transport"


def check_categories(categories: Iterable[str]) -> frozenset[str]:
    """Validate a provider's consent categories (non-empty strings)."""
    found: frozenset[object] = frozenset(categories)
    if not found or not all(isinstance(c, str) and c for c in found):
        raise InvalidInputError("categories", "must name at least one consent category")
    return frozenset(str(c) for c in found)


class HttpProvider(abc.ABC):
    """Shared machinery of the vendor providers: hosts, auth, gzip, status mapping, backoff.

    Subclasses set ``name``, ``REGIONS``, ``limits`` and implement `encode`, `_url`,
    `_envelope` and (where the vendor reports per event) `_bad_request`.

    Examples:
        >>> from unified_health.analytics import PostHogProvider
        >>> provider = PostHogProvider("phc_test", region="eu")
        >>> provider.base_url, provider.limits.max_events_per_request
        ('https://eu.i.posthog.com', 2000)
        >>> provider.close()
    """

    name: str = "http"
    REGIONS: ClassVar[Mapping[str, str]] = {}
    limits: ProviderLimits
    gzip_body: bool = True

    def __init__(
        self,
        *,
        region: str,
        categories: Iterable[str],
        base_url: str | None,
        http_client: httpx.Client | None,
        transport: httpx.BaseTransport | None,
        timeout: float,
        max_retries: int,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        sleep: Callable[[float], None] | None = None,
        clock: Clock | None = None,
        seed: int | None = None,
    ) -> None:
        if region not in self.REGIONS:
            raise InvalidInputError("region", f"must be one of: {', '.join(sorted(self.REGIONS))}")
        if timeout <= 0:
            raise InvalidInputError("timeout", "must be positive")
        if max_retries < 0:
            raise InvalidInputError("max_retries", "must not be negative")
        self.region = region
        self.categories = check_categories(categories)
        self.base_url = (base_url or f"https://{self.REGIONS[region]}").rstrip("/")
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self._sleep = sleep
        if clock is not None and not isinstance(clock, Clock):
            raise InvalidInputError("clock", "must be a Clock (now() and monotonic())")
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._wake = threading.Event()
        self._rng = random.Random(seed)  # noqa: S311 - jitter, not security
        self._transport = transport
        self._owns_client = http_client is None
        self._client = http_client if http_client is not None else self._new_client()

    def _new_client(self) -> httpx.Client:
        return httpx.Client(
            transport=self._transport,
            timeout=self.timeout,
            headers={"User-Agent": USER_AGENT},
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(region={self.region!r}, base_url={self.base_url!r})"

    # -- what subclasses provide ---------------------------------------------------------------
    @abc.abstractmethod
    def encode(self, event: OutboundEvent) -> bytes | None:
        """Return the vendor JSON of one event, or ``None`` if the vendor has no such call."""

    @abc.abstractmethod
    def _url(self) -> str:
        """The ingestion endpoint."""

    @abc.abstractmethod
    def _envelope(self, parts: list[bytes]) -> bytes:
        """The request body around the encoded events."""

    def _auth(self) -> httpx.Auth | None:
        return None

    def _bad_request(self, body: Any, count: int) -> SendResult:
        """A 400 that names no event: halve the batch to find the bad ones."""
        if count > 1:
            return SendResult(400, split=True, error="bad request")
        return SendResult(400, rejected={0: DropReason.REJECTED_BY_VENDOR}, error="bad request")

    def _success(self, body: Any, count: int) -> SendResult:
        return SendResult(200, accepted=list(range(count)))

    # -- shared --------------------------------------------------------------------------------
    def deliver(
        self, parts: list[bytes], *, timeout: float, route: str | None = None
    ) -> SendResult:
        """POST the encoded events in one request and map the answer per event."""
        return self._post(
            self._url(), self._envelope(parts), len(parts), timeout=timeout,
            gzip_body=self.gzip_body, auth=self._auth(),
        )  # fmt: skip

    def _post(
        self,
        url: str,
        body: bytes,
        count: int,
        *,
        timeout: float,
        gzip_body: bool,
        auth: httpx.Auth | None,
        success: Callable[[Any, int], SendResult] | None = None,
    ) -> SendResult:
        """POST one request body and map the answer per event (``success``: the class's)."""
        headers = {"Content-Type": "application/json"}
        if gzip_body:
            body = gzip.compress(body, compresslevel=1)
            headers["Content-Encoding"] = "gzip"
        try:
            response = self._client.post(
                url,
                content=body,
                headers=headers,
                auth=auth or httpx.USE_CLIENT_DEFAULT,
                timeout=max(min(timeout, self.timeout), 0.01),
            )
        except httpx.TransportError as exc:  # timeouts included
            return SendResult(
                None, retry=list(range(count)), error=type(exc).__name__,
                cause=transport_cause(exc),
            )  # fmt: skip
        return self._interpret(response, count, success=success)

    def _interpret(
        self,
        response: httpx.Response,
        count: int,
        *,
        success: Callable[[Any, int], SendResult] | None = None,
    ) -> SendResult:
        status = response.status_code
        request_id = next(
            (response.headers[h] for h in _REQUEST_ID_HEADERS if h in response.headers), None
        )
        try:
            body: Any = response.json()
        except ValueError:
            body = None
        everyone = list(range(count))
        if 200 <= status < 300:
            result = (success or self._success)(body, count)
        elif status == 400:
            result = self._bad_request(body, count)
        elif status in (401, 403):
            result = SendResult(status, rejected=dict.fromkeys(everyone, DropReason.UNAUTHORIZED))
            result.error = "unauthorized"
        elif status == 413:
            result = (
                SendResult(status, split=True, error="payload too large")
                if count > 1
                else SendResult(status, rejected={0: DropReason.OVERSIZED}, error="too large")
            )
        elif status in (408, 429) or status >= 500:
            result = self._retryable(body, count, status)
            result.retry_after = parse_retry_after(response.headers.get("Retry-After"), self._clock)
        else:
            result = SendResult(
                status, rejected=dict.fromkeys(everyone, DropReason.REJECTED_BY_VENDOR)
            )
            result.error = f"status {status}"
        result.status_code = status
        result.request_id = request_id
        return result

    def _retryable(self, body: Any, count: int, status: int) -> SendResult:
        return SendResult(status, retry=list(range(count)), error=f"status {status}")

    def backoff(self, attempt: int, retry_after: float | None) -> float:
        """Exponential backoff with jitter, never shorter than the vendor's Retry-After."""
        delay = min(self.backoff_cap, self.backoff_base * (2**attempt))
        delay *= 0.5 + self._rng.random() / 2
        return float(max(delay, retry_after or 0.0))

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` (the injected sleep, or an interruptible wait)."""
        if self._sleep is not None:
            self._sleep(seconds)
        elif self._wake.wait(seconds):
            self._wake.clear()

    def interrupt(self) -> None:
        """Cut a running default `sleep` short (used at shutdown)."""
        self._wake.set()

    def close(self) -> None:
        """Close the HTTP client if the provider created it."""
        if self._owns_client:
            self._client.close()

    def reset_after_fork(self) -> None:
        """Open a fresh HTTP client in a forked child (sockets must not be shared)."""
        self._wake = threading.Event()
        if self._owns_client:
            self._client = self._new_client()


def indices(body: Any, *names: str) -> set[int]:
    """Collect event indices from vendor error fields shaped ``{field: [indices]}``."""
    found: set[int] = set()
    if not isinstance(body, dict):
        return found
    for name in names:
        value = body.get(name)
        if isinstance(value, dict):
            for idx_list in value.values():
                if isinstance(idx_list, list):
                    found.update(i for i in idx_list if isinstance(i, int))
        elif isinstance(value, list):
            found.update(i for i in value if isinstance(i, int))
    return found
