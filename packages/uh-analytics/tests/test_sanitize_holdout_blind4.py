"""Fourth blind hold-out for the sanitiser, written from the category names alone.

``data/pii_holdout_blind4.jsonl`` holds property values as a US hospital patient portal and a
dental or vision clinic SaaS send them: appointment reminders, intake-form answers, insurance
eligibility responses serialised into strings, billing statements, guarantor and emergency-contact
fields, pharmacy pickup notes, lab result notifications, telehealth and video-visit join links and
SMS opt-in confirmations, with lowercase and typos, surrounding quotes, brackets and parentheses,
multiline and tab-separated values. Each line has ``value``, an optional ``key`` (``"value"`` when
absent), ``category`` (the expected redaction category, null for a benign value) and an optional
``span`` (the part of the value that must not survive; the whole value when absent). All data is
fictitious: 555-01xx numbers, example domains, documentation IP ranges, published test card
numbers, and check digits computed for made-up VINs, DEA numbers and NPIs.

Scoring follows the earlier blind hold-outs:

* an identifier counts as caught when its span survives in no scrubbed string, no word or digit
  group of three or more characters found only in the span survives, and its expected category is
  reported (any category for ``url_identifier``). The lenient figure (span gone, anything
  reported) is printed but does not gate;
* a benign value fails when the scrubbed properties differ from the input or anything is reported.

Failure messages give line numbers and categories only, never the values.

Decisions this corpus encodes:

* Claim numbers (``CLM-2026-000981``, "claim # 20260115-00087") and remittance trace numbers are
  benign. Safe Harbor names account numbers and health plan beneficiary numbers; a claim number
  identifies a transaction between a provider and a payer, not the person, and is what support
  and analytics need to follow a claim's status. They are benign everywhere, labelled or not.
* Member, subscriber, policy, Medicare (MBI) and Medicaid ids are ``member_id``; billing,
  guarantor and patient account numbers and a bank account next to a routing number are
  ``account_number``; chart and patient ids are ``mrn``; driver's licence, DEA, state licence
  and passport numbers are ``license_number``; a provider's NPI is benign, as in the second
  hold-out (it is published in the NPPES registry); a licence plate is ``vehicle_id``; an
  instrument serial number, MAC and IMEI are ``device_id``.
* A date next to birth wording or under a birth key is ``date_of_birth`` (including ``dob`` with a
  two-digit year and compact ``YYYYMMDD``); admission, discharge, service, death, surgery and
  appointment dates are ``personal_date``. Event timestamps with offsets and a bare statement due
  day ("due 12/01") are benign.
* Ages of 90 and above are ``age_over_89``; lower ages and age bands are benign.
* Codes and clinical values are benign: claim status, CARC/RARC and group codes, CPT/CDT with
  modifiers, ICD-10, NDC, tooth numbers, refraction values, vitals, amounts and durations. Payer,
  plan, clinic and pharmacy names are benign; person names after a label or a salutation are
  ``name``.
* A link carrying a token, password, record number or e-mail address is ``url_identifier``; the
  same hosts without such parts are benign.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from unified_health.analytics._sanitize import RedactionCategory, Sanitizer

CORPUS = Path(__file__).parent / "data" / "pii_holdout_blind4.jsonl"
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
    assert 200 <= len(rows) <= 250
    for row in rows:
        assert row.category is None or row.category in names, row.line
        assert row.span in row.value, row.line
    benign = sum(row.category is None for row in rows)
    assert 0.35 <= benign / len(rows) <= 0.45


def test_blind4_recall(outcome: Score) -> None:
    detail = "\n".join(
        f"line {line}: expected {category}, reported {reported or 'nothing'}"
        for line, category, reported in outcome.misses
    )
    assert outcome.recall >= MIN_RECALL, f"{outcome.table()}\nmissed:\n{detail}"


def test_blind4_false_positive_rate(outcome: Score) -> None:
    detail = "\n".join(
        f"line {line}: changed, reported {reported or 'nothing'}"
        for line, reported in outcome.false_positives
    )
    assert outcome.false_positive_rate <= MAX_FALSE_POSITIVE_RATE, (
        f"{outcome.table()}\nfalse positives:\n{detail}"
    )
