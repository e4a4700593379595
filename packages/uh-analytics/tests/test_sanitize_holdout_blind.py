"""Blind hold-out for the sanitiser: examples written without looking at the detectors.

``data/pii_holdout_blind.jsonl`` holds one example per line: ``value`` (a string property value),
``key`` (the property name it is sent under; ``"value"`` when absent), ``category`` (the expected
redaction category, or null for a benign value) and ``span`` (the part of ``value`` that must not
survive; the whole value when absent).

Scoring:

* an identifier counts as caught only if its span is gone from every string in the scrubbed
  properties, no word or digit group of three or more characters found only in the span survives
  (a half-redacted name that leaves the surname is a miss), and its expected category is among the
  reported redactions (for ``url_identifier`` any reported category is accepted: a ``?mrn=`` value
  is reported under its parameter's category). The table also shows a lenient figure (span gone
  and any category reported), which does not gate;
* a benign value fails if the scrubbed properties differ from the input in any way or any redaction
  is counted.

Failure messages name line numbers and categories, never the values.

Decisions the corpus encodes:

* Digits written fullwidth (as some input methods produce) and separators such as non-breaking
  spaces, non-breaking hyphens and en dashes do not hide an identifier.
* A latitude/longitude pair with three or more decimals (about 100 m or finer) is a location
  identifier wherever it appears; a coarse point (one or two decimals) and a clinic's city or
  region are benign.
* Loopback addresses (``127.0.0.1``) identify nobody and are benign; any other address is an
  identifier.
* Lettered vanity numbers (``1-800-FLOWERS``) are a business's, not a person's, and are benign;
  a numeric phone number is an identifier wherever it appears.
* Ages of 89 or less, age bands and day counts are benign; an age over 89 is an identifier.
* Event timestamps, report dates, months, quarters and bare years are benign; a date tied to a
  person by its key or wording (birth, admission, discharge, death, service) is an identifier.
* Field labels and placeholders ("Date of Birth", "ZIP code") and name-like keys that name things
  rather than people (``screen_name``, ``plan_name``, ``file_name``) are benign.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from unified_health.analytics._sanitize import RedactionCategory, Sanitizer

CORPUS = Path(__file__).parent / "data" / "pii_holdout_blind.jsonl"
MIN_RECALL = 0.97
MAX_FALSE_POSITIVE_RATE = 0.02
_TOKEN = re.compile(r"[^\W_]{3,}")
_MARKER = re.compile(r"\[REDACTED:[a-z0-9_]+\]")


@dataclass(frozen=True)
class Example:
    line: int
    value: str
    key: str
    category: str | None
    span: str


@dataclass
class Score:
    identifiers: Counter[str] = field(default_factory=Counter)
    caught: Counter[str] = field(default_factory=Counter)
    lenient: Counter[str] = field(default_factory=Counter)
    misses: list[tuple[int, str, list[str]]] = field(default_factory=list)
    benign: int = 0
    false_positives: list[tuple[int, list[str]]] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return sum(self.caught.values()) / max(1, sum(self.identifiers.values()))

    @property
    def false_positive_rate(self) -> float:
        return len(self.false_positives) / max(1, self.benign)

    def table(self) -> str:
        rows = [
            f"{cat:<16} {self.caught[cat]:>3}/{n:<3} recall={self.caught[cat] / n:.3f}"
            f" lenient={self.lenient[cat] / n:.3f}"
            for cat, n in sorted(self.identifiers.items())
        ]
        total = sum(self.identifiers.values())
        rows.append(
            f"overall recall={self.recall:.4f} ({sum(self.caught.values())}/{total}),"
            f" lenient={sum(self.lenient.values()) / max(1, total):.4f},"
            f" false_positive_rate={self.false_positive_rate:.4f}"
            f" ({len(self.false_positives)}/{self.benign})"
        )
        return "\n".join(rows)


def load(path: Path = CORPUS) -> list[Example]:
    examples = []
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not text.strip():
            continue
        row = json.loads(text)
        value = row["value"]
        examples.append(
            Example(
                line=number,
                value=value,
                key=row.get("key") or "value",
                category=row.get("category"),
                span=row.get("span") or value,
            )
        )
    return examples


def _strings(obj: object) -> list[str]:
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        return [s for k, v in obj.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(obj, list | tuple):
        return [s for item in obj for s in _strings(item)]
    return []


def score(examples: list[Example], sanitizer: Sanitizer | None = None) -> Score:
    sanitizer = sanitizer or Sanitizer()
    result = Score()
    for example in examples:
        scrubbed = sanitizer.scrub({example.key: example.value})
        reported = sorted(cat for cat, n in scrubbed.redactions.items() if n)
        if example.category is None:
            result.benign += 1
            if scrubbed.properties != {example.key: example.value} or reported:
                result.false_positives.append((example.line, reported))
            continue
        result.identifiers[example.category] += 1
        strings = _strings(scrubbed.properties)
        if any(example.span in s for s in strings) or not reported:
            result.misses.append((example.line, example.category, reported))
            continue
        result.lenient[example.category] += 1
        rest = example.value.replace(example.span, " ")
        left = " ".join(_MARKER.sub(" ", s) for s in strings)
        leaked = any(t in left and t not in rest for t in _TOKEN.findall(example.span))
        labelled = example.category in reported or example.category == "url_identifier"
        if leaked or not labelled:
            result.misses.append((example.line, example.category, reported))
        else:
            result.caught[example.category] += 1
    return result


@pytest.fixture(scope="module")
def blind_score() -> Score:
    return score(load())


def test_corpus_is_well_formed() -> None:
    examples = load()
    known = {c.value for c in RedactionCategory}
    assert len(examples) >= 400
    for example in examples:
        assert example.category is None or example.category in known, example.line
        assert example.span in example.value, example.line
    benign = sum(1 for e in examples if e.category is None)
    assert 0.3 <= benign / len(examples) <= 0.5


def test_blind_recall(blind_score: Score) -> None:
    misses = "\n".join(
        f"line {line}: expected {cat}, reported {reported or 'nothing'}"
        for line, cat, reported in blind_score.misses
    )
    assert blind_score.recall >= MIN_RECALL, f"{blind_score.table()}\nmissed:\n{misses}"


def test_blind_false_positive_rate(blind_score: Score) -> None:
    changed = "\n".join(
        f"line {line}: changed, reported {reported or 'nothing'}"
        for line, reported in blind_score.false_positives
    )
    assert blind_score.false_positive_rate <= MAX_FALSE_POSITIVE_RATE, (
        f"{blind_score.table()}\nfalse positives:\n{changed}"
    )
