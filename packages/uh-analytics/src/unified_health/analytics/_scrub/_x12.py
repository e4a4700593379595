"""Identifiers in ASC X12 EDI (837, 835, 270/271, 277CA): segments and element references.

Like HL7 v2, X12 carries few label words: a value's meaning is its segment, its element position
and the qualifier beside it. Segments end with ``~``, elements are split by ``*`` and components
by ``:``; the element number is the position after the segment id (``NM1*IL*1*DOE*JANE`` holds
NM103 ``DOE`` and NM104 ``JANE``). What is redacted, by segment:

* ``NM1`` of a person (NM102 ``1``, or a subscriber, patient or individual provider entity code):
  NM103-NM105 are a ``name``; NM109 is a ``member_id`` after qualifier ``MI``/``II`` and an
  ``ssn`` after ``34``. An organisation (NM102 ``2``: billing provider, payer) is left alone, and
  so is an NPI (``XX``) or payer id (``PI``).
* ``REF`` by qualifier: ``SY`` ssn, ``EA`` mrn, ``1W``/``IG``/``HJ``/``F6``/``NQ`` member_id,
  ``EJ`` account_number. Claim, prior-authorisation, group and trace references survive.
* ``DMG02`` (a ``D8`` date) is a ``date_of_birth``; ``DTP`` and ``DTM`` dates whose qualifier is a
  person's event (service, accident, admission, discharge, onset, last menstrual period) are a
  ``personal_date``.
* ``N3`` is a ``street_address``, ``N401`` a ``location`` and ``N403`` a ``zip_code``, unless the
  text names an organisation's loop (billing provider 2010AA, pay-to 2010AB, payer 2010BB...) or
  follows an organisation's ``NM1``.
* ``PER`` phone numbers (``TE``, ``CP``, ``FX``...) are a ``phone`` and an ``EM`` value an
  ``email``; ``CLM01`` and ``CLP01``, the patient control number, are an ``account_number``.

Parser and clearinghouse messages name an element instead (``NM109 'W839201746' failed``, ``N403
'99216123'``): the value quoted after the reference is redacted under that element's category.
"""

from __future__ import annotations

import re

from unified_health.analytics._scrub._categories import RedactionCategory as C

__all__ = ["find_x12", "might_hold_x12"]

Span = tuple[int, int, str, int]

_SEGMENT = re.compile(r"(?<![A-Za-z0-9])(NM1|N3|N4|DMG|REF|CLM|CLP|DTP|DTM|PER)\*[^~\r\n]*")
# "NM109", "N403", "DMG02": a segment id and a two-digit element number.
_REFERENCE = re.compile(r"(?<![A-Za-z0-9])(NM1|N3|N4|DMG|CLM|CLP|PER|DTP)(\d\d)(?![A-Za-z0-9])")
_QUOTED = re.compile(
    r"\s*+[:=]?\s*+['\"\u2018\u201c](?P<value>[^'\"\u2018\u2019\u201c\u201d\n]{1,80})['\"\u2019\u201d]"
)
# How far after an element reference its quoted value may end.
_REFERENCE_WINDOW = 100
# NM101 entity codes of a person: subscriber, patient, dependent, rendering, referring,
# attending, operating, ordering and supervising providers, other insured.
_PERSON_ENTITIES = frozenset(
    {"IL", "QC", "03", "82", "DN", "P3", "71", "72", "73", "DK", "DQ", "GB", "74"}
)
_PERSON = "1"
_ORGANISATION = "2"
_MEMBER_QUALIFIERS = frozenset({"MI", "II", "ZZ"})
_REF_CATEGORIES = {
    "SY": C.SSN, "EA": C.MRN, "1W": C.MEMBER_ID, "IG": C.MEMBER_ID, "HJ": C.MEMBER_ID,
    "F6": C.MEMBER_ID, "NQ": C.MEMBER_ID, "EJ": C.ACCOUNT_NUMBER,
}  # fmt: skip
# DTP01/DTM01 qualifiers of a person's event: service, accident, admission, discharge, onset,
# initial treatment, last visit, last menstrual period, service period start and end.
_PERSONAL_DATES = frozenset(
    {"472", "439", "435", "096", "431", "454", "304", "453", "438", "484", "150", "151", "232",
     "233", "434", "360", "361", "297", "296", "455", "471"}
)  # fmt: skip
_PHONE_QUALIFIERS = frozenset({"TE", "CP", "FX", "HP", "WP", "BN"})
# Loops of an organisation: billing provider, pay-to address and plan, payer, service facility.
_ORGANISATION_LOOP = re.compile(r"\b(?:2010A[ABC]|2010BB|2310[CDE]|2420[CDE]|1000[AB])\b")
_ELEMENTS: dict[str, dict[int, C]] = {
    "NM1": {3: C.NAME, 4: C.NAME, 5: C.NAME, 9: C.MEMBER_ID},
    "N3": {1: C.STREET_ADDRESS, 2: C.STREET_ADDRESS},
    "N4": {1: C.LOCATION, 3: C.ZIP_CODE},
    "DMG": {2: C.DATE_OF_BIRTH},
    "CLM": {1: C.ACCOUNT_NUMBER},
    "CLP": {1: C.ACCOUNT_NUMBER},
    "PER": {4: C.PHONE, 6: C.PHONE, 8: C.PHONE},
    "DTP": {3: C.PERSONAL_DATE},
}
_PLACES = frozenset({"N3", "N4"})


