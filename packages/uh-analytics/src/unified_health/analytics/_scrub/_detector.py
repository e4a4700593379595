"""The detector protocol and the registry that runs detectors over a value.

A detector owns one concern: its category, its precedence (lower wins where findings overlap),
a cheap gate (`Detector.applies`) and its patterns (`Detector.find`). Findings that overlap are
merged into one span, reported under the category of the detector with the lowest precedence, so
no part of an identifier is ever left behind because another detector claimed its neighbour.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol, runtime_checkable

from unified_health.analytics._scrub._view import Finding, ScanView

__all__ = ["Detector", "DetectorRegistry"]


@runtime_checkable
class Detector(Protocol):
    r"""What a detector offers; implement it to add one (e.g. a named-entity model).

    Attributes:
        category: The category its findings are counted under by default.
        precedence: Lower wins where findings of two detectors overlap.
        free_text_only: Run only on values declared free text (a model that is slow or that
            reads ordinary labels as names should set it).

    Examples:
        >>> import re
        >>> from unified_health.analytics import Finding, Sanitizer, ScanView
        >>> class Ticket:
        ...     category, precedence, free_text_only = "ticket", 50, False
        ...     def applies(self, view: ScanView) -> bool:
        ...         return "TCK" in view.text
        ...     def find(self, view: ScanView) -> list[Finding]:
        ...         return [Finding(*m.span(), self.category)
        ...                 for m in re.finditer(r"TCK\d+", view.text)]
        >>> Sanitizer(detectors=[Ticket()]).scrub({"ref": "TCK42"}).properties
        {'ref': '[REDACTED:ticket]'}
    """

    category: str
    precedence: int
    free_text_only: bool

    def applies(self, view: ScanView) -> bool:
        """A cheap check: whether `find` can find anything in ``view``."""
        ...

    def find(self, view: ScanView) -> Iterable[Finding]:
        """The identifiers in ``view.text``."""
        ...


class DetectorRegistry:
    """An ordered set of detectors, run over a `ScanView`.

    Examples:
        >>> from unified_health.analytics._scrub.detectors import default_detectors
        >>> registry = DetectorRegistry(default_detectors())
        >>> registry.redact(ScanView("mail jane@example.com"), {})
        'mail [REDACTED:email]'
    """

    __slots__ = ("_all", "_labels", "_precedence")

    def __init__(self, detectors: Sequence[Detector]) -> None:
        ordered = sorted(detectors, key=lambda d: d.precedence)
        self._all = tuple(ordered)
        self._labels = tuple(d for d in ordered if not d.free_text_only)
        self._precedence = {d.category: d.precedence for d in reversed(ordered)}

    def find(self, view: ScanView) -> list[Finding]:
        """Every finding in ``view``, overlaps merged, in text order."""
        found: list[tuple[int, int, int, str]] = []
        for detector in self._all if view.free_text else self._labels:
            if detector.applies(view):
                rank = detector.precedence
                found.extend(
                    (f.start, f.end, rank, f.category)
                    for f in detector.find(view)
                    if f.end > f.start
                )
        return _merge(found)

    def redact(self, view: ScanView, counts: dict[str, int]) -> str:
        """``view.text`` with every finding replaced by its marker; counts added to ``counts``."""
        findings = self.find(view)
        if not findings:
            return view.text
        parts: list[str] = []
        last = 0
        for start, end, category in findings:
            parts.append(view.text[last:start])
            parts.append(f"[REDACTED:{category}]")
            counts[category] = counts.get(category, 0) + 1
            last = end
        parts.append(view.text[last:])
        return "".join(parts)


def _merge(found: list[tuple[int, int, int, str]]) -> list[Finding]:
    found.sort()
    merged: list[Finding] = []
    best = 0
    for start, end, precedence, category in found:
        if merged and start < merged[-1].end:
            last = merged[-1]
            if precedence < best:
                best, category = precedence, category
            else:
                category = last.category
            merged[-1] = Finding(last.start, max(last.end, end), category)
        else:
            merged.append(Finding(start, end, category))
            best = precedence
    return merged
