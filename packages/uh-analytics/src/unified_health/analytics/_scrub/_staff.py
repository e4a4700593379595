"""Names and staff identifiers in hospital operations text: pager, handoff, OR board, audit logs.

Clinicians and staff are named by their role rather than by a name label: "Dr. Vasquez-Lind",
"Surgeon: Dr. Ferreira-Holm", "called to RN Abernathy", "Charge RN: Deshawn Pryce-Whitaker",
"Witness: security officer Brannigan", "handoff given by Delacroix". Patients are named after
"pt" in messaging shorthand ("pt Whitcombe c/o chest pain"), as ``LAST, FIRST`` after a pickup or
label cue or before an age and sex ("Beaumont, Clarice 81F", "HARLOW, D (M) 74y"), or by the
nickname they prefer ("prefers to be called 'Sunny'"). A staff login built from a name
(``JMORALES2``, ``cgutierrez3``) follows "user" or "by rn" in cabinet and audit logs. An implant
UDI's serial (GS1 application identifier 21) identifies the device. Overhead codes that read as
names ("Paging Dr. Strong") are not names.
"""

from __future__ import annotations

import re

from unified_health.analytics._scrub._categories import RedactionCategory as C
from unified_health.analytics._scrub._names import GIVEN_NAMES
from unified_health.analytics._scrub._patterns import CAPS_WORD, NAME_WORD

__all__ = ["STAFF_CUES", "find_staff", "find_udi_serial"]

Span = tuple[int, int, str, int]

# Rank of a titled or role-cued name: ahead of a street address, so "by Dr. Quintanilla" (read
# as a street ending in "Dr.") is reported as the name it is.
_RANK = 6
# A surname after a doctor's title: "Dr. Ebersole:", "Dr Moreau a rejoint", "Dr. Sokolova|5N".
_DOCTOR = re.compile(
    r"(?<![\w])(?P<paging>(?i:paging)[ \t]+)?(?:Dr|DR|Doctor|Docteur)\.?[ \t]+"
    rf"(?P<name>{NAME_WORD})(?![\w'\u2019-])"
)
# Overhead paging codes that read as a doctor's name ("Dr. Strong" is a show of force, "Dr.
# Firestone" a fire), and brands named after one.
_OVERHEAD_CODES = frozenset(
    {"strong", "firestone", "heart", "red", "blue", "quick", "allcome", "armstrong", "pyro",
     "stork", "gray", "grey", "white", "brown", "green", "pink", "amber", "orange", "silver",
     "pepper", "scholl", "martens", "oetker", "seuss"}
)  # fmt: skip
# A provider directory's entry: "Dr. Lee, OD", "Dr. Shah, MD" names a practice, not a party.
_CREDENTIAL_AFTER = re.compile(r",?[ \t]+(?:OD|MD|DO|DDS|DMD|DPM|NP|PA-C|PA|PhD|PsyD|DC|RN)\b")
# A name after a staff role: "RN Tomasz Wierzbicki", "Reporter: Gwendolyn Achebe RN".
_ROLE = re.compile(
    r"(?<![\w])(?:(?:Charge[ \t]+)?RN|LPN|CNA|(?i:reporter|witness|surgeon|attending|resident"
    r"|anesthesiologist|transporter|(?:security[ \t]+)?officer|given[ \t]+by|called[ \t]+to"
    r"|badge[ \t]+holder|consult(?:ed)?|read[ \t]+by))"
    r"(?:[ \t]*+:[ \t]++|[ \t]++)(?:(?:Dr|RN)\.?[ \t]++)?"
    rf"(?P<name>{NAME_WORD}(?:[ \t]+{NAME_WORD}){{0,2}})(?![\w'\u2019-])"
)
# A patient named in messaging shorthand: "pt Whitcombe c/o ...", "pt Fennimore<TAB>Rm 509".
_PATIENT = re.compile(
    rf"(?<![\w])(?:pt|Pt|PT)[ \t]+(?P<name>{NAME_WORD})(?=[ \t]+(?:c/o|in|is|ready|to|for|at"
    r"|on|has|was|now|needs|states|reports|c/o)\b|\t|[ \t]*(?:[,;|\n]|\Z))"
)
_LAST_FIRST = re.compile(
    r"(?:(?P<cue>(?i:pick[ \t-]?up|transport(?:ing)?|summary:|label[ \t]+for|for|patient:))[ \t]+)?"
    rf"(?<![\w,])(?P<name>(?P<last>{CAPS_WORD}|{NAME_WORD}),[ \t]*"
    rf"(?P<first>{CAPS_WORD}|{NAME_WORD}|[A-Z](?![\w])))"
    r"(?P<marker>[ \t]+(?:\(?[MF]\)?[ \t]+)?\d{1,3}[ \t]*(?:y|yo|[MF])(?![\w]))?"
)
_STRONG_CUES = frozenset({"pickup", "pick up", "pick-up", "transport", "transporting", "summary:"})
_NICKNAME = re.compile(
    r"(?i:prefers?[ \t]+to[ \t]+be[ \t]+called|goes[ \t]+by|likes[ \t]+to[ \t]+be[ \t]+called)"
    rf"[ \t]+['\"\u2018\u201c]?(?P<name>{NAME_WORD})"
)
# A login after "user" or "by rn": letters of a name and one to three digits.
_LOGIN = re.compile(
    r"(?<![\w])(?i:user(?:name)?|by[ \t]+rn|logged[ \t]+in[ \t]+as|login)[ \t]*:?[ \t]+"
    r"(?P<login>[A-Z]{4,15}\d{1,3}|[a-z]{4,15}\d{1,3})(?![\w])"
)
_NOT_LOGINS = frozenset(
    {"admin", "user", "test", "guest", "system", "batch", "root", "service", "nurse", "demo",
     "tech", "temp", "kiosk", "station", "cart", "unit", "device", "pump", "node", "host"}
)  # fmt: skip
_UDI_SERIAL = re.compile(
    r"\(01\)\d{14}(?:\(\d{2,4}\)[^()\s]{1,20}){0,4}?\(21\)(?P<serial>[^()\s]{1,20})"
)
_ROLE_WORDS = frozenset(
    {"rn", "lpn", "cna", "reporter", "witness", "surgeon", "attending", "resident",
     "anesthesiologist", "transporter", "officer", "given", "called", "holder", "consult",
     "consulted", "read"}
)  # fmt: skip
_LAST_FIRST_WORDS = frozenset(
    {"pick", "pickup", "transport", "transporting", "summary", "label", "for", "patient", "y",
     "yo", "m", "f"}
)  # fmt: skip
STAFF_CUES = frozenset(
    {"dr", "doctor", "docteur", "rn", "lpn", "cna", "reporter", "witness", "surgeon",
     "attending", "resident", "anesthesiologist", "transporter", "officer", "given", "called",
     "holder", "consult", "consulted", "read", "pt", "pick", "pickup", "transport",
     "transporting", "summary", "label", "for", "patient", "prefers", "prefer", "goes", "likes",
     "user", "username", "logged", "login", "y", "yo", "m", "f"}
)  # fmt: skip


