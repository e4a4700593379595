"""Measure a `Sanitizer` on a labelled corpus: per-category recall and false-positive rate.

A corpus is JSON Lines, one sample a line, in either shape:

* ``{"key": ..., "value": ..., "identifiers": [{"category": ..., "text": ...}], "benign": ...}``
* ``{"key": ..., "value": ..., "category": ... | null, "span" | "identifier": ...}`` (a sample
  with a category and no span holds its identifier whole).

Each sample is sent through the public API as the one property ``{key: value}`` of an event.
An identifier counts as *caught* when neither its text nor its normalised text appears in the
outbound properties (or the event is rejected). A benign sample is a *false positive* when the
outbound value differs from the normalised input (replaced prose counts).

Examples:
    >>> from unified_health.analytics import Sanitizer
    >>> rows = [{"key": "note", "value": "call 802 232 8775", "category": "phone",
    ...          "span": "802 232 8775"},
    ...         {"key": "plan", "value": "premium", "category": None}]
    >>> score = evaluate(Sanitizer(), [Sample.from_row(r) for r in rows])
    >>> score.recall, score.false_positive_rate
    (1.0, 0.0)
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from unified_health.analytics._sanitize import Sanitizer
from unified_health.analytics._scrub._fold import fold

__all__ = ["CorpusScore", "Sample", "evaluate", "load_corpus"]


@dataclass(frozen=True, slots=True)
class Sample:
    """One labelled value.

    Attributes:
        key: The property name it is sent under.
        value: The value.
        identifiers: (category, text) of every identifier it holds; empty when benign.
        benign: Whether it holds no identifier.
    """

    key: str
    value: Any
    identifiers: tuple[tuple[str, str], ...] = ()
    benign: bool = True

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Sample:
        """A sample from one corpus line, in either shape (see the module docs)."""
        key = str(row.get("key") or "value")
        value = row.get("value")
        if "identifiers" in row:
            found = tuple((str(i["category"]), str(i["text"])) for i in row["identifiers"] or ())
            return cls(key, value, found, bool(row.get("benign", not found)))
        category = row.get("category")
        if category is None:
            return cls(key, value)
        text = row.get("span") or row.get("identifier") or value
        return cls(key, value, ((str(category), str(text)),), False)


@dataclass
class CorpusScore:
    """Per-category recall and the false-positive rate on benign samples.

    Attributes:
        caught: Identifiers caught, per category.
        total: Identifiers, per category.
        benign: Benign samples.
        false_positives: Benign samples that were changed.
        missed: (category, sample index) of each identifier that reached the output.
        changed: Indexes of the benign samples that were changed.
        failed_closed: Samples whose result came from the fail-closed path (an internal error
            or unreadable input): counted as caught, but a sign of a defect.
    """

    caught: dict[str, int] = field(default_factory=dict)
    total: dict[str, int] = field(default_factory=dict)
    benign: int = 0
    false_positives: int = 0
    missed: list[tuple[str, int]] = field(default_factory=list)
    changed: list[int] = field(default_factory=list)
    failed_closed: int = 0

    @property
    def recall(self) -> float:
        """Identifiers caught over identifiers, all categories."""
        total = sum(self.total.values())
        return sum(self.caught.values()) / total if total else 1.0

    @property
    def false_positive_rate(self) -> float:
        """Benign samples changed over benign samples."""
        return self.false_positives / self.benign if self.benign else 0.0

    def recall_by_category(self) -> dict[str, float]:
        """Recall per category, sorted by category."""
        return {c: self.caught.get(c, 0) / n for c, n in sorted(self.total.items())}

    def summary(self) -> dict[str, object]:
        """A JSON-ready summary."""
        return {
            "recall": round(self.recall, 4),
            "identifiers": sum(self.total.values()),
            "false_positive_rate": round(self.false_positive_rate, 4),
            "benign": self.benign,
            "recall_by_category": {c: round(r, 4) for c, r in self.recall_by_category().items()},
        }


def _strings(value: object) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif value is not None:
        yield json.dumps(value)


def evaluate(sanitizer: Sanitizer, samples: Iterable[Sample]) -> CorpusScore:
    """Score ``sanitizer`` on ``samples`` through its public `Sanitizer.scrub`."""
    score = CorpusScore()
    for index, sample in enumerate(samples):
        result = sanitizer.scrub({sample.key: sample.value})
        if not result.properties and "unsupported_type" in result.redactions:
            score.failed_closed += 1
        outbound = "\n".join(_strings(result.properties))
        for category, text in sample.identifiers:
            score.total[category] = score.total.get(category, 0) + 1
            if text in outbound or (fold(text) in outbound and fold(text).strip()):
                score.missed.append((category, index))
            else:
                score.caught[category] = score.caught.get(category, 0) + 1
        if sample.benign:
            score.benign += 1
            expected = fold(sample.value) if isinstance(sample.value, str) else sample.value
            if result.properties.get(fold(sample.key)) != expected:
                score.false_positives += 1
                score.changed.append(index)
    return score


def load_corpus(path: str | Path) -> list[Sample]:
    """The samples of a JSON Lines corpus file."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [Sample.from_row(json.loads(line)) for line in lines if line.strip()]
