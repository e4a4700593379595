"""The holdout: 303 values written by someone who had not read the detectors, never tuned
against. It reports per-category recall and the false-positive rate, and gates on the figures
measured at first contact (2026-12-06, before any fix it revealed), so the package can only
improve on it. When a fresh holdout replaces it, this one joins the regression set.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from unified_health.analytics import Sanitizer
from unified_health.analytics.evaluation import CorpusScore, evaluate, load_corpus

HOLDOUT = Path(__file__).parent / "data" / "holdout" / "holdout-2026-12-06.jsonl"
# First contact, 2026-12-06, measured once through Sanitizer().scrub: caught / total.
FIRST_CONTACT_CAUGHT = 159
FIRST_CONTACT_FALSE_POSITIVES = 21
FIRST_CONTACT_BY_CATEGORY = {
    "account": (4, 4), "address": (13, 16), "age": (3, 11), "date": (24, 27), "device": (5, 5),
    "email": (18, 18), "ip": (4, 4), "licence": (3, 3), "mrn": (5, 5), "name": (35, 40),
    "other_id": (5, 5), "phone": (22, 22), "ssn": (11, 12), "url": (2, 2), "vehicle": (2, 3),
    "zip": (3, 8),
}  # fmt: skip


@functools.cache
def holdout_score() -> CorpusScore:
    return evaluate(Sanitizer(), load_corpus(HOLDOUT))


def test_holdout_recall_and_false_positives(capsys: pytest.CaptureFixture[str]) -> None:
    result = holdout_score()
    with capsys.disabled():
        print(f"\nholdout {HOLDOUT.name}: {result.summary()}")  # noqa: T201  (the figures)
    assert sum(result.total.values()) == 185
    assert result.benign == 135
    assert sum(result.caught.values()) >= FIRST_CONTACT_CAUGHT  # recall 0.8595
    assert result.false_positives <= FIRST_CONTACT_FALSE_POSITIVES  # rate 0.1556


@pytest.mark.parametrize("category", sorted(FIRST_CONTACT_BY_CATEGORY))
def test_holdout_recall_per_category(category: str) -> None:
    result = holdout_score()
    caught, total = FIRST_CONTACT_BY_CATEGORY[category]
    assert result.total[category] == total
    assert result.caught.get(category, 0) >= caught
