"""Probes against real servers on 127.0.0.1: HTTP(S), TLS certificates, TCP and DNS."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from unified_health.status_page import InvalidInputError
from unified_health.status_page._probes import (
    DnsProbe,
    HttpProbe,
    ProbeRunner,
    TcpProbe,
    TlsProbe,
    parse_probe,
)
from unified_health.status_page.testing import tls_server


@pytest.fixture
def runner() -> Iterator[ProbeRunner]:
    with ProbeRunner() as made:
        yield made


def app(environ: dict[str, Any], start: Any) -> list[bytes]:
    if environ["PATH_INFO"] == "/down":
        start("503 Service Unavailable", [("Content-Type", "text/plain")])
        return [b"maintenance"]
    start("200 OK", [("Content-Type", "application/json"), ("X-Version", "7")])
    return [b'{"status": "ok"}']


def test_http_conditions(runner: ProbeRunner, loopback_server: Any) -> None:
    base = loopback_server(app).url
    ok = runner.run(
        HttpProbe(name="ok", url=f"{base}/health", body_contains='"ok"', headers={"X-Version": "7"})
    )
    assert (ok.success, ok.status_code, ok.failure) == (True, 200, None)
    assert ok.duration >= 0
    down = runner.run(HttpProbe(name="down", url=f"{base}/down"))
    assert (down.success, down.status_code, down.failure) == (False, 503, "status")
    body = runner.run(HttpProbe(name="b", url=f"{base}/health", body_excludes="ok"))
    assert body.failure == "body"
    header = runner.run(HttpProbe(name="h", url=f"{base}/health", headers={"X-Version": "8"}))
    assert header.failure == "header"
    accepted = runner.run(HttpProbe(name="a", url=f"{base}/down", expect_status=(503,)))
    assert accepted.success


def test_a_refused_connection_and_a_timeout_are_failures_not_errors(runner: ProbeRunner) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)  # accepts the TCP connection, never answers HTTP
        port = listener.getsockname()[1]
        slow = runner.run(HttpProbe(name="slow", url=f"http://127.0.0.1:{port}/", timeout=0.3))
    assert (slow.success, slow.failure) == (False, "timeout")
    refused = runner.run(HttpProbe(name="gone", url=f"http://127.0.0.1:{port}/", timeout=0.3))
    assert refused.failure == "connect"


def test_a_valid_certificate_reports_its_expiry(runner: ProbeRunner) -> None:
    with tls_server("valid", days=90) as server:
        result = runner.run(
            TlsProbe(name="cert", host="localhost", port=server.port, ca_file=server.ca_file)
        )
        https = runner.run(HttpProbe(name="https", url=server.url, ca_file=server.ca_file))
    assert result.success, result.facts
    assert 89 < result.facts["days_to_expiry"] <= 90
    assert result.facts["verified"] is True
    assert result.facts["self_signed"] is False
    assert https.success


def test_an_expired_certificate_still_reports_its_facts(runner: ProbeRunner) -> None:
    with tls_server("expired") as server:
        result = runner.run(
            TlsProbe(name="cert", host="localhost", port=server.port, ca_file=server.ca_file)
        )
    assert result.failure == "tls_expired"
    assert result.facts["expired"] is True
    assert -1.01 < result.facts["days_to_expiry"] < -0.99
    assert result.facts["verified"] is False
    assert "expired" in result.facts["verify_error"]
    assert result.facts["hostname_matches"] is True


def test_a_self_signed_certificate_is_named(runner: ProbeRunner) -> None:
    with tls_server("self_signed") as server:
        result = runner.run(
            TlsProbe(name="cert", host="localhost", port=server.port, ca_file=server.ca_file)
        )
        https = runner.run(HttpProbe(name="https", url=server.url, ca_file=server.ca_file))
    assert result.failure == "tls_self_signed"
    assert result.facts["self_signed"] is True
    assert result.facts["days_to_expiry"] > 80
    assert https.failure == "connect"


def test_a_certificate_for_another_host_fails_the_hostname_check(runner: ProbeRunner) -> None:
    with tls_server("wrong_host") as server:
        result = runner.run(
            TlsProbe(name="cert", host="localhost", port=server.port, ca_file=server.ca_file)
        )
    assert result.failure == "tls_hostname"
    assert result.facts["hostname_matches"] is False


def test_a_certificate_near_expiry_fails(runner: ProbeRunner) -> None:
    with tls_server("valid", days=5) as server:
        result = runner.run(
            TlsProbe(
                name="cert", host="localhost", port=server.port, ca_file=server.ca_file, min_days=14
            )
        )
    assert result.failure == "tls_expiring"


def test_tcp_connect(runner: ProbeRunner) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        assert runner.run(TcpProbe(name="tcp", host="127.0.0.1", port=port)).success
    closed = runner.run(TcpProbe(name="tcp", host="127.0.0.1", port=port, timeout=0.5))
    assert closed.failure == "connect"


def test_dns_resolves_localhost(runner: ProbeRunner) -> None:
    result = runner.run(DnsProbe(name="dns", hostname="localhost"))
    assert result.success
    assert "127.0.0.1" in result.facts["addresses"] or "::1" in result.facts["addresses"]
    wrong = runner.run(DnsProbe(name="dns", hostname="localhost", expect_addresses=("10.9.9.9",)))
    assert wrong.failure == "dns_mismatch"
    # A name the resolver refuses before any query leaves the host (a 64-character label).
    unusable = runner.run(DnsProbe(name="dns", hostname="a" * 64 + ".localhost", timeout=5))
    assert unusable.failure == "connect"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "smtp", "name": "x"}, "probes.0.kind"),
        ({"kind": "http", "name": "x", "url": "ftp://x"}, "probes.0.url"),
        ({"kind": "http", "name": "x", "url": "http://x", "timeout": 40}, "probes.0"),
        ({"kind": "http", "name": "Bad Name", "url": "http://x"}, "probes.0.name"),
        ({"kind": "tcp", "name": "x", "host": "h", "port": "80"}, "probes.0.port"),
        ({"kind": "tls", "name": "x", "host": "h", "verify": "yes"}, "probes.0.verify"),
    ],
)
def test_bad_probe_config_names_the_field(data: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse_probe(data, index=0)
    assert caught.value.field.startswith(field)
