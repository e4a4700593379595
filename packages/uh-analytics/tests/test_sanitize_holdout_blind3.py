"""Third blind hold-out for the sanitiser, written from the category names alone.

``data/pii_holdout_blind3.jsonl`` holds property values as a mobile health app's analytics carries
them: autocaptured element texts and input values, React Native error messages, GraphQL variables
serialised as JSON strings, URL fragments and deep links, with UK and Canadian formats next to US
ones. Each line has ``value``, an optional ``key`` (``"value"`` when absent), ``category`` (the
expected redaction category, null for a benign value) and an optional ``span`` (the part of the
value that must not survive; the whole value when absent). All data is fictitious: 555-01xx and
Ofcom drama numbers, example domains, documentation IP ranges, published test card numbers, and
check digits computed for made-up NHS numbers, SINs, IBANs and VINs.

Scoring follows the earlier blind hold-outs:

* an identifier counts as caught when its span survives in no scrubbed string, no word or digit
  group of three or more characters found only in the span survives, and its expected category is
  reported (any category for ``url_identifier``). The lenient figure (span gone, anything
  reported) is printed but does not gate;
* a benign value fails when the scrubbed properties differ from the input or anything is reported.

Failure messages give line numbers and categories only, never the values.

Decisions this corpus encodes:

* A UK NHS number (ten digits, mod-11 check digit) identifies the beneficiary of a national health
  service, like a Medicare number: ``member_id``. A Canadian Social Insurance Number (nine digits,
  Luhn) is the national counterpart of the SSN: ``ssn``.
* Canadian postal codes (``K1A 0B1``) and UK postcodes (``SW1A 1AA``) are ``zip_code``.
* National identifiers a US, UK or Canadian health product would not meet (Aadhaar and the like)
  are left out, and so are opaque base64 blobs.
* A date under a birth key or next to birth wording is ``date_of_birth``, in ISO, US, en-GB,
  French and spelled-out forms; appointment, admission, discharge, death, vaccination and last
  menstrual period dates are ``personal_date``. Release dates, ISO weeks and card expiry are
  benign.
* Ages of 90 and above are ``age_over_89``; 89 and below, and durations such as "90 day supply",
  are benign.
* Coordinates with five or more decimals are a ``location``; a clinic's coordinates at city
  precision (two decimals) are benign. A city under a bare ``city`` key is taken to be the
  user's, a geographic subdivision smaller than a state: ``location``.
* Parcel tracking numbers, build ids, version strings, hex colours, and order or reference numbers
  that look like phones or cards (failing Luhn) but carry no identifying label are benign; so are
  the loopback address and a four-part SDK version under a version key.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from unified_health.analytics._sanitize import RedactionCategory, Sanitizer

CORPUS = Path(__file__).parent / "data" / "pii_holdout_blind3.jsonl"
MIN_RECALL = 0.97
MAX_FALSE_POSITIVE_RATE = 0.02
_TOKEN = re.compile(r"[^\W_]{3,}")
_MARKER = re.compile(r"\[REDACTED:[a-z0-9_]+\]")


@dataclass(frozen=True)
class Row:
    line: int
    key: str
    value: str
    category: str | None
    span: str


@dataclass
class Score:
    expected: Counter[str] = field(default_factory=Counter)
    caught: Counter[str] = field(default_factory=Counter)
    lenient: Counter[str] = field(default_factory=Counter)
    misses: list[tuple[int, str, list[str]]] = field(default_factory=list)
    benign: int = 0
    false_positives: list[tuple[int, list[str]]] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return sum(self.caught.values()) / max(1, sum(self.expected.values()))

    @property
    def false_positive_rate(self) -> float:
        return len(self.false_positives) / max(1, self.benign)

    def table(self) -> str:
        out = [
            f"{name:<16} {self.caught[name]:>3}/{n:<3} recall={self.caught[name] / n:.3f}"
            f" lenient={self.lenient[name] / n:.3f}"
            for name, n in sorted(self.expected.items())
        ]
        total = sum(self.expected.values())
        out.append(
            f"overall recall={self.recall:.4f} ({sum(self.caught.values())}/{total})"
            f" lenient={sum(self.lenient.values()) / max(1, total):.4f}"
            f" false_positive_rate={self.false_positive_rate:.4f}"
            f" ({len(self.false_positives)}/{self.benign})"
        )
        return "\n".join(out)


def load(path: Path = CORPUS) -> list[Row]:
    rows = []
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not text.strip():
            continue
        data = json.loads(text)
        rows.append(
            Row(
                line=number,
                key=data.get("key") or "value",
                value=data["value"],
                category=data.get("category"),
                span=data.get("span") or data["value"],
            )
        )
    return rows


def _strings(obj: object) -> list[str]:
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        return [s for k, v in obj.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(obj, list | tuple):
        return [s for item in obj for s in _strings(item)]
    return []


def score(rows: list[Row], sanitizer: Sanitizer | None = None) -> Score:
    sanitizer = sanitizer or Sanitizer()
    result = Score()
    for row in rows:
        scrubbed = sanitizer.scrub({row.key: row.value})
        reported = sorted(name for name, count in scrubbed.redactions.items() if count)
        if row.category is None:
            result.benign += 1
            if reported or scrubbed.properties != {row.key: row.value}:
                result.false_positives.append((row.line, reported))
            continue
        result.expected[row.category] += 1
        strings = _strings(scrubbed.properties)
        if not reported or any(row.span in s for s in strings):
            result.misses.append((row.line, row.category, reported))
            continue
        result.lenient[row.category] += 1
        context = row.value.replace(row.span, " ")
        rest = " ".join(_MARKER.sub(" ", s) for s in strings)
        leaked = any(t in rest and t not in context for t in _TOKEN.findall(row.span))
        right_category = row.category in reported or row.category == "url_identifier"
        if leaked or not right_category:
            result.misses.append((row.line, row.category, reported))
        else:
            result.caught[row.category] += 1
    return result


@pytest.fixture(scope="module")
def outcome() -> Score:
    return score(load())


def test_corpus_is_well_formed() -> None:
    rows = load()
    names = {c.value for c in RedactionCategory}
    assert 300 <= len(rows) <= 350
    for row in rows:
        assert row.category is None or row.category in names, row.line
        assert row.span in row.value, row.line
    benign = sum(row.category is None for row in rows)
    assert 0.35 <= benign / len(rows) <= 0.45


def test_blind3_recall(outcome: Score) -> None:
    detail = "\n".join(
        f"line {line}: expected {category}, reported {reported or 'nothing'}"
        for line, category, reported in outcome.misses
    )
    assert outcome.recall >= MIN_RECALL, f"{outcome.table()}\nmissed:\n{detail}"


def test_blind3_false_positive_rate(outcome: Score) -> None:
    detail = "\n".join(
        f"line {line}: changed, reported {reported or 'nothing'}"
        for line, reported in outcome.false_positives
    )
    assert outcome.false_positive_rate <= MAX_FALSE_POSITIVE_RATE, (
        f"{outcome.table()}\nfalse positives:\n{detail}"
    )
