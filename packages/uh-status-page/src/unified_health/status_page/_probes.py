"""Synthetic probes: HTTP(S), TLS certificate facts, TCP connect and DNS resolution.

A probe is a frozen, strictly validated configuration (`HttpProbe`, `TlsProbe`, `TcpProbe`,
`DnsProbe`); `ProbeRunner` runs one and returns a `ProbeResult`. Probes are a best-effort path:
running one never raises for a network failure, it returns a failed result naming what failed
(``timeout``, ``connect``, ``status``, ``body``, ``header``, ``latency``, ``tls_expired``, ...).

TLS facts are read even from a certificate that fails verification: the runner first tries a
verifying handshake, and if verification fails it connects again without verifying to read the
certificate, so an expired or self-signed certificate still reports its expiry, issuer and
whether it covers the host.
"""

from __future__ import annotations

import concurrent.futures
import ipaddress
import socket
import ssl
import threading
from collections.abc import Mapping
from datetime import datetime
from types import TracebackType
from typing import Annotated, Any, Literal

import httpx
from cryptography import x509
from cryptography.x509.oid import ExtensionOID, NameOID
from pydantic import Field, model_validator

from unified_health.status_page._clock import Clock, SystemClock
from unified_health.status_page._errors import InvalidInputError
from unified_health.status_page._logging import logger
from unified_health.status_page._models import FrozenModel

__all__ = [
    "DnsProbe",
    "HttpProbe",
    "Probe",
    "ProbeResult",
    "ProbeRunner",
    "TcpProbe",
    "TlsProbe",
    "parse_probe",
]

_NAME = r"^[a-z0-9][a-z0-9_.-]{0,62}$"


class _ProbeBase(FrozenModel):
    name: Annotated[str, Field(pattern=_NAME)]
    component: str | None = Field(default=None, min_length=1, max_length=255)
    incident_group: str | None = Field(default=None, pattern=_NAME)
    interval: float = Field(default=30.0, gt=0, le=86400)
    timeout: float = Field(default=10.0, gt=0)

    @model_validator(mode="after")
    def _timeout_below_interval(self) -> _ProbeBase:
        if self.timeout >= self.interval:
            raise ValueError("timeout must be below interval")
        return self


class HttpProbe(_ProbeBase):
    """An HTTP(S) request whose status, latency, body and headers must meet conditions.

    Attributes:
        name: The probe's id (lower case letters, digits, ``_.-``).
        url: The URL to request.
        component: The status-page component this probe reports on.
        incident_group: Probes sharing a group open one incident together (default: the
            component).
        interval: Seconds between the starts of two runs (30 by default).
        timeout: Seconds a run may take; must be below ``interval`` (10 by default).
        method: ``GET`` or ``HEAD``.
        expect_status: Accepted status codes (any 2xx and 3xx by default).
        body_contains: Text the body must contain.
        body_excludes: Text the body must not contain.
        headers: Headers that must be present with exactly these values.
        max_latency: Seconds above which the run counts as failed.
        verify_tls: Verify the server's certificate.
        ca_file: A CA bundle to verify against (a private CA).

    Examples:
        >>> probe = HttpProbe(name="api", url="https://api.example.org/health", component="API")
        >>> (probe.interval, probe.timeout)
        (30.0, 10.0)
        >>> try:
        ...     HttpProbe(name="api", url="https://x", interval=5, timeout=5)
        ... except InvalidInputError as err:
        ...     print(err.rule)
        Value error, timeout must be below interval
    """

    kind: Literal["http"] = "http"
    url: Annotated[str, Field(pattern=r"^https?://[^\s]+$", max_length=2000)]
    method: Literal["GET", "HEAD"] = "GET"
    expect_status: tuple[int, ...] = tuple(range(200, 400))
    body_contains: str | None = None
    body_excludes: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    max_latency: float | None = Field(default=None, gt=0)
    verify_tls: bool = True
    ca_file: str | None = None


class TlsProbe(_ProbeBase):
    """A TLS handshake that reports certificate facts and fails when expiry is near.

    Attributes:
        name: The probe's id.
        host: Host to connect to.
        port: Port (443 by default).
        server_name: Name to send (SNI) and check the certificate against (``host`` by default).
        min_days: Fewer days to expiry than this fails the probe (14 by default).
        ca_file: A CA bundle to verify against.

    Examples:
        >>> TlsProbe(name="cert", host="api.example.org").min_days
        14
    """

    kind: Literal["tls"] = "tls"
    host: str = Field(min_length=1, max_length=255)
    port: int = Field(default=443, ge=1, le=65535)
    server_name: str | None = None
    min_days: int = Field(default=14, ge=0)
    ca_file: str | None = None


class TcpProbe(_ProbeBase):
    """A TCP connect.

    Examples:
        >>> TcpProbe(name="db", host="127.0.0.1", port=5432).port
        5432
    """

    kind: Literal["tcp"] = "tcp"
    host: str = Field(min_length=1, max_length=255)
    port: int = Field(ge=1, le=65535)


