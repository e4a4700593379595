"""Person names in labels and free text, from general vocabulary only.

* a common given name (``words/given_names.txt``), in any case, with the word after it when that
  word is not a function word (``jane doe``, ``Omar Haddad``), and the capitalised word before it
  when a comma joins them (``Haddad, Omar``);
* a capitalised word after an honorific or a greeting (``Dr. Okafor``, ``Mrs Lind``,
  ``Hi Ana``; ``words/greetings.txt``), and a surname after initials (``J. R. Lind``);
* two capitalised words after a person role (``Patient Firstname Lastname``,
  ``daughter: Ana Lima``).

Names the lists do not hold and that have no cue are left to a named-entity detector on declared
free text (see `unified_health.analytics.presidio`); undeclared prose is never sent at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from unified_health.analytics._scrub._view import Finding, ScanView
from unified_health.analytics._scrub._words import (
    GIVEN_NAMES,
    GREETINGS,
    HONORIFICS,
    PERSON_ROLES,
    STOP_WORDS,
)

__all__ = ["NameDetector"]

_JOINERS = frozenset({" ", "-", "_", ".", "+", ". ", ", "})
_CUE_JOINERS = frozenset({" ", ". ", ": ", ", ", ".", ":", " - ", "-"})
# Initials before a surname: "J. R. Hollingsworth", "A.B. Okafor".
_INITIALS = re.compile(r"(?<![\w.])(?:[A-Z]\.\s?){1,3}[A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)?")


class NameDetector:
    """Finds person names by given name, honorific or role cue.

    Examples:
        >>> from unified_health.analytics import Sanitizer
        >>> Sanitizer().scrub_value("Patient Firstname Lastname")[0]
        'Patient [REDACTED:name]'
    """

    category = "name"
    precedence = 40
    free_text_only = False

    def applies(self, view: ScanView) -> bool:
        """Whether the text has a word at all."""
        return bool(view.words)

    def find(self, view: ScanView) -> Iterator[Finding]:
        """Every name the vocabulary or a cue points at."""
        count = len(view.words)
        for index in range(count):
            word = view.word(index)
            if word in GIVEN_NAMES:
                yield self._given(view, index)
            elif word in HONORIFICS or word in GREETINGS or word in PERSON_ROLES:
                need = 2 if word in PERSON_ROLES else 1
                found = self._after_cue(view, index, need=need)
                if found is not None:
                    yield found
        for match in _INITIALS.finditer(view.text):
            yield Finding(match.start(), match.end(), self.category)

    def _joined(self, view: ScanView, left: int, right: int, joiners: frozenset[str]) -> bool:
        gap = view.text[view.words[left][1] : view.words[right][0]]
        return gap in joiners

    def _capitalised(self, view: ScanView, index: int) -> bool:
        start, end = view.words[index]
        return view.text[start].isupper() and view.lower[start:end] not in STOP_WORDS

    def _given(self, view: ScanView, index: int) -> Finding:
        start, end = view.words[index]
        after = index + 1
        if (
            after < len(view.words)
            and self._joined(view, index, after, _JOINERS)
            and view.word(after) not in STOP_WORDS
        ):
            end = view.words[after][1]
        before = index - 1
        if (
            before >= 0
            and view.text[view.words[before][1] : start] in (", ", ",")
            and self._capitalised(view, before)
        ):
            start = view.words[before][0]
        return Finding(start, end, self.category)

    def _after_cue(self, view: ScanView, index: int, need: int) -> Finding | None:
        names: list[int] = []
        last = index
        for after in range(index + 1, min(index + 4, len(view.words))):
            if not self._joined(view, last, after, _CUE_JOINERS) or not self._capitalised(
                view, after
            ):
                break
            names.append(after)
            last = after
        if len(names) < need:
            return None
        return Finding(view.words[names[0]][0], view.words[names[-1]][1], self.category)
