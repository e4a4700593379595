"""Digit runs of identifier length, in any grouping: phone, SSN, card, account and record numbers.

A *chain* is a run of digit groups joined by spaces, dashes, dots or parentheses
(``(802) 232-8775``, ``123 45 6789``, ``4111.1111.1111.1111``). A chain of at least 7 digits
is an identifier in any value; in declared free text 5 digits suffice (a year has 4). Chains
that read as quantities are left alone: a decimal number (one dot, ``12345.6``) and a dotted
version (``10.0.19045``, a group of one digit). The category says what the length suggests:
9 digits ``ssn``, 10-11 or a leading ``+`` ``phone``, 13-19 passing the Luhn check
``credit_card``, anything else ``id_number``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from unified_health.analytics._scrub._view import Finding, ScanView

__all__ = ["NumberDetector", "number_category"]

_SEP = r"(?:\s{0,2}[-.]\s{0,2}|\s{1,3}|\s?\(\s?|\s?\)\s?)"
# Not after "Name/": that is a version in a product token ("Gecko/20100101").
_CHAIN = re.compile(rf"(?<![A-Za-z]/)\+?\(?\d+(?:{_SEP}\d+)*")
_GROUP = re.compile(r"\d+")
LABEL_DIGITS = 7
FREE_TEXT_DIGITS = 5


def _luhn(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def number_category(digits: str, plus: bool = False) -> str:
    """The category a run of ``digits`` is reported under.

    Examples:
        >>> number_category("123456789"), number_category("8022328775")
        ('ssn', 'phone')
        >>> number_category("4111111111111111"), number_category("1234567")
        ('credit_card', 'id_number')
    """
    length = len(digits)
    if plus or length in (10, 11):
        return "phone"
    if length == 9:
        return "ssn"
    if 13 <= length <= 19 and _luhn(digits):
        return "credit_card"
    return "id_number"


def _quantity(chain: str, groups: list[str]) -> bool:
    """A decimal number or a dotted version, not an identifier."""
    separators = _GROUP.split(chain.lstrip("+"))[1:-1]
    if not separators or any(sep.strip() != "." for sep in separators):
        return False
    if len(groups) == 2:
        return [len(g) for g in groups] != [3, 4]  # 555.0112 is a local phone number
    return any(len(group) == 1 for group in groups)


class NumberDetector:
    """Finds digit chains of identifier length.

    Examples:
        >>> from unified_health.analytics import Sanitizer
        >>> Sanitizer().scrub_value("call 802 232 87 75")[0]
        'call [REDACTED:phone]'
    """

    category = "id_number"
    precedence = 60
    free_text_only = False

    def applies(self, view: ScanView) -> bool:
        """Whether the text holds enough digits for an identifier."""
        return view.digits >= FREE_TEXT_DIGITS

    def find(self, view: ScanView) -> Iterator[Finding]:
        """Every chain long enough, unless it reads as a quantity."""
        least = FREE_TEXT_DIGITS if view.free_text else LABEL_DIGITS
        for match in _CHAIN.finditer(view.text):
            chain = match.group()
            groups = _GROUP.findall(chain)
            digits = "".join(groups)
            if len(digits) < least or _quantity(chain, groups):
                continue
            yield Finding(match.start(), match.end(), number_category(digits, chain[0] == "+"))