def might_hold_x12(text: str) -> bool:
    """A cheap test: whether ``text`` names one of the segments `find_x12` reads."""
    return (
        "NM1" in text
        or "N3" in text
        or "N4" in text
        or "DMG" in text
        or "REF*" in text
        or "CLM" in text
        or "CLP" in text
        or "DT" in text
        or "PER" in text
    )


def find_x12(text: str, spans: list[Span]) -> None:
    """Add the identifier elements of the X12 segments and element references in ``text``."""
    organisation_loop = _ORGANISATION_LOOP.search(text) is not None
    if "*" in text:
        organisation = organisation_loop
        for m in _SEGMENT.finditer(text):
            segment = _Segment(text, m.start(), m.end())
            name = m.group(1)
            if name == "NM1":
                organisation = _name(segment, spans) or organisation_loop
            elif name in _PLACES:
                if not organisation:
                    _place(name, segment, spans)
            else:
                _other(name, segment, spans)
    if organisation_loop:
        return
    for m in _REFERENCE.finditer(text):
        category = _ELEMENTS[m.group(1)].get(int(m.group(2)))
        if category is None:
            continue
        quoted = _QUOTED.match(text, m.end(), min(len(text), m.end() + _REFERENCE_WINDOW))
        if quoted is not None:
            value = quoted.group("value").rstrip("~* ")
            if value:
                start = quoted.start("value")
                spans.append((start, start + len(value), category, 1))


class _Segment:
    """One segment's elements: ``value(i)`` is element ``i`` (0 is the segment id)."""

    __slots__ = ("bounds", "text")

    def __init__(self, text: str, start: int, end: int) -> None:
        self.text = text
        self.bounds: list[tuple[int, int]] = []
        position = start
        while True:
            stop = text.find("*", position, end)
            if stop < 0:
                self.bounds.append((position, _last_end(text, position, end)))
                return
            self.bounds.append((position, stop))
            position = stop + 1

    def value(self, index: int) -> str:
        if index >= len(self.bounds):
            return ""
        start, end = self.bounds[index]
        return self.text[start:end]

    def add(self, index: int, category: C, spans: list[Span]) -> None:
        if index < len(self.bounds):
            start, end = self.bounds[index]
            if end > start and self.text[start:end].strip():
                spans.append((start, end, category, 1))


def _last_end(text: str, start: int, end: int) -> int:
    """The last element of a segment pasted without its ``~`` ends before the prose after it."""
    space = text.find(" ", start, end)
    return end if space < 0 else space


def _name(segment: _Segment, spans: list[Span]) -> bool:
    """An NM1 segment's person name and id; True when it names an organisation."""
    kind = segment.value(2)
    if kind == _ORGANISATION:
        return True
    if kind != _PERSON and segment.value(1) not in _PERSON_ENTITIES:
        return False
    start = segment.bounds[3][0] if len(segment.bounds) > 3 else 0
    end = 0
    for index in (3, 4, 5):
        if index < len(segment.bounds) and segment.value(index).strip():
            end = segment.bounds[index][1]
    if end > start:
        spans.append((start, end, C.NAME, 1))
    qualifier = segment.value(8)
    if qualifier in _MEMBER_QUALIFIERS:
        segment.add(9, C.MEMBER_ID, spans)
    elif qualifier == "34":
        segment.add(9, C.SSN, spans)
    return False


def _place(name: str, segment: _Segment, spans: list[Span]) -> None:
    if name == "N3":
        segment.add(1, C.STREET_ADDRESS, spans)
        segment.add(2, C.STREET_ADDRESS, spans)
    else:
        segment.add(1, C.LOCATION, spans)
        segment.add(3, C.ZIP_CODE, spans)


def _other(name: str, segment: _Segment, spans: list[Span]) -> None:
    if name == "REF":
        category = _REF_CATEGORIES.get(segment.value(1))
        if category is not None:
            segment.add(2, category, spans)
    elif name == "DMG":
        if segment.value(1) == "D8":
            segment.add(2, C.DATE_OF_BIRTH, spans)
    elif name == "DTP":
        if segment.value(1) in _PERSONAL_DATES:
            segment.add(3, C.PERSONAL_DATE, spans)
    elif name == "DTM":
        if segment.value(1) in _PERSONAL_DATES:
            segment.add(2, C.PERSONAL_DATE, spans)
    elif name == "PER":
        for index in (3, 5, 7):
            qualifier = segment.value(index)
            if qualifier in _PHONE_QUALIFIERS:
                segment.add(index + 1, C.PHONE, spans)
            elif qualifier == "EM":
                segment.add(index + 1, C.EMAIL, spans)
    else:  # CLM, CLP: the patient control number
        segment.add(1, C.ACCOUNT_NUMBER, spans)
