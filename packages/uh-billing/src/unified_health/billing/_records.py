"""The records the matching engine compares, and the validation of the host's ledger rows.

Both sides are plain named tuples of ints and strs (amounts in minor units, times in epoch
seconds), so a million of them are cheap to hold and compare. A ledger row that breaks a rule
becomes an `InputIssue` carrying the row's position, the field and the rule, never the value.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Final, NamedTuple

from unified_health.billing._money import CURRENCIES

__all__ = [
    "KINDS",
    "STATUSES",
    "InputIssue",
    "LedgerRecord",
    "StripeRecord",
    "ledger_record",
]

KINDS: Final = frozenset({"payment", "refund", "dispute"})
"""What a record is: a payment (charge or payment intent), a refund or a dispute."""

STATUSES: Final = frozenset({"succeeded", "pending", "failed", "canceled", "open", "won", "lost"})
"""Normalised statuses: payments and refunds use the first four, disputes the last three."""

NO_MONEY_STATUSES: Final = frozenset({"failed", "canceled"})


class StripeRecord(NamedTuple):
    """One Stripe object, reduced to what reconciliation compares.

    Attributes:
        id: Stripe's id (``ch_...``, ``py_...``, ``re_...``, ``dp_...``).
        kind: ``"payment"``, ``"refund"`` or ``"dispute"``.
        amount: Minor units (for a payment: the amount authorised).
        currency: Lower-case ISO code.
        created: Epoch seconds.
        status: Normalised status (see `STATUSES`).
        livemode: Whether the object lives in live mode.
        charge: For a refund or dispute, the charge it belongs to.
        payment_intent: For a payment, its payment intent id, if any.
        reference: The value of the configured metadata key, if any.
        amount_captured: For a payment, the amount captured, if it differs from ``amount``.
        fee: Stripe's fee in minor units, when known.

    Examples:
        >>> StripeRecord("ch_1", "payment", 1999, "usd", 1764000000, "succeeded", True).amount
        1999
    """

    id: str
    kind: str
    amount: int
    currency: str
    created: int
    status: str
    livemode: bool
    charge: str | None = None
    payment_intent: str | None = None
    reference: str | None = None
    amount_captured: int | None = None
    fee: int | None = None


class LedgerRecord(NamedTuple):
    """One row of the host's own books, validated.

    Attributes:
        ref: The ledger's own id for the row.
        kind: ``"payment"``, ``"refund"`` or ``"dispute"``.
        amount: Minor units.
        currency: Lower-case ISO code.
        created: Epoch seconds.
        status: Normalised status (see `STATUSES`).
        stripe_id: The Stripe id the ledger stored, if any (a ``pi_`` id matches its charge).
        reference: The ledger's order id (compared with the Stripe metadata key), if any.
        charge: For a refund or dispute, the Stripe charge it belongs to, if known.
        livemode: The mode the ledger recorded, if any.
        fee: The fee the ledger expects, if any.
        row: The row's position in the source, from 1.

    Examples:
        >>> LedgerRecord("pay-1", "payment", 1999, "usd", 1764000000, "succeeded").stripe_id is None
        True
    """

    ref: str
    kind: str
    amount: int
    currency: str
    created: int
    status: str
    stripe_id: str | None = None
    reference: str | None = None
    charge: str | None = None
    livemode: bool | None = None
    fee: int | None = None
    row: int = 0


class InputIssue(NamedTuple):
    """A ledger row that could not be used: its position, the field and the rule broken.

    Attributes:
        row: The row's position in the source, from 1.
        field: The offending field.
        rule: The rule it broke (never the value, which may be patient data).
        ref: The row's ledger id when it had a usable one.

    Examples:
        >>> InputIssue(7, "amount", "must be an int of minor units, not a float").row
        7
    """

    row: int
    field: str
    rule: str
    ref: str | None = None


_OPTIONAL_STR = ("stripe_id", "reference", "charge")
_KNOWN = frozenset(
    {"id", "type", "amount", "currency", "created", "status", "livemode", "fee", *_OPTIONAL_STR}
)


def _epoch(value: object) -> int | str:
    """Epoch seconds from an aware datetime or an ISO-8601 string with an offset; else a rule."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return "must be an ISO-8601 timestamp with a UTC offset"
    if not isinstance(value, datetime):
        return "must be a timezone-aware datetime"
    if value.tzinfo is None or value.utcoffset() is None:
        return "must be timezone-aware (a naive datetime is ambiguous)"
    return int(value.timestamp())


