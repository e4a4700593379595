from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from unified_health.billing import InvalidInputError
from unified_health.billing._money import (
    CURRENCIES,
    Money,
    currency_info,
    format_money,
    parse_amount,
    to_decimal,
)

CODES = sorted(CURRENCIES)


@pytest.mark.parametrize(
    ("code", "exponent"),
    [("usd", 2), ("jpy", 0), ("krw", 0), ("ugx", 0), ("kwd", 3), ("bhd", 3), ("isk", 2)],
)
def test_exponents_follow_stripe(code: str, exponent: int) -> None:
    assert currency_info(code.upper()).exponent == exponent


def test_special_cases_have_steps() -> None:
    assert currency_info("isk").charge_step == 100
    assert currency_info("huf").payout_step == 100
    assert currency_info("twd").payout_step == 100
    assert currency_info("tnd").charge_step == 10
    assert currency_info("usd").charge_step == 1


@pytest.mark.parametrize("bad", [10.5, True, "10", None])
def test_money_refuses_non_int(bad: object) -> None:
    with pytest.raises(InvalidInputError) as err:
        Money(bad, "usd")  # type: ignore[arg-type]
    assert err.value.field == "amount"


def test_unknown_currency_is_refused() -> None:
    with pytest.raises(InvalidInputError) as err:
        Money(1, "xyz")
    assert err.value.field == "currency"


def test_mixed_currencies_do_not_add() -> None:
    with pytest.raises(InvalidInputError):
        _ = Money(1, "usd") + Money(1, "eur")


@given(st.integers(-(10**15), 10**15), st.sampled_from(CODES))
def test_display_round_trips_exactly(amount: int, code: str) -> None:
    shown = to_decimal(amount, code)
    assert isinstance(shown, Decimal)
    assert parse_amount(str(shown), code) == amount
    assert format_money(amount, code).endswith(code.upper())


@given(st.lists(st.integers(-(10**12), 10**12), min_size=1, max_size=30), st.sampled_from(CODES))
def test_sums_are_exact(amounts: list[int], code: str) -> None:
    total = Money(0, code)
    for amount in amounts:
        total = total + Money(amount, code)
    assert total.amount == sum(amounts)
    assert to_decimal(total.amount, code) == sum((to_decimal(a, code) for a in amounts), Decimal(0))


def test_parse_refuses_extra_places_and_junk() -> None:
    assert parse_amount("100", "jpy") == 100
    with pytest.raises(InvalidInputError):
        parse_amount("1.5", "jpy")
    with pytest.raises(InvalidInputError):
        parse_amount("abc", "usd")
    with pytest.raises(InvalidInputError):
        parse_amount("NaN", "usd")