class DnsProbe(_ProbeBase):
    """A name resolution, optionally expecting given addresses among the answers.

    Examples:
        >>> DnsProbe(name="dns", hostname="localhost").expect_addresses
        ()
    """

    kind: Literal["dns"] = "dns"
    hostname: str = Field(min_length=1, max_length=253)
    expect_addresses: tuple[str, ...] = ()


Probe = HttpProbe | TlsProbe | TcpProbe | DnsProbe
"""Any probe configuration."""

_KINDS: dict[str, type[HttpProbe] | type[TlsProbe] | type[TcpProbe] | type[DnsProbe]] = {
    "http": HttpProbe,
    "tls": TlsProbe,
    "tcp": TcpProbe,
    "dns": DnsProbe,
}


def parse_probe(data: Mapping[str, Any], *, index: int | None = None) -> Probe:
    """Build a probe from a mapping (a config file entry) with a ``kind`` key.

    Args:
        data: The fields, including ``kind`` (``http``, ``tls``, ``tcp`` or ``dns``).
        index: Position in a list, for error field names (``probes.3.url``).

    Returns:
        The probe.

    Raises:
        InvalidInputError: Unknown kind or a field broke a rule (lists become tuples).

    Examples:
        >>> parse_probe({"kind": "tcp", "name": "db", "host": "127.0.0.1", "port": 5432}).kind
        'tcp'
    """
    prefix = "probes" if index is None else f"probes.{index}"
    if not isinstance(data, Mapping):
        raise InvalidInputError(prefix, "must be a mapping")
    kind = data.get("kind")
    if kind not in _KINDS:
        raise InvalidInputError(f"{prefix}.kind", "must be one of: " + ", ".join(_KINDS))
    fields: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
    try:
        return _KINDS[str(kind)](**fields)
    except InvalidInputError as exc:
        raise InvalidInputError(f"{prefix}.{exc.field}", exc.rule) from None


class ProbeResult(FrozenModel):
    """The outcome of one probe run.

    Attributes:
        probe: The probe's name.
        success: Whether every condition held.
        started_at: When the run started (aware UTC).
        duration: Seconds the run took.
        failure: What failed (``timeout``, ``connect``, ``status``, ...), ``None`` on success.
        status_code: The HTTP status, for HTTP probes that got an answer.
        facts: What the probe learnt (TLS: ``days_to_expiry``, ``expires_at``, ``self_signed``,
            ``hostname_matches``, ``verified``, ``verify_error``; DNS: ``addresses``).

    Examples:
        >>> from datetime import UTC, datetime
        >>> ProbeResult(probe="api", success=False, started_at=datetime(2026, 1, 5, tzinfo=UTC),
        ...             duration=10.0, failure="timeout").failure
        'timeout'
    """

    probe: str
    success: bool
    started_at: datetime
    duration: float = Field(ge=0)
    failure: str | None = None
    status_code: int | None = None
    facts: dict[str, Any] = Field(default_factory=dict)


def _names_in(cert: x509.Certificate) -> list[str]:
    try:
        extension = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
    except x509.ExtensionNotFound:
        common = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        return [str(a.value) for a in common]
    names: x509.SubjectAlternativeName = extension.value  # type: ignore[assignment]
    dns = [str(n) for n in names.get_values_for_type(x509.DNSName)]
    ips = [str(n) for n in names.get_values_for_type(x509.IPAddress)]
    return dns + ips


def _hostname_matches(cert: x509.Certificate, host: str) -> bool:
    """Whether the certificate covers ``host`` (SAN DNS names with one-label wildcards, or IPs)."""
    host = host.lower().rstrip(".")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    for name in _names_in(cert):
        name = name.lower().rstrip(".")
        if address is not None:
            if name == str(address):
                return True
            continue
        if name == host:
            return True
        if name.startswith("*.") and "." in host and host.split(".", 1)[1] == name[2:]:
            return True
    return False


