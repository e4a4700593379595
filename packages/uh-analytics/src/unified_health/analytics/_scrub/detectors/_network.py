"""IP addresses (v4 and v6), MAC addresses and geographic points.

An IPv4 address right after a ``/`` or a letter (``Chrome/131.0.0.0``) is a version number, and
loopback or unspecified addresses name no one; both pass.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator

from unified_health.analytics._scrub._view import Finding, ScanView

__all__ = ["NetworkDetector"]

_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4 = re.compile(rf"(?<![\w./:-]){_OCTET}(?:\.{_OCTET}){{3}}(?![\w.]*\d)")
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9a-f]{0,4}:){2,7}[0-9a-f]{0,4}(?![\w:])", re.IGNORECASE)
_MAC = re.compile(
    r"(?<![\w:-])(?:[0-9a-f]{2}([:-])[0-9a-f]{2}(?:\1[0-9a-f]{2}){4}"
    r"|[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4})(?![\w:-])",
    re.IGNORECASE,
)
# A point to three or more decimals (about 100 m): "43.6532, -79.3832".
_POINT = re.compile(r"(?<![\d.])-?\d{1,3}\.\d{3,}\s*[,;/ ]\s*-?\d{1,3}\.\d{3,}(?![\d.])")


def _public(address: str) -> bool:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return False
    return not (parsed.is_loopback or parsed.is_unspecified)


class NetworkDetector:
    """Finds IP and MAC addresses.

    Examples:
        >>> from unified_health.analytics import Sanitizer
        >>> Sanitizer().scrub_value("client 203.0.113.7")[0]
        'client [REDACTED:ip_address]'
    """

    category = "ip_address"
    precedence = 15
    free_text_only = False

    def applies(self, view: ScanView) -> bool:
        """Whether the text has the dots or colons an address needs."""
        return view.digits > 0 and ("." in view.text or ":" in view.text or "-" in view.text)

    def find(self, view: ScanView) -> Iterator[Finding]:
        """Every public IP address, MAC address and precise point."""
        text = view.text
        for match in _IPV4.finditer(text):
            if _public(match.group()):
                yield Finding(match.start(), match.end(), self.category)
        if ":" in text:
            for match in _IPV6.finditer(text):
                if match.group().count(":") >= 2 and _public(match.group()):
                    yield Finding(match.start(), match.end(), self.category)
        for match in _MAC.finditer(text):
            yield Finding(match.start(), match.end(), "device_id")
        if "." in text:
            for match in _POINT.finditer(text):
                yield Finding(match.start(), match.end(), "location")
