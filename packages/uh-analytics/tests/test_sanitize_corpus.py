"""Quality gate: recall and false-positive rate on the labelled corpus in ``data/``.

Each line of ``pii_corpus.jsonl`` is ``{"value", "category", "key"?, "identifier"?}``. A positive
(``category`` set) counts as found when its ``identifier`` (default: the whole value) no longer
appears in the scrubbed text; it counts as correctly labelled when its category is also among the
reported counts. A benign line (``category`` null) is a false positive when anything is redacted.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from unified_health.analytics._sanitize import RedactionCategory, Sanitizer

CORPUS = Path(__file__).parent / "data" / "pii_corpus.jsonl"
MIN_RECALL = 0.97
MIN_CATEGORY_RECALL = 0.90
MAX_FALSE_POSITIVE_RATE = 0.02
MIN_LABEL_ACCURACY = 0.95


def _rows() -> list[dict[str, Any]]:
    with CORPUS.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


@pytest.fixture(scope="module")
def outcome() -> dict[str, Counter[str]]:
    sanitizer = Sanitizer()
    total: Counter[str] = Counter()
    found: Counter[str] = Counter()
    labelled: Counter[str] = Counter()
    benign: Counter[str] = Counter()
    for row in _rows():
        text, counts = sanitizer.scrub_value(row["value"], key=row.get("key"))
        category = row["category"]
        if category is None:
            benign["total"] += 1
            benign["flagged"] += bool(counts)
            continue
        total[category] += 1
        if row.get("identifier", row["value"]) not in text:
            found[category] += 1
            labelled[category] += category in counts or (
                category == RedactionCategory.URL_IDENTIFIER and bool(counts)
            )
    return {"total": total, "found": found, "labelled": labelled, "benign": benign}


def test_corpus_is_large_and_covers_every_identifier_category() -> None:
    rows = _rows()
    categories = {row["category"] for row in rows if row["category"]}
    identifiers = {
        c for c in RedactionCategory if c not in {"custom", "location", "unsupported_type"}
    } - {"too_deep", "too_large"}
    assert identifiers <= categories
    assert sum(row["category"] is None for row in rows) >= 300
    assert sum(row["category"] is not None for row in rows) >= 600


def test_overall_recall(outcome: dict[str, Counter[str]]) -> None:
    recall = outcome["found"].total() / outcome["total"].total()
    assert recall >= MIN_RECALL, f"overall recall {recall:.3f}"


@pytest.mark.parametrize(
    "category", sorted({row["category"] for row in _rows() if row["category"]})
)
def test_recall_per_category(outcome: dict[str, Counter[str]], category: str) -> None:
    recall = outcome["found"][category] / outcome["total"][category]
    assert recall >= MIN_CATEGORY_RECALL, f"{category} recall {recall:.3f}"


def test_findings_are_reported_under_the_right_category(outcome: dict[str, Counter[str]]) -> None:
    accuracy = outcome["labelled"].total() / outcome["found"].total()
    assert accuracy >= MIN_LABEL_ACCURACY, f"label accuracy {accuracy:.3f}"


def test_false_positive_rate(outcome: dict[str, Counter[str]]) -> None:
    rate = outcome["benign"]["flagged"] / outcome["benign"]["total"]
    assert rate <= MAX_FALSE_POSITIVE_RATE, f"false-positive rate {rate:.3f}"
