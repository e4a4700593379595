"""Identifiers in HL7 messages: v2 segments and field references, and FHIR resources as JSON.

HL7 v2 carries no label words: a value's meaning is its position. In a segment (``PID|1||00884127^^^
CRBH^MR||OKAFOR^MIRIAM``) fields are split by ``|``, components by ``^`` and repetitions by ``~``;
the field number is the position after the segment id. The fields that hold an identifier are
listed per segment in `FIELDS` (PID-3 ``mrn``, PID-5 ``name``, PID-7 ``date_of_birth``, PID-13
``phone``...); everything else (MSH, OBX, plan and unit codes) survives. Error messages name a field
instead ("PID-13", "Segment PID field 5") and quote its value: the quoted value is redacted under
that field's category, and a date field's unquoted timestamp likewise.

FHIR resources are JSON and most of their members are caught by their key like any embedded pair
(``"birthDate"``, ``"subscriberId"``, ``"city"``). Three shapes need the structure: a HumanName
array (``"name":[{"family":...,"given":[...],"text":...}]``), an identifier whose ``type`` code or
``system`` says what it is (``MR`` is a record number, ``us-ssn`` a Social Security Number) and an
Encounter's ``period``.
"""

from __future__ import annotations

import re

from unified_health.analytics._scrub._categories import RedactionCategory as C

__all__ = ["FIELDS", "find_fhir", "find_hl7", "might_hold_fhir", "might_hold_hl7"]

Span = tuple[int, int, str, int]

# Whole field, or only the id (first component) of each repetition of an extended id (CX).
_WHOLE = False
_ID_ONLY = True
# Segment -> field number -> (category, whether only the id components are redacted).
FIELDS: dict[str, dict[int, tuple[C, bool]]] = {
    "PID": {
        2: (C.MRN, _ID_ONLY), 3: (C.MRN, _ID_ONLY), 4: (C.MRN, _ID_ONLY), 5: (C.NAME, _WHOLE),
        6: (C.NAME, _WHOLE), 7: (C.DATE_OF_BIRTH, _WHOLE), 9: (C.NAME, _WHOLE),
        11: (C.STREET_ADDRESS, _WHOLE), 13: (C.PHONE, _WHOLE), 14: (C.PHONE, _WHOLE),
        18: (C.ACCOUNT_NUMBER, _ID_ONLY), 19: (C.SSN, _WHOLE), 20: (C.LICENSE_NUMBER, _WHOLE),
        29: (C.PERSONAL_DATE, _WHOLE),
    },
    "NK1": {
        2: (C.NAME, _WHOLE), 4: (C.STREET_ADDRESS, _WHOLE), 5: (C.PHONE, _WHOLE),
        6: (C.PHONE, _WHOLE), 16: (C.DATE_OF_BIRTH, _WHOLE), 30: (C.NAME, _WHOLE),
        31: (C.PHONE, _WHOLE), 32: (C.STREET_ADDRESS, _WHOLE), 37: (C.SSN, _WHOLE),
    },
    "GT1": {
        3: (C.NAME, _WHOLE), 5: (C.STREET_ADDRESS, _WHOLE), 6: (C.PHONE, _WHOLE),
        7: (C.PHONE, _WHOLE), 8: (C.DATE_OF_BIRTH, _WHOLE), 12: (C.SSN, _WHOLE),
    },
    "IN1": {
        16: (C.NAME, _WHOLE), 18: (C.DATE_OF_BIRTH, _WHOLE), 19: (C.STREET_ADDRESS, _WHOLE),
        36: (C.MEMBER_ID, _WHOLE), 49: (C.MEMBER_ID, _ID_ONLY),
    },
    "PV1": {
        19: (C.MRN, _ID_ONLY), 44: (C.PERSONAL_DATE, _WHOLE), 45: (C.PERSONAL_DATE, _WHOLE),
    },
    "MRG": {
        1: (C.MRN, _ID_ONLY), 2: (C.MRN, _ID_ONLY), 3: (C.ACCOUNT_NUMBER, _ID_ONLY),
        7: (C.NAME, _WHOLE),
    },
}  # fmt: skip
_DATES = frozenset({C.DATE_OF_BIRTH, C.PERSONAL_DATE})
_SEGMENT = re.compile(r"(?<![A-Za-z0-9])(PID|NK1|GT1|IN1|PV1|MRG)\|[^\r\n]*")
# The next segment of a message pasted on one line: "... PV1|1|O".
_NEXT_SEGMENT = re.compile(r"\s[A-Z][A-Z0-9]{2}\|")
# "PID-13", "NK1.4", "(MRG-1)", "Segment PID field 5".
_REFERENCE = re.compile(
    r"\b(?:(?P<segment>PID|NK1|GT1|IN1|PV1|MRG)[-.](?P<field>\d{1,2})"
    r"|(?i:segment)\s+(?P<segment2>PID|NK1|GT1|IN1|PV1|MRG)\s+(?i:field)\s+(?P<field2>\d{1,2}))"
    r"(?!\d)"
)
_QUOTED = re.compile(
    r"['\"\u2018\u201c](?P<value>[^'\"\u2018\u2019\u201c\u201d\n]{1,160})['\"\u2019\u201d]"
)
_TIMESTAMP = re.compile(r"(?<![\w.-])\d{8}(?:\d{2,6})?(?:\.\d{1,4})?(?:[+-]\d{4})?(?![\w.-])")
# How far after a field reference its value may be quoted.
_REFERENCE_WINDOW = 64


