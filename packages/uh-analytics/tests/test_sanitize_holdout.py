"""Recall and false-positive rate of the sanitiser on an independent holdout corpus.

``data/pii_holdout.jsonl`` was written separately from the detectors and from
``pii_corpus.jsonl``: one JSON object a line with ``value``, an optional property ``key``, the
expected ``category`` (``null`` for a benign value that must survive untouched) and, where the
identifier is part of a longer text, the ``span`` that must not survive. Every value is fake
(reserved phone ranges, ``example.*`` domains, documentation IP ranges, test card numbers).

An identifier line counts as caught when its raw identifier (the span, or the whole value) is gone
from the output, no word or digit group of three or more characters of it survives (a half-redacted
``Jane+Doe`` that leaves ``Doe`` is a miss), *and* its category is among the reported redactions.
For ``url_identifier`` lines any reported category is accepted: a ``?mrn=`` or ``?name=`` value is
reported under the category of its parameter. A benign line counts as a false positive when its
value changes or any redaction is reported. Failure messages name line numbers and categories
only, never values.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from unified_health.analytics._sanitize import RedactionCategory, Sanitizer

CORPUS = Path(__file__).parent / "data" / "pii_holdout.jsonl"
MIN_RECALL = 0.97
MAX_FALSE_POSITIVE_RATE = 0.02
MIN_LINES = 400
DEFAULT_KEY = "text"
_TOKEN = re.compile(r"[^\W_]{3,}")
_MARKER = re.compile(r"\[REDACTED:[a-z0-9_]+\]")


@dataclass(frozen=True)
class Case:
    """One corpus line."""

    line: int
    value: object
    key: str | None
    category: str | None
    span: str | None


@dataclass(frozen=True)
class Outcome:
    """How the sanitiser did on one line."""

    case: Case
    ok: bool
    reported: tuple[str, ...]


def _load() -> list[Case]:
    cases = []
    with CORPUS.open(encoding="utf-8") as fh:
        for number, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            row = json.loads(raw)
            cases.append(
                Case(number, row["value"], row.get("key"), row["category"], row.get("span"))
            )
    return cases


CASES = _load()


def _run(sanitizer: Sanitizer, case: Case) -> Outcome:
    key = case.key if case.key is not None else DEFAULT_KEY
    result = sanitizer.scrub({key: case.value})
    cleaned = result.properties.get(key)
    reported = tuple(sorted(category for category, n in result.redactions.items() if n > 0))
    if case.category is None:
        ok = cleaned == case.value and not reported
    else:
        if isinstance(case.value, str) and isinstance(cleaned, str):
            survived = _survives(case.value, case.span or case.value, cleaned)
        else:
            survived = cleaned == case.value
        labelled = case.category in reported or (
            case.category == RedactionCategory.URL_IDENTIFIER and bool(reported)
        )
        ok = not survived and labelled
    return Outcome(case, ok, reported)


def _survives(value: str, raw: str, cleaned: str) -> bool:
    """Whether ``raw`` (part of ``value``), or a token found only in it, is still in ``cleaned``."""
    if raw in cleaned:
        return True
    rest = value.replace(raw, " ")
    left = _MARKER.sub(" ", cleaned)
    return any(t in left and t not in rest for t in _TOKEN.findall(raw))


@pytest.fixture(scope="module")
def outcomes() -> list[Outcome]:
    sanitizer = Sanitizer()
    return [_run(sanitizer, case) for case in CASES]


def _table(outcomes: list[Outcome]) -> str:
    total: Counter[str] = Counter()
    caught: Counter[str] = Counter()
    for outcome in outcomes:
        name = outcome.case.category or "benign"
        total[name] += 1
        caught[name] += outcome.ok
    rows = [f"{'category':<16} {'n':>4} {'ok':>4} {'rate':>7}"]
    rows.extend(
        f"{name:<16} {total[name]:>4} {caught[name]:>4} {caught[name] / total[name]:>7.1%}"
        for name in sorted(total)
    )
    misses = [
        f"  line {o.case.line}: expected {o.case.category or 'benign'}, key={o.case.key!r}, "
        f"reported={list(o.reported)}"
        for o in outcomes
        if not o.ok
    ]
    return "\n".join([*rows, "failures:", *misses])


def test_corpus_is_large_and_well_formed() -> None:
    known = {category.value for category in RedactionCategory}
    assert len(CASES) >= MIN_LINES
    for case in CASES:
        assert case.category is None or case.category in known, case.line
        if case.span is not None:
            assert isinstance(case.value, str), case.line
            assert case.span in case.value, case.line
    identifiers = sum(case.category is not None for case in CASES)
    assert 0.5 <= identifiers / len(CASES) <= 0.7


def test_recall_on_holdout(outcomes: list[Outcome]) -> None:
    identifiers = [o for o in outcomes if o.case.category is not None]
    recall = sum(o.ok for o in identifiers) / len(identifiers)
    assert recall >= MIN_RECALL, f"recall {recall:.3f}\n{_table(identifiers)}"


def test_false_positive_rate_on_holdout(outcomes: list[Outcome]) -> None:
    benign = [o for o in outcomes if o.case.category is None]
    rate = sum(not o.ok for o in benign) / len(benign)
    assert rate <= MAX_FALSE_POSITIVE_RATE, f"false positives {rate:.3f}\n{_table(benign)}"
