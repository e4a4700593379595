"""Identifiers in DICOM attributes: tag notation and the DICOM JSON model.

DICOM, like HL7 v2, carries no label words: an attribute's tag says what its value is. Worklists,
PACS error messages and dumps write an attribute in tag notation, ``(0010,0010) PatientName
"DOE^JANE"`` (the keyword and the value representation are optional, the value is quoted or
bracketed), and web APIs in the DICOM JSON model, ``{"00100010":{"vr":"PN","Value":[{"Alphabetic":
"DOE^JANE"}]}}``. The attributes that identify a person are listed in `ATTRIBUTES`; UIDs, modality,
descriptions, institution names, AE titles and every other attribute survive. A person name's
carets separate its components (``FAMILY^GIVEN^MIDDLE^PREFIX``), not two values: the whole name
goes. A patient's age (``093Y``) is an identifier only from 90 years on.
"""

from __future__ import annotations

import re

from unified_health.analytics._scrub._categories import RedactionCategory as C

__all__ = ["ATTRIBUTES", "find_dicom", "might_hold_dicom"]

Span = tuple[int, int, str, int]

# Tag (group and element, upper-case hex) -> category of its value.
ATTRIBUTES: dict[str, C] = {
    "00100010": C.NAME,  # PatientName
    "00101001": C.NAME,  # OtherPatientNames
    "00101005": C.NAME,  # PatientBirthName
    "00101060": C.NAME,  # PatientMotherBirthName
    "00080090": C.NAME,  # ReferringPhysicianName
    "00081050": C.NAME,  # PerformingPhysicianName
    "00081060": C.NAME,  # NameOfPhysiciansReadingStudy
    "00081070": C.NAME,  # OperatorsName
    "00321032": C.NAME,  # RequestingPhysician
    "00100020": C.MRN,  # PatientID
    "00101000": C.MRN,  # OtherPatientIDs
    "00080050": C.MRN,  # AccessionNumber
    "00380010": C.MRN,  # AdmissionID
    "00100030": C.DATE_OF_BIRTH,  # PatientBirthDate
    "00080020": C.PERSONAL_DATE,  # StudyDate
    "00080021": C.PERSONAL_DATE,  # SeriesDate
    "00080022": C.PERSONAL_DATE,  # AcquisitionDate
    "00080023": C.PERSONAL_DATE,  # ContentDate
    "00101010": C.AGE_OVER_89,  # PatientAge, only from 090Y on
    "00101040": C.STREET_ADDRESS,  # PatientAddress
    "00102154": C.PHONE,  # PatientTelephoneNumbers
    "00181000": C.DEVICE_ID,  # DeviceSerialNumber
}
# "(0010,0010) PatientName PN "DOE^JANE"", "(0008,0050) [RAD250331-0087]", "(0010,0030)=19510309".
_TAGGED = re.compile(
    r"\((?P<group>[0-9A-Fa-f]{4}),\s?(?P<element>[0-9A-Fa-f]{4})\)[ \t]*"
    r"(?:[A-Za-z][A-Za-z0-9]{1,63}[ \t]*)?(?:(?-i:[A-Z]{2})[ \t]*)?[:=]?[ \t]*"
    r"(?:\"(?P<quoted>[^\"\n]{0,160})\"|\[(?P<bracketed>[^\]\n]{0,160})\]|(?P<bare>[^\s\"\[]{1,64}))"
)
# "00100010": {"vr": "PN", "Value": [ ... ]}
_JSON_ATTRIBUTE = re.compile(
    r"\"(?P<tag>[0-9A-Fa-f]{8})\"\s*:\s*\{\s*\"vr\"\s*:\s*\"[A-Z]{2}\"\s*,\s*"
    r"\"Value\"\s*:\s*\[(?P<values>[^\]]{0,512})\]"
)
# A value inside a Value array: a string, a number, or a person name's component group.
_JSON_VALUE = re.compile(
    r"\"(?:Alphabetic|Ideographic|Phonetic)\"\s*:\s*\"(?P<name>(?:[^\"\\]|\\.){1,160})\""
    r"|\"(?P<text>(?:[^\"\\]|\\.){1,160})\"(?!\s*:)|(?P<number>-?\d+(?:\.\d+)?)"
)
_AGE = re.compile(r"0*(?P<count>\d{1,3})\s*(?P<unit>[YMWD])?", re.IGNORECASE)
_NOBODY = frozenset({"", "ANONYMIZED", "ANONYMOUS", "REMOVED", "UNKNOWN", "NONE", "N/A"})
_OLDEST_UNMARKED = 89


def might_hold_dicom(text: str) -> bool:
    """A cheap test: whether ``text`` may hold a tagged or JSON DICOM attribute."""
    return ("(00" in text and "," in text) or '"vr"' in text


def find_dicom(text: str, spans: list[Span]) -> None:
    """Add the identifying DICOM attributes' values in ``text`` to ``spans``."""
    if "(00" in text:
        for m in _TAGGED.finditer(text):
            category = ATTRIBUTES.get((m.group("group") + m.group("element")).upper())
            if category is None:
                continue
            group = next(g for g in ("quoted", "bracketed", "bare") if m.group(g) is not None)
            _add(m.group(group), m.start(group), category, spans)
    if '"vr"' in text:
        for m in _JSON_ATTRIBUTE.finditer(text):
            category = ATTRIBUTES.get(m.group("tag").upper())
            if category is None:
                continue
            offset = m.start("values")
            for value in _JSON_VALUE.finditer(m.group("values")):
                group = next(g for g in ("name", "text", "number") if value.group(g) is not None)
                _add(value.group(group), offset + value.start(group), category, spans)


def _add(value: str, start: int, category: C, spans: list[Span]) -> None:
    """One attribute value, unless it is a placeholder or an age under 90."""
    stripped = value.strip()
    if stripped.upper() in _NOBODY:
        return
    if category is C.AGE_OVER_89:
        age = _AGE.fullmatch(stripped)
        if age is None or (age.group("unit") or "Y").upper() != "Y":
            return
        if int(age.group("count")) <= _OLDEST_UNMARKED:
            return
    offset = start + value.index(stripped[0])
    spans.append((offset, offset + len(stripped), category, 1))
