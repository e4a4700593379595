"""The detector protocol and the Presidio adapter.

Presidio's NLP models (spaCy) cannot be installed here, so the adapter is tested with Presidio's
pattern recognisers (a deny list and a regular expression), which need no model. The adapter
calls the same ``analyze`` an ``AnalyzerEngine`` has, which a stand-in object checks too.
"""

from __future__ import annotations

from typing import Any

import pytest
from presidio_analyzer import Pattern, PatternRecognizer, RecognizerResult

from unified_health.analytics import Detector, Finding, InvalidInputError, Sanitizer, ScanView
from unified_health.analytics.presidio import PresidioDetector

STAFF = PatternRecognizer(supported_entity="PERSON", deny_list=["Okonkwo", "Vries"])
BADGE = PatternRecognizer(
    supported_entity="BADGE", patterns=[Pattern("badge", r"\bBDG\d{4}\b", 0.9)]
)


def test_the_adapter_is_a_detector() -> None:
    assert isinstance(PresidioDetector(recognizers=[STAFF]), Detector)


def test_names_from_a_recogniser_in_declared_free_text() -> None:
    sanitizer = Sanitizer(
        detectors=[PresidioDetector(recognizers=[STAFF, BADGE], entities=["PERSON", "BADGE"])]
    )
    cleaned, counts = sanitizer.scrub_free_text("Okonkwo checked badge BDG1234 at the desk")
    assert cleaned == "[REDACTED:name] checked badge [REDACTED:badge] at the desk"
    assert counts == {"name": 1, "badge": 1}


def test_the_adapter_does_not_run_on_labels() -> None:
    sanitizer = Sanitizer(detectors=[PresidioDetector(recognizers=[STAFF])])
    assert sanitizer.scrub_value("Okonkwo")[0] == "Okonkwo"


class Engine:
    """Stands in for an AnalyzerEngine: the same analyze signature and result type."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, list[str] | None]] = []

    def analyze(self, text: str, language: str, entities: list[str] | None = None) -> list[Any]:
        self.calls.append((text, language, entities))
        start = text.find("Lind")
        return [
            RecognizerResult("PERSON", start, start + 4, 0.85),
            RecognizerResult("PERSON", 0, 3, 0.1),
        ]


def test_an_analyzer_engine_with_a_threshold() -> None:
    engine = Engine()
    sanitizer = Sanitizer(detectors=[PresidioDetector(engine, language="de", score_threshold=0.5)])
    assert sanitizer.scrub_free_text("Frau Lind kam heute")[0] == "Frau [REDACTED:name] kam heute"
    assert engine.calls == [("Frau Lind kam heute", "de", ["PERSON"])]


def test_bad_adapter_arguments() -> None:
    with pytest.raises(InvalidInputError):
        PresidioDetector()
    with pytest.raises(InvalidInputError):
        PresidioDetector(Engine(), recognizers=[STAFF])
    with pytest.raises(InvalidInputError):
        PresidioDetector(Engine(), score_threshold=2)


class Shouting:
    """A host detector: upper-case words of five letters or more."""

    category = "shout"
    precedence = 50
    free_text_only = False

    def applies(self, view: ScanView) -> bool:
        return any(c.isupper() for c in view.text)

    def find(self, view: ScanView) -> list[Finding]:
        return [
            Finding(s, e, self.category)
            for s, e in view.words
            if view.text[s:e].isupper() and e - s >= 5
        ]


def test_a_host_detector_through_the_protocol() -> None:
    sanitizer = Sanitizer(detectors=[Shouting()])
    assert sanitizer.scrub_value("call HELLO now")[0] == "call [REDACTED:shout] now"


def test_overlapping_findings_merge_under_the_lower_precedence() -> None:
    class Wide(Shouting):
        category = "wide"
        precedence = 1

        def find(self, view: ScanView) -> list[Finding]:
            return [Finding(0, 7, self.category)]

    cleaned, counts = Sanitizer(detectors=[Shouting(), Wide()]).scrub_value("xx HELLO yy")
    assert cleaned == "[REDACTED:wide] yy"
    assert counts == {"wide": 1}
