"""Named-entity detection from Presidio's analyzer, as a `Detector` for declared free text.

Install the extra (``pip install "uh-analytics[presidio]"``) and hand the adapter an
``AnalyzerEngine`` (with whatever NLP model the host has: spaCy, stanza, transformers) or a list
of Presidio recognisers that need no model (``PatternRecognizer`` with patterns or a deny list).
The adapter runs on values declared free text only (``free_text_only``): undeclared prose is
never sent, and short labels are better served by the built-in detectors.

Examples:
    >>> from presidio_analyzer import PatternRecognizer
    >>> from unified_health.analytics import Sanitizer
    >>> staff = PatternRecognizer(supported_entity="PERSON", deny_list=["Okonkwo"])
    >>> sanitizer = Sanitizer(detectors=[PresidioDetector(recognizers=[staff])])
    >>> sanitizer.scrub_free_text("seen by Okonkwo about the rash")[0]
    'seen by [REDACTED:name] about the rash'
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from unified_health.analytics._errors import InvalidInputError
from unified_health.analytics._scrub._view import Finding, ScanView

__all__ = ["ENTITY_CATEGORIES", "PresidioDetector"]

#: Presidio entity type -> redaction category; other types are counted under their own name.
ENTITY_CATEGORIES: Mapping[str, str] = {
    "PERSON": "name",
    "EMAIL_ADDRESS": "email",
    "PHONE_NUMBER": "phone",
    "US_SSN": "ssn",
    "CREDIT_CARD": "credit_card",
    "IBAN_CODE": "account_number",
    "US_BANK_NUMBER": "account_number",
    "LOCATION": "location",
    "DATE_TIME": "personal_date",
    "IP_ADDRESS": "ip_address",
    "US_DRIVER_LICENSE": "license_number",
    "US_PASSPORT": "license_number",
    "MEDICAL_LICENSE": "license_number",
    "URL": "url_identifier",
}
_CATEGORY = re.compile(r"[a-z][a-z0-9_]{0,39}")


class _Analyzer(Protocol):
    def analyze(self, text: str, language: str, entities: list[str] | None = None) -> list[Any]:
        """Presidio's ``AnalyzerEngine.analyze``."""
        ...


def _category(entity: str) -> str:
    known = ENTITY_CATEGORIES.get(entity)
    if known is not None:
        return known
    name = entity.lower()
    return name if _CATEGORY.fullmatch(name) else "custom"


class PresidioDetector:
    """A Presidio ``AnalyzerEngine`` or recognisers, as a `Detector`.

    Args:
        analyzer: An ``AnalyzerEngine`` (anything with its ``analyze(text, language, entities)``).
        recognizers: Presidio recognisers called directly, without an NLP model.
        entities: The entity types asked for; ``PERSON`` by default.
        language: The language passed to the analyzer.
        score_threshold: Findings scoring below it are ignored.
        precedence: Where it stands among the detectors (built-ins are 5 to 65).

    Raises:
        InvalidInputError: Neither or both of ``analyzer`` and ``recognizers`` given, or a
            threshold outside 0..1.
    """

    category = "name"
    free_text_only = True

    def __init__(
        self,
        analyzer: _Analyzer | None = None,
        *,
        recognizers: Sequence[Any] | None = None,
        entities: Iterable[str] = ("PERSON",),
        language: str = "en",
        score_threshold: float = 0.5,
        precedence: int = 45,
    ) -> None:
        if (analyzer is None) == (recognizers is None):
            raise InvalidInputError("analyzer", "give an analyzer or recognizers, not both")
        if not 0.0 <= float(score_threshold) <= 1.0:
            raise InvalidInputError("score_threshold", "must be between 0 and 1")
        self._analyzer = analyzer
        self._recognizers = list(recognizers or ())
        self._entities = list(entities)
        self._language = language
        self._threshold = float(score_threshold)
        self.precedence = precedence

    def applies(self, view: ScanView) -> bool:
        """Whether the text has any word for a model to read."""
        return bool(view.words)

    def find(self, view: ScanView) -> list[Finding]:
        """The analyzer's findings above the threshold."""
        results: list[Any] = []
        if self._analyzer is not None:
            results = self._analyzer.analyze(
                text=view.text, language=self._language, entities=self._entities
            )
        for recognizer in self._recognizers:
            results.extend(recognizer.analyze(view.text, self._entities, None))
        return [
            Finding(int(r.start), int(r.end), _category(str(r.entity_type)))
            for r in results
            if float(r.score) >= self._threshold and r.end > r.start
        ]