def _minor_units(value: object, field: str) -> int | str:
    if isinstance(value, bool):
        return "must be an int of minor units, not a bool"
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return "must be an int of minor units, not a float"
    if isinstance(value, str):
        text = value.strip()
        digits = text[1:] if text[:1] == "-" else text
        if digits.isdigit() and digits.isascii():
            return int(text)
        return "must be an integer of minor units (e.g. 1050 for 10.50)"
    return "must be an int of minor units"


def ledger_record(
    row: Mapping[str, object], position: int, *, livemode: bool | None = None
) -> LedgerRecord | InputIssue:
    """Validate one ledger row (a mapping) into a `LedgerRecord`, or say what is wrong with it.

    Fields: ``id``, ``type`` (payment/refund/dispute), ``amount`` (int minor units; a float
    is refused), ``currency``, ``created`` (aware datetime or ISO-8601 with offset), ``status``;
    optional ``stripe_id``, ``reference``, ``charge``, ``livemode`` (bool), ``fee`` (int).
    CSV text is accepted for ints and booleans (``"true"``/``"false"``) since CSV has no types.

    Args:
        row: The row.
        position: Its position in the source, from 1.
        livemode: The mode being reconciled; a row recorded in the other mode is an issue.

    Returns:
        The record, or an `InputIssue` naming the first broken rule.

    Examples:
        >>> from datetime import UTC
        >>> good = {"id": "p1", "type": "payment", "amount": 500, "currency": "USD",
        ...         "created": datetime(2026, 11, 24, 15, tzinfo=UTC), "status": "succeeded"}
        >>> ledger_record(good, 1).currency
        'usd'
        >>> issue = ledger_record({**good, "amount": 5.0}, 2)
        >>> (issue.row, issue.field, issue.rule)
        (2, 'amount', 'must be an int of minor units, not a float')
    """
    given: object = row
    if not isinstance(given, Mapping):
        return InputIssue(position, "$", "must be a mapping")
    ref = row.get("id")
    if not isinstance(ref, str) or not ref.strip():
        return InputIssue(position, "id", "is required (a non-empty str)")
    unknown = sorted(str(key) for key in row if key not in _KNOWN)
    if unknown:
        return InputIssue(position, unknown[0], "unknown field", ref)
    kind = row.get("type")
    if kind not in KINDS:
        return InputIssue(position, "type", "must be one of: dispute, payment, refund", ref)
    amount = _minor_units(row.get("amount"), "amount")
    if isinstance(amount, str):
        return InputIssue(position, "amount", amount, ref)
    currency = row.get("currency")
    code = currency.lower() if isinstance(currency, str) else None
    if code not in CURRENCIES:
        return InputIssue(position, "currency", "must be a known ISO 4217 currency code", ref)
    created = _epoch(row.get("created"))
    if isinstance(created, str):
        return InputIssue(position, "created", created, ref)
    status = row.get("status")
    if status not in STATUSES:
        return InputIssue(position, "status", "must be one of: " + ", ".join(sorted(STATUSES)), ref)
    optional: dict[str, str | None] = {}
    for name in _OPTIONAL_STR:
        value = row.get(name)
        if value is None or value == "":
            optional[name] = None
        elif isinstance(value, str):
            optional[name] = value
        else:
            return InputIssue(position, name, "must be a str", ref)
    mode = row.get("livemode")
    if isinstance(mode, str) and mode in ("true", "false", ""):
        mode = None if mode == "" else mode == "true"
    if mode is not None and not isinstance(mode, bool):
        return InputIssue(position, "livemode", "must be a bool", ref)
    if livemode is not None and mode is not None and mode != livemode:
        wanted = "live" if livemode else "test"
        return InputIssue(
            position, "livemode", f"row is from the other mode ({wanted} expected)", ref
        )
    fee_value = row.get("fee")
    fee: int | None = None
    if fee_value is not None and fee_value != "":
        checked = _minor_units(fee_value, "fee")
        if isinstance(checked, str):
            return InputIssue(position, "fee", checked, ref)
        fee = checked
    return LedgerRecord(
        ref,
        str(kind),
        amount,
        str(code),
        created,
        str(status),
        optional["stripe_id"],
        optional["reference"],
        optional["charge"],
        mode,
        fee,
        position,
    )
