"""Exact money: integer minor units and an ISO 4217 currency, never ``float``.

Stripe states every amount in the currency's smallest unit. How many digits that unit has is a
property of the currency *as Stripe uses it*, which is not always the ISO 4217 exponent:

- zero-decimal currencies (``jpy``, ``krw``, ``clp``, ...): ``500`` means 500 yen;
- three-decimal currencies (``bhd``, ``jod``, ``kwd``, ``omr``, ``tnd``): ``5120`` means
  5.120 dinar, and charge amounts must end in 0;
- special cases: ``isk`` keeps a two-decimal representation whose decimals are always ``00``;
  ``huf`` and ``twd`` are two-decimal but payouts must be whole units (divisible by 100);
  ``ugx`` is zero-decimal.

`Decimal` appears only when an amount is shown to a person (`to_decimal`, `format_money`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from unified_health.billing._errors import InvalidInputError

__all__ = [
    "CURRENCIES",
    "CurrencyInfo",
    "Money",
    "currency_info",
    "format_money",
    "parse_amount",
    "to_decimal",
]


@dataclass(frozen=True, slots=True)
class CurrencyInfo:
    """How Stripe writes amounts of one currency.

    Attributes:
        code: The lower-case ISO 4217 code, as Stripe spells it.
        exponent: Digits after the decimal point in Stripe's minor unit.
        charge_step: Charge amounts must be a multiple of this (10 for three-decimal currencies,
            100 for ``isk``, else 1).
        payout_step: Payout amounts must be a multiple of this (100 for ``huf``, ``twd`` and
            ``isk``, 10 for three-decimal currencies, else 1).

    Examples:
        >>> currency_info("KWD")
        CurrencyInfo(code='kwd', exponent=3, charge_step=10, payout_step=10)
    """

    code: str
    exponent: int
    charge_step: int = 1
    payout_step: int = 1


def _codes(text: str) -> list[str]:
    return sorted(text.split())


_ZERO_DECIMAL = _codes("bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf")
_THREE_DECIMAL = _codes("bhd jod kwd omr tnd")
_TWO_DECIMAL = _codes(
    "aed afn all amd ang aoa ars aud awg azn bam bbd bdt bgn bmd bnd bob brl bsd bwp byn "
    "bzd cad cdf chf cny cop crc cve czk dkk dop dzd egp etb eur fjd fkp gbp gel gip gmd "
    "gtq gyd hkd hnl htg idr ils inr jmd kes kgs khr kyd kzt lak lbp lkr lrd lsl mad mdl "
    "mkd mmk mnt mop mur mvr mwk mxn myr mzn nad ngn nio nok npr nzd pab pen pgk php pkr "
    "pln qar ron rsd rub sar sbd scr sek sgd shp sle sos srd std szl thb tjs top try ttd "
    "tzs uah usd uyu uzs wst xcd yer zar zmw"
)

CURRENCIES: dict[str, CurrencyInfo] = {
    **{code: CurrencyInfo(code, 0) for code in _ZERO_DECIMAL},
    **{code: CurrencyInfo(code, 3, 10, 10) for code in _THREE_DECIMAL},
    **{code: CurrencyInfo(code, 2) for code in _TWO_DECIMAL},
    "isk": CurrencyInfo("isk", 2, 100, 100),
    "huf": CurrencyInfo("huf", 2, 1, 100),
    "twd": CurrencyInfo("twd", 2, 1, 100),
}
"""Every currency the package knows, by lower-case code."""


def currency_info(code: str) -> CurrencyInfo:
    """Return how Stripe writes amounts of ``code`` (any case).

    Args:
        code: An ISO 4217 currency code.

    Returns:
        The currency's entry in `CURRENCIES`.

    Raises:
        InvalidInputError: ``code`` is not a str or not a known currency.

    Examples:
        >>> currency_info("jpy").exponent
        0
        >>> currency_info("isk").charge_step
        100
    """
    given: object = code
    if not isinstance(given, str):
        raise InvalidInputError("currency", "must be a str")
    info = CURRENCIES.get(code.lower())
    if info is None:
        raise InvalidInputError("currency", "must be a known ISO 4217 currency code")
    return info


@dataclass(frozen=True, slots=True, order=True)
class Money:
    """An exact amount: integer minor units of one currency.

    Args:
        amount: Minor units (cents for ``usd``, yen for ``jpy``, fils for ``kwd``); an ``int``,
            never a ``float`` or a ``bool``.
        currency: ISO 4217 code, any case; stored lower-case.

    Raises:
        InvalidInputError: A float, bool or non-int amount, or an unknown currency.

    Examples:
        >>> Money(1050, "USD")
        Money(amount=1050, currency='usd')
        >>> Money(1050, "usd") + Money(25, "usd")
        Money(amount=1075, currency='usd')
        >>> str(Money(5120, "kwd"))
        '5.120 KWD'
    """

    amount: int
    currency: str

    def __post_init__(self) -> None:
        given: object = self.amount
        if isinstance(given, bool) or not isinstance(given, int):
            raise InvalidInputError("amount", "must be an int of minor units (never a float)")
        object.__setattr__(self, "currency", currency_info(self.currency).code)

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise InvalidInputError("other", "must be Money")
        if other.currency != self.currency:
            raise InvalidInputError("currency", "amounts in different currencies do not add")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __str__(self) -> str:
        return format_money(self.amount, self.currency)


def to_decimal(amount: int, currency: str) -> Decimal:
    """Return ``amount`` minor units as a `Decimal` in major units, for display only.

    Args:
        amount: Minor units.
        currency: The currency code.

    Returns:
        The exact decimal value, with the currency's number of places.

    Raises:
        InvalidInputError: ``amount`` is not an int, or the currency is unknown.

    Examples:
        >>> to_decimal(1999, "usd")
        Decimal('19.99')
        >>> to_decimal(500, "jpy")
        Decimal('500')
        >>> to_decimal(-5, "bhd")
        Decimal('-0.005')
    """
    given: object = amount
    if isinstance(given, bool) or not isinstance(given, int):
        raise InvalidInputError("amount", "must be an int of minor units (never a float)")
    return Decimal(amount).scaleb(-currency_info(currency).exponent)


def format_money(amount: int, currency: str) -> str:
    """Format ``amount`` minor units for a person: ``"19.99 USD"``.

    Args:
        amount: Minor units.
        currency: The currency code.

    Returns:
        The amount in major units with the currency's places, then the upper-case code.

    Raises:
        InvalidInputError: ``amount`` is not an int, or the currency is unknown.

    Examples:
        >>> format_money(123456, "eur")
        '1234.56 EUR'
        >>> format_money(7, "krw")
        '7 KRW'
    """
    return f"{to_decimal(amount, currency)} {currency_info(currency).code.upper()}"


def parse_amount(text: str, currency: str) -> int:
    """Parse a decimal string in major units (``"19.99"``) into exact minor units.

    Args:
        text: The amount as written by a person or a CSV export; no float is involved.
        currency: The currency code; decides how many places are allowed.

    Returns:
        Minor units.

    Raises:
        InvalidInputError: Not a decimal number, or more places than the currency has.

    Examples:
        >>> parse_amount("19.99", "usd")
        1999
        >>> parse_amount("5.12", "kwd")
        5120
        >>> try:
        ...     parse_amount("0.001", "usd")
        ... except InvalidInputError as err:
        ...     print(err.rule)
        has more decimal places than the currency allows
    """
    info = currency_info(currency)
    given: object = text
    if not isinstance(given, str):
        raise InvalidInputError("amount", "must be a decimal str")
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise InvalidInputError("amount", "must be a decimal number") from None
    if not value.is_finite():
        raise InvalidInputError("amount", "must be a finite decimal number")
    scaled = value.scaleb(info.exponent)
    if scaled != scaled.to_integral_value():
        raise InvalidInputError("amount", "has more decimal places than the currency allows")
    return int(scaled)
