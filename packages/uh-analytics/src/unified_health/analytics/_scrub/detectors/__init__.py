"""The built-in detectors, one module each; `default_detectors` lists them in precedence order.

====================  =====================  ==========  ==========================================
module                category               precedence  finds
====================  =====================  ==========  ==========================================
``_urls``             ``url_identifier``     5           id-shaped path segments and query values
``_email``            ``email``              10          addresses in any obfuscation
``_network``          ``ip_address``         15          IPv4/IPv6, MAC (``device_id``), points
                                                         (``location``)
``_dates``            ``personal_date``      20          dates more precise than a year
``_age``              ``age_over_89``        25          ages of 90 and over
``_address``          ``street_address``     30          street addresses and P.O. boxes
``_names``            ``name``               40          names by given name, honorific, role cue
``_numbers``          ``ssn``/``phone``/...  60          digit runs of identifier length
``_tokens``           ``id_number``          65          opaque letter-and-digit tokens
``_pairs``            (the key's category)   70          values under embedded sensitive keys
====================  =====================  ==========  ==========================================
"""

from __future__ import annotations

from unified_health.analytics._scrub._detector import Detector
from unified_health.analytics._scrub.detectors._address import AddressDetector
from unified_health.analytics._scrub.detectors._age import AgeDetector
from unified_health.analytics._scrub.detectors._custom import PatternDetector
from unified_health.analytics._scrub.detectors._dates import DateDetector
from unified_health.analytics._scrub.detectors._email import EmailDetector
from unified_health.analytics._scrub.detectors._names import NameDetector
from unified_health.analytics._scrub.detectors._network import NetworkDetector
from unified_health.analytics._scrub.detectors._numbers import NumberDetector
from unified_health.analytics._scrub.detectors._pairs import PairDetector
from unified_health.analytics._scrub.detectors._tokens import TokenDetector
from unified_health.analytics._scrub.detectors._urls import UrlDetector

__all__ = ["PatternDetector", "default_detectors"]


def default_detectors() -> list[Detector]:
    """A fresh instance of every built-in detector, in precedence order.

    Examples:
        >>> [d.category for d in default_detectors()][:3]
        ['url_identifier', 'email', 'ip_address']
    """
    return [
        UrlDetector(),
        EmailDetector(),
        NetworkDetector(),
        DateDetector(),
        AgeDetector(),
        AddressDetector(),
        NameDetector(),
        NumberDetector(),
        TokenDetector(),
        PairDetector(),
    ]