def find_staff(text: str, words: set[str], common: frozenset[str], spans: list[Span]) -> None:
    """Staff and patient names, logins and implant serials; ``common`` are non-name words."""
    if "dr" in words or "doctor" in words or "docteur" in words:
        spans.extend(
            (m.start("name"), m.end("name"), C.NAME, _RANK)
            for m in _DOCTOR.finditer(text)
            if m.group("paging") is None
            and m.group("name").lower() not in _OVERHEAD_CODES
            and not _CREDENTIAL_AFTER.match(text, m.end())
            and _name_ok(m.group("name"), common)
        )
    if not words.isdisjoint(_ROLE_WORDS):
        spans.extend(
            (m.start("name"), m.end("name"), C.NAME, _RANK)
            for m in _ROLE.finditer(text)
            if _name_ok(m.group("name"), common)
        )
    if "pt" in words:
        spans.extend(
            (m.start("name"), m.end("name"), C.NAME, 9)
            for m in _PATIENT.finditer(text)
            if _name_ok(m.group("name"), common)
        )
    if "," in text and not words.isdisjoint(_LAST_FIRST_WORDS):
        _last_first(text, common, spans)
    if "called" in words or "goes" in words:
        spans.extend(
            (m.start("name"), m.end("name"), C.NAME, 9)
            for m in _NICKNAME.finditer(text)
            if _name_ok(m.group("name"), common)
        )
    if "user" in words or "rn" in words or "logged" in words or "login" in words:
        for m in _LOGIN.finditer(text):
            letters = m.group("login").rstrip("0123456789").lower()
            if letters not in _NOT_LOGINS and letters[1:] not in _NOT_LOGINS:
                spans.append((m.start("login"), m.end("login"), C.NAME, 9))


def find_udi_serial(text: str, spans: list[Span]) -> None:
    """The serial number (AI 21) in an implant's UDI; its GTIN, lot and expiry are benign."""
    spans.extend(
        (m.start("serial"), m.end("serial"), C.DEVICE_ID, 4) for m in _UDI_SERIAL.finditer(text)
    )


def _last_first(text: str, common: frozenset[str], spans: list[Span]) -> None:
    """``LAST, FIRST`` after a pickup or label cue, or before an age and sex."""
    for m in _LAST_FIRST.finditer(text):
        cue = (m.group("cue") or "").lower()
        last, first = m.group("last"), m.group("first")
        if not _name_ok(f"{last} {first}", common):
            continue
        if (
            m.group("marker") is not None
            or cue in _STRONG_CUES
            or (cue and first.lower() in GIVEN_NAMES)
        ):
            spans.append((m.start("name"), m.end("name"), C.NAME, 9))


def _name_ok(value: str, common: frozenset[str]) -> bool:
    """Whether capitalised words are a name rather than common words."""
    found = value.lower().replace("-", " ").split()
    return bool(found) and common.isdisjoint(found)