def might_hold_hl7(text: str) -> bool:
    """A cheap test: whether ``text`` names one of the segments `FIELDS` lists."""
    return (
        "PID" in text
        or "NK1" in text
        or "IN1" in text
        or "PV1" in text
        or "MRG" in text
        or "GT1" in text
    )


def find_hl7(text: str, spans: list[Span]) -> None:
    """Add the identifier fields of the HL7 v2 segments and field references in ``text``."""
    if "|" in text:
        for m in _SEGMENT.finditer(text):
            end = m.end()
            following = _NEXT_SEGMENT.search(text, m.start() + 4, end)
            if following is not None:
                end = following.start()
            _segment(text, m.start(), end, FIELDS[m.group(1)], spans)
    for m in _REFERENCE.finditer(text):
        segment = m.group("segment") or m.group("segment2")
        number = int(m.group("field") or m.group("field2"))
        found = FIELDS[segment].get(number)
        if found is None:
            continue
        category = found[0]
        window_end = min(len(text), m.end() + _REFERENCE_WINDOW)
        newline = text.find("\n", m.end(), window_end)
        if newline >= 0:
            window_end = newline
        quoted = _QUOTED.search(text, m.end(), window_end)
        if quoted is not None:
            value_end = quoted.end("value")
            while value_end > quoted.start("value") and text[value_end - 1] in "^~&":
                value_end -= 1
            if value_end > quoted.start("value"):
                spans.append((quoted.start("value"), value_end, category, 1))
        elif category in _DATES:
            stamp = _TIMESTAMP.search(text, m.end(), window_end)
            if stamp is not None:
                spans.append((stamp.start(), stamp.end(), category, 1))


def _segment(
    text: str, start: int, end: int, fields: dict[int, tuple[C, bool]], spans: list[Span]
) -> None:
    number = 0
    position = start
    while position <= end:
        stop = text.find("|", position, end)
        if stop < 0:
            stop = end
        found = fields.get(number) if number else None
        if found is not None and stop > position:
            category, id_only = found
            if id_only:
                _ids(text, position, stop, category, spans)
            else:
                value_end = stop
                while value_end > position and text[value_end - 1] in "^~&":
                    value_end -= 1
                if value_end > position:
                    spans.append((position, value_end, category, 1))
        number += 1
        position = stop + 1


def _ids(text: str, start: int, end: int, category: C, spans: list[Span]) -> None:
    """The id (first component) of each repetition of an extended id field."""
    position = start
    while position < end:
        stop = text.find("~", position, end)
        if stop < 0:
            stop = end
        caret = text.find("^", position, stop)
        id_end = stop if caret < 0 else caret
        if id_end > position:
            spans.append((position, id_end, category, 1))
        position = stop + 1


