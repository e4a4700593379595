"""Property tests: scrub never raises, never mutates, always returns JSON, never leaks.

The seeded fuzz builds thousands of events whose free text embeds freshly generated identifiers
(each one valid by its own rules: Luhn, mod-97, check digits, SSN areas) among random words,
numbers and punctuation, and checks that no raw identifier survives.
"""

from __future__ import annotations

import copy
import json
import random
import string
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from unified_health.analytics._sanitize import Sanitizer

SANITIZER = Sanitizer()

# ---------------------------------------------------------------- arbitrary input
_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=60)
    | st.binary(max_size=30)
    | st.sampled_from(["jane@example.com", "555-123-4567", "DOB 01/02/1950", "4111 1111 1111 1111"])
)
_keys = st.text(max_size=20) | st.integers() | st.none() | st.booleans() | st.tuples(st.integers())
_values = st.recursive(
    _scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.tuples(children, children)
        | st.frozensets(st.integers() | st.text(max_size=8), max_size=4)
        | st.dictionaries(_keys, children, max_size=4)
    ),
    max_leaves=25,
)
_events = st.dictionaries(_keys, _values, max_size=10)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_events)
def test_scrub_never_raises_never_mutates_and_returns_json(event: dict[object, object]) -> None:
    before = copy.deepcopy(event)
    result = SANITIZER.scrub(event)  # type: ignore[arg-type]
    assert event == before or _has_nan(before)
    json.dumps(result.properties, allow_nan=False)
    assert all(type(key) is str for key in result.redactions)
    assert all(type(count) is int for count in result.redactions.values())
    assert all(count > 0 for count in result.redactions.values())


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=15), st.text(max_size=80), max_size=6))
def test_scrubbing_twice_changes_nothing_more(event: dict[str, str]) -> None:
    once = SANITIZER.scrub(event)
    twice = SANITIZER.scrub(once.properties)
    assert twice.properties == once.properties
    assert not twice.redactions


@pytest.mark.parametrize(
    ("key", "category"),
    [
        ("ssn_123-45-6789", "ssn"),
        ("note 123-45-6789", "ssn"),
        ("dob_1950-03-14", "date_of_birth"),
        ("callback_555-201-0143", "phone"),
    ],
)
def test_an_identifier_inside_a_key_is_redacted_in_the_key(key: str, category: str) -> None:
    result = SANITIZER.scrub({key: 1})
    (cleaned,) = result.properties
    assert f"[REDACTED:{category}]" in cleaned
    digits = "".join(ch for ch in key if ch.isdigit())
    assert digits not in "".join(ch for ch in cleaned if ch.isdigit())
    assert category in result.redactions


def _has_nan(value: object) -> bool:
    if isinstance(value, float):
        return value != value
    if isinstance(value, dict):
        return any(_has_nan(k) or _has_nan(v) for k, v in value.items())
    if isinstance(value, list | tuple | frozenset | set):
        return any(_has_nan(v) for v in value)
    return False


# ---------------------------------------------------------------- identifier factories
def _luhn_digit(body: str) -> str:
    total = 0
    for index, ch in enumerate(reversed(body)):
        value = int(ch) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return str((10 - total % 10) % 10)


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(n))


def _email(rng: random.Random) -> str:
    local = rng.choice(["jane.doe", "j_smith", "bob+tag", "maria.garcia77", "wei"])
    domain = rng.choice(["example.com", "mail.example.org", "clinic.co.uk", "x.io"])
    return f"{local}{rng.randint(1, 999)}@{domain}"


def _phone(rng: random.Random) -> str:
    a, b, c = rng.randint(201, 989), rng.randint(200, 999), _digits(rng, 4)
    return rng.choice(
        [
            f"({a}) {b}-{c}",
            f"{a}-{b}-{c}",
            f"+1 {a} {b} {c}",
            f"{a}.{b}.{c}",
            f"+44 20 {_digits(rng, 4)} {_digits(rng, 4)}",
            f"+49 30 {_digits(rng, 7)}",
            f"+33 6 {_digits(rng, 2)} {_digits(rng, 2)} {_digits(rng, 2)} {_digits(rng, 2)}",
        ]
    )


def _ssn(rng: random.Random) -> str:
    area = rng.choice([n for n in range(1, 900) if n != 666])
    return f"{area:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"


def _card(rng: random.Random) -> str:
    prefix, length = rng.choice([("4", 16), ("51", 16), ("37", 15), ("6011", 16)])
    body = prefix + _digits(rng, length - len(prefix) - 1)
    number = body + _luhn_digit(body)
    return rng.choice([number, " ".join(number[i : i + 4] for i in range(0, len(number), 4))])


def _iban(rng: random.Random) -> str:
    country, bban = rng.choice([("DE", _digits(rng, 18)), ("GB", "NWBK" + _digits(rng, 14))])
    number = int("".join(str(int(ch, 36)) for ch in bban + country + "00"))
    return f"{country}{98 - number % 97:02d}{bban}"


def _ipv4(rng: random.Random) -> str:
    return ".".join(str(rng.randint(1, 254)) for _ in range(4))


def _mac(rng: random.Random) -> str:
    return rng.choice(":-").join(f"{rng.randint(0, 255):02X}" for _ in range(6))


def _imei(rng: random.Random) -> str:
    body = "35" + _digits(rng, 12)
    return body + _luhn_digit(body)


FACTORIES: dict[str, Callable[[random.Random], str]] = {
    "email": _email,
    "phone": _phone,
    "ssn": _ssn,
    "credit_card": _card,
    "iban": _iban,
    "ip_address": _ipv4,
    "device_id": lambda rng: rng.choice([_mac, _imei])(rng),
}
_WORDS = [
    "patient", "called", "about", "the", "appointment", "and", "asked", "for", "a", "refill",
    "cardiology", "v2.10.0", "2026-03-01T10:00:00Z", "ORD-2024-000123", "#42", "3", "ok", "(note)",
    "re:", "fyi", "-", "/", "x", "100%", "$20",
]  # fmt: skip
_SEPARATORS = [" ", ", ", ": ", "\n", " (", ") ", "; ", " - ", "\t", " <", "> ", ' "', '" ']


def _free_text(rng: random.Random, identifiers: list[str]) -> str:
    parts: list[str] = []
    for identifier in identifiers:
        parts.extend(rng.choice(_WORDS) for _ in range(rng.randint(0, 6)))
        parts.append(rng.choice(_SEPARATORS).join(["", identifier, ""]))
    parts.extend(rng.choice(_WORDS) for _ in range(rng.randint(0, 4)))
    return " ".join(parts)


def test_seeded_fuzz_never_lets_a_raw_identifier_through() -> None:
    rng = random.Random(20260301)
    leaks: list[tuple[str, str]] = []
    for event_number in range(3000):
        planted: list[tuple[str, str]] = []
        event: dict[str, object] = {"event_number": event_number, "specialty": "cardiology"}
        for slot in range(rng.randint(1, 4)):
            chosen = rng.sample(sorted(FACTORIES), k=rng.randint(1, 3))
            identifiers = [FACTORIES[name](rng) for name in chosen]
            planted.extend(zip(chosen, identifiers, strict=True))
            text = _free_text(rng, identifiers)
            event[f"note_{slot}"] = [text] if rng.random() < 0.2 else text
        dumped = json.dumps(SANITIZER.scrub(event).properties)
        leaks.extend((name, value) for name, value in planted if value in dumped)
    assert not leaks, f"{len(leaks)} leaks, first categories: {[name for name, _ in leaks[:10]]}"
