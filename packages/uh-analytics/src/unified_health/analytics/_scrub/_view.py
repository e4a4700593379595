"""`ScanView`: what every detector reads, computed once per value."""

from __future__ import annotations

import re
from typing import NamedTuple

__all__ = ["Finding", "ScanView"]

_WORD = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)?")
_DIGIT_RUN = re.compile(r"\d+")


class Finding(NamedTuple):
    """One identifier found in a value: ``text[start:end]`` is replaced by the category marker.

    Examples:
        >>> Finding(5, 17, "phone")
        Finding(start=5, end=17, category='phone')
    """

    start: int
    end: int
    category: str


class ScanView:
    """A folded value and the facts detectors gate on, each computed at most once.

    Attributes:
        text: The folded text (see `unified_health.analytics._scrub._fold.fold`).
        lower: ``text`` in lower case, index for index.
        free_text: Whether the value is declared free text (stricter number and date rules).
        digits: How many digits the text holds.

    Examples:
        >>> view = ScanView("Call Jane at 555-0100")
        >>> view.digits, [view.text[s:e] for s, e in view.words][:3]
        (7, ['Call', 'Jane', 'at'])
    """

    __slots__ = ("_digit_runs", "_words", "digits", "free_text", "lower", "text")

    def __init__(self, text: str, *, free_text: bool = False) -> None:
        self.text = text
        lower = text.lower()
        # A few characters change length in lower case ("İ"); keep the indexes aligned.
        self.lower = (
            lower
            if len(lower) == len(text)
            else "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
        )
        self.free_text = free_text
        # Folded text holds ASCII digits only.
        self.digits = 0 if text.isalpha() else sum(text.count(d) for d in "0123456789")
        self._words: list[tuple[int, int]] | None = None
        self._digit_runs: list[tuple[int, int]] | None = None

    @property
    def words(self) -> list[tuple[int, int]]:
        """The (start, end) of every run of letters (an apostrophe may join two)."""
        if self._words is None:
            self._words = [m.span() for m in _WORD.finditer(self.text)]
        return self._words

    @property
    def digit_runs(self) -> list[tuple[int, int]]:
        """The (start, end) of every run of digits."""
        if self._digit_runs is None:
            self._digit_runs = [m.span() for m in _DIGIT_RUN.finditer(self.text)]
        return self._digit_runs

    def word(self, index: int) -> str:
        """The lower-case text of word ``index``."""
        start, end = self.words[index]
        return self.lower[start:end]