# ---------------------------------------------------------------- FHIR
_STRING = r'"(?:[^"\\]|\\.)*"'
_HUMAN_NAME = re.compile(
    r'"name"\s*:\s*\[(?P<body>(?:[^\[\]"]|' + _STRING + r"|\[(?:[^\[\]\"]|" + _STRING
    + r")*\])*)\]"
)  # fmt: skip
_NAME_PART = re.compile(r'"(?:text|family)"\s*:\s*"(?P<value>(?:[^"\\]|\\.)+)"')
_GIVEN = re.compile(r'"given"\s*:\s*\[(?P<list>[^\]]*)\]')
_LIST_STRING = re.compile(r'"(?P<value>(?:[^"\\]|\\.)+)"')
# An identifier's type code (v2 table 0203) and what it makes the identifier's value.
_TYPE_CODES = {
    "MR": C.MRN, "MRT": C.MRN, "PI": C.MRN, "PT": C.MRN, "SS": C.SSN, "SB": C.SSN,
    "DL": C.LICENSE_NUMBER, "PPN": C.LICENSE_NUMBER, "MB": C.MEMBER_ID, "MC": C.MEMBER_ID,
    "MA": C.MEMBER_ID, "MD": C.MEMBER_ID, "SN": C.MEMBER_ID, "AN": C.ACCOUNT_NUMBER,
}  # fmt: skip
_TYPE_CODE = re.compile(r'"code"\s*:\s*"(?P<code>[A-Z]{2,3})"')
_SSN_SYSTEM = re.compile(r'"system"\s*:\s*"[^"]*/us-ssn"')
_VALUE = re.compile(r'"value"\s*:\s*"(?P<value>(?:[^"\\]|\\.)+)"')
_PERIOD = re.compile(r'"period"\s*:\s*\{(?P<body>[^{}]*)\}')
_PERIOD_DATE = re.compile(r'"(?:start|end)"\s*:\s*"(?P<value>[^"]+)"')
# How far after an identifier's type code or system its value may be.
_IDENTIFIER_WINDOW = 400


def might_hold_fhir(text: str) -> bool:
    """A cheap test: whether ``text`` may hold one of the FHIR shapes `find_fhir` reads."""
    return '"name"' in text or '"code"' in text or '"system"' in text or '"period"' in text


def find_fhir(text: str, spans: list[Span]) -> None:
    """Add the names, typed identifiers and encounter periods of FHIR JSON in ``text``."""
    if '"name"' in text and "[" in text:
        for m in _HUMAN_NAME.finditer(text):
            body_start = m.start("body")
            body = m.group("body")
            spans.extend(
                (body_start + part.start("value"), body_start + part.end("value"), C.NAME, 1)
                for part in _NAME_PART.finditer(body)
            )
            for given in _GIVEN.finditer(body):
                offset = body_start + given.start("list")
                spans.extend(
                    (offset + item.start("value"), offset + item.end("value"), C.NAME, 1)
                    for item in _LIST_STRING.finditer(given.group("list"))
                )
    if '"code"' in text and '"value"' in text:
        for m in _TYPE_CODE.finditer(text):
            category = _TYPE_CODES.get(m.group("code"))
            if (
                category is not None
                and text.rfind('"type"', max(0, m.start() - 96), m.start()) >= 0
            ):
                _identifier_value(text, m.end(), category, spans)
    if '"system"' in text and "us-ssn" in text:
        for m in _SSN_SYSTEM.finditer(text):
            _identifier_value(text, m.end(), C.SSN, spans)
    if '"period"' in text and ('Encounter"' in text or 'EpisodeOfCare"' in text):
        for m in _PERIOD.finditer(text):
            body_start = m.start("body")
            spans.extend(
                (body_start + d.start("value"), body_start + d.end("value"), C.PERSONAL_DATE, 1)
                for d in _PERIOD_DATE.finditer(m.group("body"))
            )


def _identifier_value(text: str, start: int, category: C, spans: list[Span]) -> None:
    value = _VALUE.search(text, start, min(len(text), start + _IDENTIFIER_WINDOW))
    if value is not None:
        spans.append((value.start("value"), value.end("value"), category, 1))