class ProbeRunner:
    """Runs probes; owns the HTTP clients it makes and closes them in `close`.

    Args:
        clock: Measures latency and stamps results.
        http_client: An ``httpx.Client`` for HTTP probes that use default TLS settings (never
            closed by the runner).

    Examples:
        >>> with ProbeRunner() as runner:
        ...     runner.run(TcpProbe(name="closed", host="127.0.0.1", port=1, timeout=0.5)).failure
        'connect'
    """

    def __init__(self, *, clock: Clock | None = None, http_client: httpx.Client | None = None):
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._given = http_client
        self._clients: dict[tuple[bool, str | None], httpx.Client] = {}
        self._lock = threading.Lock()
        self._dns = concurrent.futures.ThreadPoolExecutor(max_workers=4)

    def run(self, probe: Probe) -> ProbeResult:
        """Run one probe; never raises for a network failure.

        Args:
            probe: The probe.

        Returns:
            Its result.
        """
        started_at = self._clock.now()
        began = self._clock.monotonic()
        try:
            if isinstance(probe, HttpProbe):
                outcome = self._http(probe)
            elif isinstance(probe, TlsProbe):
                outcome = self._tls(probe, started_at)
            elif isinstance(probe, TcpProbe):
                outcome = self._tcp(probe)
            else:
                outcome = self._dns_lookup(probe)
        except (OSError, httpx.HTTPError, concurrent.futures.TimeoutError, ValueError) as exc:
            error = "timeout" if _is_timeout(exc) else "connect"
            outcome = (error, None, {"error_class": type(exc).__name__})
        failure, status_code, facts = outcome
        duration = max(self._clock.monotonic() - began, 0.0)
        limit = probe.max_latency if isinstance(probe, HttpProbe) else None
        if failure is None and limit is not None and duration > limit:
            failure = "latency"
        if failure is not None:
            logger.debug("probe_failed", probe=probe.name, failure=failure)
        return ProbeResult(
            probe=probe.name,
            success=failure is None,
            started_at=started_at,
            duration=duration,
            failure=failure,
            status_code=status_code,
            facts=facts,
        )

    def _client_for(self, probe: HttpProbe) -> httpx.Client:
        if self._given is not None and probe.verify_tls and probe.ca_file is None:
            return self._given
        key = (probe.verify_tls, probe.ca_file)
        with self._lock:
            if key not in self._clients:
                verify: ssl.SSLContext | bool
                if not probe.verify_tls:
                    verify = False
                else:
                    verify = ssl.create_default_context(cafile=probe.ca_file)
                self._clients[key] = httpx.Client(verify=verify, follow_redirects=False)
            return self._clients[key]

    def _http(self, probe: HttpProbe) -> tuple[str | None, int | None, dict[str, Any]]:
        response = self._client_for(probe).request(probe.method, probe.url, timeout=probe.timeout)
        facts: dict[str, Any] = {"http_version": response.http_version}
        if response.status_code not in probe.expect_status:
            return "status", response.status_code, facts
        text = response.text if probe.method == "GET" else ""
        if probe.body_contains is not None and probe.body_contains not in text:
            return "body", response.status_code, facts
        if probe.body_excludes is not None and probe.body_excludes in text:
            return "body", response.status_code, facts
        for header, value in probe.headers.items():
            if response.headers.get(header) != value:
                return "header", response.status_code, facts
        return None, response.status_code, facts

    def _certificate(self, probe: TlsProbe, name: str, *, verify: bool) -> tuple[bytes, str | None]:
        context = ssl.create_default_context(cafile=probe.ca_file)
        if not verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        with (
            socket.create_connection((probe.host, probe.port), timeout=probe.timeout) as raw,
            context.wrap_socket(raw, server_hostname=name) as tls,
        ):
            der = tls.getpeercert(binary_form=True)
            return (der or b""), tls.version()

    def _tls(self, probe: TlsProbe, now: datetime) -> tuple[str | None, int | None, dict[str, Any]]:
        name = probe.server_name or probe.host
        verify_error: str | None = None
        try:
            der, version = self._certificate(probe, name, verify=True)
        except ssl.SSLCertVerificationError as exc:
            verify_error = str(exc.verify_message or "verification failed")
            der, version = self._certificate(probe, name, verify=False)
        cert = x509.load_der_x509_certificate(der)
        expires = cert.not_valid_after_utc
        days = (expires - now).total_seconds() / 86400
        facts: dict[str, Any] = {
            "expires_at": expires.isoformat(),
            "days_to_expiry": round(days, 3),
            "expired": days < 0,
            "not_yet_valid": cert.not_valid_before_utc > now,
            "self_signed": cert.issuer == cert.subject,
            "hostname_matches": _hostname_matches(cert, name),
            "verified": verify_error is None,
            "verify_error": verify_error,
            "tls_version": version,
        }
        if days < 0:
            return "tls_expired", None, facts
        if not facts["hostname_matches"]:
            return "tls_hostname", None, facts
        if verify_error is not None:
            return "tls_self_signed" if facts["self_signed"] else "tls_untrusted", None, facts
        if days < probe.min_days:
            return "tls_expiring", None, facts
        return None, None, facts

    def _tcp(self, probe: TcpProbe) -> tuple[str | None, int | None, dict[str, Any]]:
        with socket.create_connection((probe.host, probe.port), timeout=probe.timeout):
            return None, None, {}

    def _dns_lookup(self, probe: DnsProbe) -> tuple[str | None, int | None, dict[str, Any]]:
        future = self._dns.submit(socket.getaddrinfo, probe.hostname, None)
        answers = future.result(timeout=probe.timeout)
        addresses = sorted({str(a[4][0]) for a in answers})
        facts: dict[str, Any] = {"addresses": addresses}
        if not addresses:
            return "dns_empty", None, facts
        if probe.expect_addresses and not set(probe.expect_addresses) <= set(addresses):
            return "dns_mismatch", None, facts
        return None, None, facts

    def close(self) -> None:
        """Close the HTTP clients the runner made (an injected one stays open)."""
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()
        self._dns.shutdown(wait=False)

    def __enter__(self) -> ProbeRunner:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _is_timeout(exc: BaseException) -> bool:
    return isinstance(
        exc,
        httpx.TimeoutException | socket.timeout | TimeoutError | concurrent.futures.TimeoutError,
    )
