"""Value-aware detection: find identifiers inside a string and replace each span with a marker.

Cheap pre-checks decide which detectors run at all (most values have no digit and no ``@``), each
detector finds candidates with a precompiled pattern, and checksums or context words confirm them.
Overlapping findings are merged into one redaction, reported under the most specific category.

Two views of a value are scanned besides the value itself, and what they find is mapped back onto
the original characters:

* non-ASCII text is folded character by character (fullwidth forms to ASCII, non-breaking and other
  Unicode spaces to a space, Unicode hyphens and dashes to ``-``), so a card number typed in
  fullwidth digits or a phone number typed with non-breaking spaces is read like its ASCII twin;
* text holding percent escapes is decoded (twice, for double encoding; a ``+`` between letters or
  digits reads as a space), so ``ssn%3D447-19-3321`` or an encoded referrer URL is read decoded.

Key/value pairs embedded in text (a JSON object serialised into a string, ``key=value`` pairs, a
``column_name,value`` CSV row) are judged by their key like properties are:
``{"dob":"1944-12-02"}``, ``geo=51.5073,-0.1277`` or ``emergency_contact_name,Tom Baker``.

Context decides a few more: a value a validation message echoes back is sensitive by the field it
names even when malformed (``'123-45-678' is not a valid SSN``), as are digits typed right after
"SSN" or "card number"; a first and last name follows "this is"; and an image or document file
name carries a name when two of its words read as first and last name (``jane_doe_xray.png``),
follow a signature word, or stand out by their case (``ref_packet_QUINTANILLA_ESPERANZA.pdf``).

Labels are read in Spanish as well as English ("fecha de nacimiento", "expediente", "número de
afiliado", "seguro social", "Sra."), and names after a relative or role word ("her brother
Rafferty", "your driver Tomás Aguirre"), quoted after the words for a name, written ``LAST, FIRST``
after a patient or chart cue, or in a CSV or TSV preview's person column are names. HL7 v2 segments
and FHIR resources are read by position and structure (`_hl7`), X12 segments by element (`_x12`)
and DICOM attributes by tag (`_dicom`). German, French, Dutch and Italian identifiers, labels,
dates, addresses and titles are read by `_europe`, and the names and staff ids of hospital
operations text ("Dr. Ebersole", "called to RN Abernathy", "user JMORALES2") by `_staff`.
"""

from __future__ import annotations

import bisect
import itertools
import re
import string
from collections.abc import Iterable

from unified_health.analytics._clock import Clock, SystemClock
from unified_health.analytics._scrub import _patterns as p
from unified_health.analytics._scrub._categories import RedactionCategory as C
from unified_health.analytics._scrub._categories import marker
from unified_health.analytics._scrub._checks import (
    IBAN_LENGTHS,
    digits_of,
    is_card_number,
    is_iban,
    is_imei,
    is_ip_address,
    is_ssn,
    is_vin,
    luhn_ok,
)
from unified_health.analytics._scrub._dicom import find_dicom, might_hold_dicom
from unified_health.analytics._scrub._europe import (
    ADDRESS_WORDS,
    EU_NAME_CUES,
    EU_TRIGGERS,
    dutch_postcode_end,
    find_european,
    find_european_address,
    find_european_names,
    find_own_place,
)
from unified_health.analytics._scrub._hl7 import (
    find_fhir,
    find_hl7,
    might_hold_fhir,
    might_hold_hl7,
)
from unified_health.analytics._scrub._keys import is_age_key, read_key
from unified_health.analytics._scrub._names import (
    FILE_WORDS,
    GIVEN_NAMES,
    SIGNATURE_WORDS,
    US_STATES,
)
from unified_health.analytics._scrub._staff import STAFF_CUES, find_staff, find_udi_serial
from unified_health.analytics._scrub._url import UrlScrubber
from unified_health.analytics._scrub._x12 import find_x12, might_hold_x12

__all__ = ["Span", "TextScanner", "last_first_query", "signature_names", "trailing_zip"]

# (start, end, category, rank): a lower rank wins when two findings overlap.
Span = tuple[int, int, str, int]

# GSMA reporting-body prefixes an IMEI starts with.
_IMEI_PREFIXES = frozenset(
    {"01", "10", "30", "33", "35", "44", "45", "49", "50", "51", "52", "53", "54", "86", "91", "98",
     "99"}
)  # fmt: skip
_CONTEXT_WINDOW = 48
_ICCID_LENGTH = 19
_GLUED_LENGTHS = frozenset(range(5, 13))
# A card number or IMEI found inside a longer digit run must be long enough that a chance Luhn
# match of a shorter slice (one in ten) is not taken for one.
_MIN_PART = 14
_MAX_PART = 19
_DIGIT_RUN = re.compile(r"\d+")
# Cheap gates: each starts with a character class, so the regex engine skips ahead quickly, and
# each is implied by a match of the (slower) detector it guards.
_SSN_HINT = re.compile(r"\d{3}(?: ?[-.] ?| )\d\d(?: ?[-.] ?| )\d{4}")
_LONG_HINT = re.compile(r"\d(?:[ -]?\d){12}")
_IBAN_HINT = re.compile(r"[A-Za-z]{2}\d\d")
_VIN_HINT = re.compile(r"[A-HJ-NPR-Z0-9]{17}", re.IGNORECASE)
_MBI_HINT = re.compile(r"[1-9][AC-HJKMNP-RT-Y][AC-HJKMNP-RT-Y0-9]\d")
_NATIONAL_HINT = re.compile(r"0[1-9]\d{0,3}(?:\)?(?: ?- ?| )\d|\.\d\d\.\d\d)|\([1-9]\d\)")
_DOTTED_HINT = re.compile(r"\d\.\d{1,3}\.\d{1,3}\.\d")
_CISCO_HINT = re.compile(r"[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}")
_LOCAL_CHARS = frozenset(string.ascii_letters + string.digits + "!#$'*+^`{|}~.-_%")
_NAME_WORDS = frozenset(
    {"mr", "mrs", "ms", "mx", "miss", "sr", "sra", "srta", "paciente", "nombre", "pt",
     "patient", "name", "full", "first", "last", "given",
     "family", "my", "his", "her", "their", "guardian", "caregiver", "spouse", "parent",
     "emergency", "next", "insured", "guarantor", "subscriber", "responsible", "picked", "pick",
     "pickup", "caller", "investigator", "coordinator", "monitor", "dna", "relative", "lar",
     "participant", "subject", "witness"}
)  # fmt: skip
# Labels that introduce a related person's name ("Guardian: ..."), checked before the regex runs.
_RELATED_LABELS = re.compile(
    r"guardian|caregiver|spouse|parent|contact|kin|insured|guarantor|subscriber|responsible|pick"
    r"|caller|investigator|coordinator|monitor|match|signature"
)
_LETTERS = re.compile(r"[a-z]+")
# A label that can only introduce a person's name: a lower-case name after it needs no check.
_STRONG_NAME_LABEL = re.compile(r"(?:patient|pt|full|legal)'?s?\.? +name", re.IGNORECASE)
# The words that must appear (as a whole lower-case letter run) before a detector can match.
_DATE_WORDS = frozenset(
    {"dob", "birth", "birthdate", "birthday", "born", "deceased", "died", "death", "dod",
     "admitted", "admission", "admit", "discharged", "discharge", "service", "dos", "visit",
     "expired", "b", "procedure", "surgery", "surgical", "operation", "operated", "encounter",
     "injury", "injured", "accident", "hospitalized", "hospitalised", "appointment", "appt", "lmp",
     "menstrual", "naissance", "nacimiento", "vaccinated", "vaccination", "immunized",
     "immunised", "immunization", "immunisation", "diagnosed", "session", "episode",
     "seclusion", "restraint", "eval", "evaluation", "care", "nac", "naci", "nacido", "nacida",
     "cumplea", "cumpleanos", "alta", "ingreso", "egreso", "programada", "programado", "cita",
     "defunci", "defuncion", "fell", "fall", "consent", "consented", "scheduled", "onset",
     "started", "collected", "administered", "exposure"}
)  # fmt: skip
_AGE_WORDS = frozenset(
    {"age", "aged", "years", "year", "yrs", "yr", "yo", "y", "old", "patient", "resident",
     "woman", "man", "male", "female", "mother", "father", "grandmother", "grandfather"}
)  # fmt: skip
_STREET_WORDS = frozenset(p.STREET_SUFFIXES) | {"box"}
_FOREIGN_STREET_WORDS = frozenset(
    {"rue", "avenue", "boulevard", "bd", "chemin", "all", "allee", "impasse", "quai", "cours",
     "calle", "avenida", "via", "viale", "piazza", "rua", "travessa"}
)  # fmt: skip
_EU_STREET_WORDS = _FOREIGN_STREET_WORDS | ADDRESS_WORDS
_GLUED_ENDINGS = (
    "stra",
    "str.",
    "weg ",
    "platz ",
    "allee ",
    "gasse ",
    "straat ",
    "laan ",
    "gracht ",
)
_GLUED_STREET = re.compile(r"(?:stra(?:ß|ss)e|str\.|weg|platz|allee|gasse|straat|laan|gracht) \d")
_CONTEXT_WORDS = frozenset(p.CONTEXT_FIRST_WORDS)
_SSN_WORDS = frozenset({"ssn", "ss", "social", "soc", "tax", "taxpayer", "itin", "sin", "seguro"})
_PHONE_WORDS = frozenset(
    {"phone", "tel", "telephone", "mobile", "cell", "fax", "call", "text", "sms", "whatsapp",
     "contact", "celular", "cel", "m", "movil", "pager", "cb", "callback", "beeper"}
)  # fmt: skip
_PHONE_WINDOW = 64
# A run of percent escapes, or a form-encoded space (a "+" between two letters or digits).
_ESCAPES = re.compile(r"(?:%[0-9A-Fa-f]{2})+|(?<=[^\W_])\+(?=[^\W_])")
_COORD_HINT = re.compile(r"\d\.\d{4}")
_LEADING_NUMBER = re.compile(r"\s*(\d{1,3})(?![\d.])")
_MARKER = re.compile(r"\[REDACTED:[a-z][a-z0-9_]{0,39}\]")
_NOT_A_VALUE = frozenset({"null", "none", "true", "false", "undefined", "nan", "anonymous"})
# What a form shows as an e-mail field's placeholder: "name@example.com", "you@example.com".
_PLACEHOLDER_LOCALS = frozenset(
    {"name", "you", "your", "yourname", "your.name", "user", "username", "email", "someone",
     "firstname.lastname", "first.last", "firstname", "vorname.nachname", "max.mustermann",
     "prenom.nom", "nom", "naam", "nome", "nome.cognome", "voornaam.achternaam"}
)  # fmt: skip
# The domains reserved for documentation (RFC 2606) and the usual stand-ins for "your domain".
_EXAMPLE_DOMAINS = frozenset(
    {"example.com", "example.org", "example.net", "domain.com", "yourdomain.com", "email.com",
     "beispiel.de", "example.de", "exemple.fr", "example.fr", "voorbeeld.nl", "example.nl",
     "esempio.it", "example.it"}
)  # fmt: skip
# A parenthesised phone type after a seven-digit number: "555-0199 (home, ...)".
_PHONE_AFTER = re.compile(r"\s*\(\s*(?i:home|work|cell|mobile|landline|office|h|w|c|m)\b")
_DIGIT_WORDS = re.compile(r"zero|oh|one|two|three|four|five|six|seven|eight|nine")
# Words of pregnancy, fertility-treatment and loss wording that may tie a date to a person.
_EVENT_WORDS = frozenset(
    {"due", "edd", "lmp", "period", "retrieval", "transfer", "ivf", "iui", "fet", "d",
     "miscarriage", "miscarried", "lost", "stillbirth", "anniversary", "death", "died", "passed",
     "funeral", "confirmed", "booked", "scheduled", "arrived", "born", "came"}
)  # fmt: skip
_BILL_WORDS = ("statement", "payment", "invoice", "bill", "balance", "pay ", "paid", "amount")
# Words of a hospital stay before a date without a year ("admitted 2/27", "Discharged 3/15").
_STAY_WORDS = frozenset(
    {"admitted", "admission", "admit", "discharged", "discharge", "readmitted", "transferred"}
)
_STAY_WINDOW = 16
_EVENT_WINDOW = 32
# A codice fiscale holds seven digits; every other id `_europe` finds by its check holds nine.
_FEWEST_ID_DIGITS = 7
# How far before a date without a year its event's wording may be.
_SHORT_DATE_WINDOW = 40
_SPOKEN_AGE_WORDS = frozenset(
    {"she", "he", "they", "turns", "turned", "turning", "turn", "pt", "patient"}
)
_NINO_WORDS = frozenset({"ni", "nino", "insurance"})
_UK_LICENCE_LENGTH = 16
# Words that make `_find_foreign_ids` worth running on lower-case text.
_FOREIGN_ID_WORDS = frozenset({"ohip", "health", "sort", "bsb"})
_PHONE_TYPES = frozenset({"home", "work", "landline", "office"})
_POSTCODE_CUES = frozenset({"in", "near", "at", "from", "around", "postcode", "post"})
_WEAK_CUES = frozenset(
    {"sister", "brother", "mom", "mum", "mother", "dad", "father", "daughter", "son", "wife",
     "husband", "partner", "ex", "friend", "bestie", "bff", "grandpa", "grandma", "granny", "gran",
     "grandad", "granddad", "nan", "nana", "nanna", "papa", "aunt", "auntie", "uncle", "cousin",
     "niece", "nephew", "boyfriend", "girlfriend", "fianc", "fiance", "fiancee", "roommate",
     "flatmate", "coach", "therapist", "counselor", "counsellor", "colleague", "coworker", "boss",
     "bf", "gf", "dtr", "with", "w"}
)  # fmt: skip
_ROLE_CUES = frozenset(
    {"by", "debtor", "cardholder", "holder", "remitter", "payee", "receipt", "receipts",
     "statement", "statements", "invoice", "invoices", "refund", "refunds", "bill", "bills",
     "payment", "payments", "assigned", "reassigned", "friend"}
)  # fmt: skip
_GREETING_WORDS = frozenset({"hi", "hello", "hey", "dear", "morning", "evening"})
_PLACE_CUES = frozenset({"live", "lives", "living", "based", "moved", "relocated"})
# Capitalised words after "moved to" that are not a town: a work queue, a stage, a tab.
_NOT_A_PLACE = frozenset(
    {"collections", "collection", "pending", "queue", "step", "stage", "tab", "folder", "phase",
     "the", "a", "an", "my", "our", "production", "staging", "archive", "trash", "done", "review",
     "final", "level", "tier", "plan", "premium", "basic", "pro"}
)  # fmt: skip
# Lower-case words after "dr" that are not a surname: "dr appointment", "dr. visit".
_NOT_A_SURNAME = frozenset(
    {"appointment", "appointments", "appt", "visit", "visits", "office", "note", "notes", "said",
     "says", "told", "wants", "recommended", "referral", "order", "orders", "and", "the", "was",
     "will", "who", "near", "for", "not", "has", "had", "can", "did", "does", "letter",
     "list", "search", "finder", "directory", "portal"}
)  # fmt: skip


def _fold_table() -> dict[int, str]:
    table = {code: chr(code - 0xFEE0) for code in range(0xFF01, 0xFF5F)}  # fullwidth ASCII
    for code in (0x00A0, 0x1680, *range(0x2000, 0x200B), 0x202F, 0x205F, 0x3000):
        table[code] = " "
    for code in (*range(0x2010, 0x2016), 0x2212, 0xFE58, 0xFE63):
        table[code] = "-"
    return table


# One character for one character, so offsets in the folded text are offsets in the original.
_FOLD = _fold_table()


def _word_finder(words: Iterable[str]) -> re.Pattern[str]:
    """A pattern that finds any of ``words`` as a whole run of lower-case letters."""
    alternatives = "|".join(sorted(set(words), key=lambda word: (-len(word), word)))
    return re.compile(rf"(?<![a-z])(?:{alternatives})(?![a-z])")


_NAME_START = _word_finder(_NAME_WORDS)
_BY_START = _word_finder(("signed", "countersigned", "witnessed"))
# A relation word in a short lower-case phrase ("miss grandpa walt"): worth a look for a name.
_RELATION_HINT = _word_finder(_WEAK_CUES - {"with", "w"})
_GREETING_START = _word_finder(
    ("welcome", "hi", "hello", "hey", "dear", "thanks", "thank", "good", "from")
)
# Answers a name field holds that name no one: "Guarantor: Self", "Subscriber: Same as patient".
_NOT_A_NAME = frozenset(
    {"self", "same", "unknown", "none", "not", "other", "yes", "no", "patient", "dependent",
     "child", "spouse", "declined", "pending", "parent", "guardian", "guarantor", "subscriber",
     "status", "value", "type", "date", "mom", "dad", "mother", "father"}
)  # fmt: skip
# Words after a greeting that address no one in particular ("Welcome back, Guest").
_NOT_GREETED = frozenset(
    {"guest", "there", "everyone", "everybody", "all", "friend", "friends", "user", "team",
     "patient", "doctor", "again", "back", "welcome", "to", "i", "valued", "customer", "world",
     "sir", "madam", "member", "members", "folks", "y'all", "mom", "dad", "siri", "alexa"}
)  # fmt: skip
_IBAN_HEAD = re.compile(r"[A-Za-z]{2}\d{2}[ -]?\Z")
# Endings that make ``logo@2x.png`` a file name, not an address (none is a top-level domain).
_FILE_EXTENSIONS = frozenset(
    {"png", "jpg", "jpeg", "gif", "svg", "webp", "avif", "bmp", "ico", "tif", "tiff", "heic",
     "css", "js", "mjs", "map", "json", "pdf", "txt", "html", "htm", "woff", "woff2", "ttf",
     "otf", "mp3", "mp4", "webm", "mov", "wav"}
)  # fmt: skip
_NUMBER_WORD = re.compile(r"(?:number|no\.?|num|nbr|\#|id)\Z", re.IGNORECASE)
# The letter group of a plate written in two halves: "KD19 ABC".
# A provider programme's PIN names a clinic, not a person: "VFC PIN 045321".
_PROGRAMME_PIN = re.compile(r"\b(?i:vfc|provider|clinic|site|program(?:me)?|practice)[ \t]*\Z")
_PLATE_TAIL = re.compile(r" [A-Za-z]{3}(?![\w-])")
_CONTEXT_NAMES = tuple(name for name in p.CONTEXT_ID.groupindex if name != "value")
_ECHO_NAMES = tuple(name for name in p.ECHOED.groupindex if name != "value")
# How many digits a malformed value echoed under each kind of field may hold.
_ECHO_DIGITS = {
    C.SSN: (7, 11),
    C.CREDIT_CARD: (12, 19),
    C.ZIP_CODE: (3, 10),
    C.PHONE: (7, 15),
}
# Words before a trailing five-digit number that make it a code, not a ZIP code.
_CODE_WORDS = frozenset(
    {"cpt", "code", "codes", "icd", "hcpcs", "ndc", "loinc", "snomed", "drg", "order", "ref",
     "invoice", "claim", "ticket", "case", "error", "err", "room", "ext", "build", "version",
     "port", "page", "item", "sku", "product", "model", "part", "lot", "batch", "tracking", "id",
     "no", "number", "num", "npi", "group", "bin", "pcn", "rxbin", "rxpcn", "step", "level"}
)  # fmt: skip
# First words of a self-introduction that are not a given name ("this is Main Street Pharmacy").
_NOT_INTRO = frozenset(
    {"the", "a", "an", "your", "my", "our", "not", "just", "dr", "doctor", "nurse", "main",
     "north", "south", "east", "west", "new", "central", "saint", "st"}
)  # fmt: skip
_ORGANISATION_NAMES = frozenset(
    {"pharmacy", "clinic", "hospital", "health", "healthcare", "center", "centre", "medical",
     "care", "labs", "lab", "support", "team", "office", "street", "services", "group",
     "dental", "urgent", "family", "practice", "associates", "billing", "insurance", "shield",
     "cross", "plan"}
)  # fmt: skip
_FILE_SEPARATORS = re.compile(r"[-_ ]")
# The shortest word of a name found in a file name by its case, and in capitals.
_FILE_NAME_WORD = 2
_CAPS_WORD = 4
# Cue words of `_find_cued_names`, checked against the text's words before any regex runs.
_RELATIVE_CUES = frozenset(
    {"daughter", "son", "wife", "husband", "brother", "sister", "mother", "father", "grandson",
     "granddaughter", "grandmother", "grandfather", "aunt", "uncle", "niece", "nephew", "cousin",
     "fianc", "fiance", "fiancee", "boyfriend", "girlfriend", "roommate", "neighbor",
     "neighbour", "stepson", "stepdaughter", "stepmother", "stepfather", "hijo", "hija",
     "esposo", "esposa", "hermano", "hermana", "madre", "padre", "nieto", "nieta", "abuelo",
     "abuela", "tio", "tia", "t", "vecino", "vecina", "sobrino", "sobrina", "primo", "prima",
     "nuera", "yerno", "driver", "nurse", "aide", "caregiver", "therapist", "counselor",
     "counsellor", "courier", "paramedic", "worker", "manager", "chofer", "conductor",
     "conductora", "enfermero", "enfermera", "cuidador", "cuidadora", "terapeuta", "assigned",
     "reassigned", "transferred", "attn", "attention", "re"}
)  # fmt: skip
_LAST_FIRST_CUES = frozenset(
    {"patient", "pt", "chart", "client", "resident", "member", "subscriber", "insured",
     "guarantor", "paciente"}
)  # fmt: skip
_ACTION_WORDS = frozenset(
    {"shared", "sent", "invited", "added", "accepted", "requested", "replied", "commented",
     "messaged", "uploaded", "signed", "joined", "wants", "sharing", "left"}
)  # fmt: skip
# Capitalised words that follow a relative or role word without being a name ("Nurse
# Practitioner", "driver License"), and words of a capitalised label or heading.
_COMMON_CAPITALISED = frozenset(
    {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january",
     "february", "march", "april", "may", "june", "july", "august", "september", "october",
     "november", "december", "practitioner", "license", "licence", "app", "mode", "portal",
     "visit", "visits", "note", "notes", "line", "station", "assistant", "request", "requests",
     "prior", "authorization", "authorisation", "referral", "referrals", "record", "records",
     "result", "results", "appointment", "appointments", "follow", "update", "status", "queue",
     "on", "call", "shift", "schedule", "coordinator", "intake", "unit", "ward", "floor", "room",
     "desk", "report", "reports", "form", "forms", "order", "orders", "claim", "claims",
     "invoice", "billing", "payment", "account", "refill", "prescription", "lab", "labs",
     "test", "tests", "new", "active", "inactive", "discharged", "admitted", "deceased", "none",
     "unknown", "self", "demo", "sample", "example", "admin", "system", "user", "users",
     "support", "help", "info", "information", "summary", "notice", "reminder",
     "confirmation", "cancellation", "consult", "consultation", "evaluation", "review",
     # words of product and interface names ("Nurse Chat Entry Point", "Therapist Match Quiz")
     "chat", "entry", "point", "video", "widget", "navigator", "program", "programme", "match",
     "quiz", "triage", "advice", "hub", "button", "banner", "card", "flow", "screen", "page",
     "tab", "menu", "modal", "link", "icon", "experiment", "variant", "onboarding", "bot",
     "finder", "locator", "checker", "dashboard", "inbox", "settings", "profile", "home",
     "booking", "messaging", "hotline", "center", "centre", "service", "services", "team",
     "near", "nearby", "you", "me", "us", "google", "preference", "preferences", "cards", "list",
     "lists", "search", "directory", "online", "now", "today",
     # specialties, which a role word may precede ("consult Cardiology")
     "cardiology", "dermatology", "oncology", "neurology", "radiology", "pediatrics",
     "paediatrics", "orthopedics", "orthopaedics", "psychiatry", "psychology",
     "gastroenterology", "urology", "nephrology", "endocrinology", "rheumatology",
     "pulmonology", "ophthalmology", "obstetrics", "gynecology", "gynaecology", "anesthesiology",
     "anaesthesia", "hematology", "haematology", "surgery", "medicine", "internal", "emergency",
     "primary", "palliative", "hospice", "infectious", "nutrition", "physio", "physiotherapy",
     "pharmacy", "cardiac", "vascular", "trauma", "icu", "nicu", "ent"}
)  # fmt: skip
# Words that are never part of a name found by a staff or patient cue.
_NOT_NAME_WORDS = _COMMON_CAPITALISED | _NOT_A_NAME | _ORGANISATION_NAMES | _NOT_A_SURNAME
# Spanish words that start a reminder's object rather than name its recipient.
_SPANISH_COMMON = frozenset(
    {"su", "sus", "el", "la", "los", "las", "un", "una", "hoy", "ma", "manana", "tomar", "medir",
     "revisar", "usted", "ustedes", "todos", "todas", "this", "the", "your", "you", "today",
     "tomorrow", "all", "everyone", "de", "del", "medicamento", "medicamentos", "lectura",
     "cita", "visita", "refill", "appointment", "my", "our", "pickup", "delivery"}
)  # fmt: skip
_LAST_FIRST_QUERY = re.compile(
    r"\s*(?P<name>(?:[A-Za-zÀ-ÿ][a-zà-ÿ'\u2019-]+|[A-ZÀ-Þ][A-ZÀ-Þ'\u2019-]+),[ \t]*"
    r"(?:[A-Za-zÀ-ÿ][a-zà-ÿ'\u2019-]+|[A-ZÀ-Þ][A-ZÀ-Þ'\u2019-]+)(?:[ \t]+[A-Za-z]\.?)?)\s*"
)
# One-word state names, and the countries, that mark a place rather than a person.
_US_STATES = frozenset(s for s in US_STATES if " " not in s) | {"usa", "canada", "mexico"}
# A header cell of a CSV or tab-separated preview.
_HEADER_CELL = re.compile(r" ?[A-Za-z][A-Za-z0-9_.-]{0,39} ?")
_PERSON_COLUMNS = frozenset(
    {"patient", "client", "member", "resident", "subscriber", "guarantor", "insured", "person",
     "guardian", "caregiver", "paciente", "nombre"}
)  # fmt: skip
_PERSON = "person"
# A research subject's column ("Subject,Visit,Status"), whose cells are ids like "101-004".
_SUBJECT_COLUMNS = frozenset({"subject", "subj", "participant"})
_SUBJECT = "subject"
_SUBJECT_CELL = re.compile(r"\s*+(?:[A-Za-z]{1,5}-?)?\d{2,}(?:-\d++)*\s*+")
# A CSV cell that is itself a column name ("first_name,last_name" is a header row).
_KEY_CELL = re.compile(r"\s*[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+\s*")


class TextScanner:
    """Finds identifiers in free text; immutable after construction and safe to share."""

    __slots__ = ("_clock", "_custom", "_url")

    def __init__(
        self, custom: Iterable[tuple[str, re.Pattern[str]]] = (), clock: Clock | None = None
    ) -> None:
        self._custom = tuple(custom)
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._url = UrlScrubber(self.find)

    # ------------------------------------------------------------ public
    def redact(self, text: str, counts: dict[str, int]) -> str:
        """Replace every identifier in ``text`` by its marker and add to ``counts``."""
        spans = self.find(text)
        if not spans:
            return text
        return apply_spans(text, spans, counts)

    def find(self, text: str) -> list[Span]:
        """All findings in ``text``, unmerged."""
        spans: list[Span] = []
        for name, pattern in self._custom:
            spans.extend((m.start(), m.end(), name, 0) for m in pattern.finditer(text) if m.group())
        if len(text) < 2:
            return spans
        if not text.isascii():
            text = text.translate(_FOLD)
        if p.BENIGN_TOKEN.fullmatch(text) and not ("ninety" in text or "hundred" in text):
            if " " in text and _RELATION_HINT.search(text):
                # A short lower-case phrase holds no identifier but a relative's given name.
                _find_weak_names(text, text, set(_LETTERS.findall(text)), spans)
            return spans
        urls = self._scan(text, spans)
        if "%" in text and p.PERCENT_ESCAPE.search(text):
            # URLs (whose parameters the URL scrubber decodes itself) and what is already found
            # need no second look: decode only the rest.
            covered = sorted([*urls, *((start, end) for start, end, _, _ in spans)])
            if covered:
                text = _blank(text, covered)
                if not p.PERCENT_ESCAPE.search(text):
                    return spans
            decoded, starts, ends = _percent_decode(text)
            if decoded != text:
                inner: list[Span] = []
                self._scan(decoded, inner)
                spans.extend(
                    (starts[start], ends[end - 1], category, rank)
                    for start, end, category, rank in inner
                    if end > start
                )
        return spans

    def _scan(self, text: str, spans: list[Span]) -> list[tuple[int, int]]:
        """Add the findings in ``text`` to ``spans``; return where the URLs in it are."""
        if "@" in text or "%" in text or "\\u" in text or "&#" in text or "at]" in text:
            _find_emails(text, spans)
        if " dot " in text and " at " in text:
            spans.extend((m.start(), m.end(), C.EMAIL, 1) for m in p.SPELLED_EMAIL.finditer(text))
        urls: list[tuple[int, int]] = []
        if "://" in text or "www." in text:
            for m in p.URL.finditer(text):
                end = _url_end(text, m)
                spans.extend(self._url(text[m.start() : end], m.start()))
                urls.append((m.start(), end))
        elif "/" in text:
            for m in p.PATH.finditer(text):
                end = _url_end(text, m)
                spans.extend(self._url(text[m.start() : end], m.start()))
                urls.append((m.start(), end))
        lower = text.lower()
        digits = p.DIGIT.search(text) is not None
        # The value's words, found once for the number, cued-name and weak-name rules.
        value_words = set(_LETTERS.findall(lower)) if digits or " " in text else set()
        if digits:
            _find_numbers(text, lower, value_words, spans, self._clock)
            if (
                text != lower
                and ("|" in text or "-" in text or "." in text or "field" in lower)
                and might_hold_hl7(text)
            ):
                find_hl7(text, spans)
            if (
                text != lower
                and ("*" in text or "'" in text or '"' in text)
                and might_hold_x12(text)
            ):
                find_x12(text, spans)
            if "(" in text or '"' in text:
                if might_hold_dicom(text):
                    find_dicom(text, spans)
                if "(21)" in text:
                    find_udi_serial(text, spans)
        else:
            _find_macs(text, spans)
            if "ninety" in lower or "hundred" in lower:
                _find_ages(text, spans)
            if (" five" in lower or " zero" in lower or " nine" in lower) and " " in text:
                _find_spelled_digits(text, spans)
        if (
            "name" in lower
            or "patient" in lower
            or "paciente" in lower
            or "nombre" in lower
            or (("m" in lower or "sr" in lower) and p.HONORIFIC.search(text))
            or "mr." in lower
            or "mrs." in lower
            or "sra." in lower
            or "sr." in lower
            or (
                (":" in text or "=" in text or "-" in text or "\t" in text or "up " in lower)
                and _RELATED_LABELS.search(lower)
            )
        ):
            for word in _NAME_START.finditer(lower):
                found = p.NAME_CONTEXT.match(text, word.start())
                if found is not None:
                    words = found.group("name").lower().split()
                    if words[0] not in _NOT_A_NAME and _ORGANISATION_NAMES.isdisjoint(words):
                        spans.append((found.start("name"), found.end("name"), C.NAME, 9))
                    continue
                found = p.NAME_CONTEXT_LOWER.match(text, word.start())
                if found is None:
                    continue
                if found.group("surname") is not None:
                    spans.append((found.start("surname"), found.end("surname"), C.NAME, 9))
                elif found.group("name").split()[0] in GIVEN_NAMES or (
                    _STRONG_NAME_LABEL.search(text, found.start(), found.start("name"))
                    and _NOT_A_NAME.isdisjoint(found.group("name").split())
                ):
                    spans.append((found.start("name"), found.end("name"), C.NAME, 9))
        if "password" in lower or "passcode" in lower:
            spans.extend(
                (m.start("value"), m.end("value"), C.CUSTOM, 1)
                for m in p.FAMILY_PASSWORD.finditer(text)
            )
        if ("," in text or " from " in lower) and _GREETING_START.search(lower):
            _find_greetings(text, spans)
        if text != lower and " " in text:
            _find_cued_names(text, lower, value_words, spans)
        if " " in text:
            _find_weak_names(text, lower, value_words, spans)
        if " para " in lower or " for " in lower:
            spans.extend(
                (m.start("name"), m.end("name"), C.NAME, 9)
                for m in p.RECIPIENT_NAME.finditer(text)
                if _SPANISH_COMMON.isdisjoint(m.group("name").lower().split())
            )
        if " by" in lower:
            for word in _BY_START.finditer(lower):
                found = p.NAME_CONTEXT.match(text, word.start())
                if found is not None:
                    spans.append((found.start("name"), found.end("name"), C.NAME, 9))
        if " " in text and (
            "this is" in lower or "i am" in lower or "i'm" in lower or "i\u2019m" in lower
        ):
            _find_introductions(text, spans)
        if (
            "." in text
            and ("_" in text or "-" in text or " " in text)
            and p.FILE_EXTENSION.search(text) is not None
        ):
            _find_file_names(text, spans)
        if "\n" in text and ("," in text or "\t" in text or "|" in text):
            _find_table_cells(text, spans)
        if "=" in text or ('"' in text and ":" in text):
            _find_pairs(text, spans, urls)
            if '"' in text and might_hold_fhir(text):
                find_fhir(text, spans)
        if ("'" in text or '"' in text) and (" " in text or "=" in text):
            _find_quoted_pairs(text, lower, spans)
        if "," in text and "_" in text:
            for m in p.CSV_PAIR.finditer(text):
                value = m.group("text")
                if not _KEY_CELL.fullmatch(value) and not _is_column_name(value):
                    _pair(m, "text", spans)
        return urls


def _url_end(text: str, m: re.Match[str]) -> int:
    """Where a URL ends: a "|" inside its query ("?identifier=system|value") does not end it."""
    end = m.end()
    while end < len(text) and text[end] == "|" and "=" in text[m.start() : end]:
        tail = p.URL_TAIL.match(text, end)
        if tail is None or "?" not in text[m.start() : end]:
            break
        end = tail.end()
    return end


def _find_cued_names(text: str, lower: str, words: set[str], spans: list[Span]) -> None:
    """Capitalised names after a relative or role word, a quoted name, ``LAST, FIRST`` forms.

    Only called for text holding a capital letter and a space; each rule has its own word gate.
    """
    if not words.isdisjoint(_RELATIVE_CUES):
        for m in p.RELATIVE_NAME.finditer(text):
            found = m.group("name").lower().split()
            if (
                (m.group("role") is not None and len(found) < 2)
                or not _COMMON_CAPITALISED.isdisjoint(found)
                or not _ORGANISATION_NAMES.isdisjoint(found)
                or found[0] in _NOT_A_NAME
            ):
                continue
            spans.append((m.start("name"), m.end("name"), C.NAME, 9))
    if "name" in words or "nombre" in words:
        spans.extend(
            (m.start("name"), m.end("name"), C.NAME, 9)
            for m in p.QUOTED_NAME.finditer(text)
            if _COMMON_CAPITALISED.isdisjoint(m.group("name").lower().split())
        )
    if not words.isdisjoint(_LAST_FIRST_CUES):
        for m in p.LAST_FIRST.finditer(text):
            group = "last" if m.group("last") is not None else "caps"
            found = _LETTERS.findall(m.group(group).lower())
            if (
                found[0] in _NOT_A_NAME
                or not _ORGANISATION_NAMES.isdisjoint(found)
                or not _COMMON_CAPITALISED.isdisjoint(found)
            ):
                continue
            spans.append((m.start(group), m.end(group), C.NAME, 9))
    if ',"' in text or '\t"' in text or text.startswith('"'):
        spans.extend(
            (m.start("name"), m.end("name"), C.NAME, 9)
            for m in p.CSV_LAST_FIRST.finditer(text)
            if _COMMON_CAPITALISED.isdisjoint(_LETTERS.findall(m.group("name").lower()))
        )
    if not words.isdisjoint(EU_NAME_CUES) or "i. a." in lower or "i.a." in lower:
        find_european_names(text, spans)
    if not words.isdisjoint(STAFF_CUES):
        find_staff(text, words, _NOT_NAME_WORDS, spans)
    if not words.isdisjoint(_ACTION_WORDS):
        actor = p.ACTOR_NAME.match(text)
        if actor is not None and actor.group("first").lower() in GIVEN_NAMES:
            spans.append((actor.start("name"), actor.end("name"), C.NAME, 9))


def _find_weak_names(text: str, lower: str, words: set[str], spans: list[Span]) -> None:
    """Names with weak cues, each rule behind its own words.

    A given name after a relation or "with" ("my sister leah", "lunch with Maya", "partner,
    Ahmed"), the sender of a quoted e-mail, a doctor named without a full stop or in lower case, a
    first and last name after a work-log or payments word ("Note by", "debtor", "receipt for",
    "for pt"), a one-word self-introduction with a given name, a name still to be given, a greeting
    before a dash; and the user's own town after "I live in" or "moved to" (a ``location``).
    """
    if not words.isdisjoint(_WEAK_CUES):
        for m in p.LOWER_RELATIVE_NAME.finditer(text):
            span = _relative_name(text, m)
            if span is not None:
                spans.append(span)
    if "wrote" in words:
        spans.extend(
            (m.start("name"), m.end("name"), C.NAME, 9)
            for m in p.WROTE_NAME.finditer(text)
            if _is_name(m.group("name"))
        )
    if "dr" in words or "doctor" in words:
        for m in p.DOCTOR_NAME.finditer(text):
            group = "name" if m.group("name") is not None else "lower"
            value = m.group(group)
            if (value.lower() not in _NOT_A_SURNAME) if group == "lower" else _is_name(value):
                spans.append((m.start(group), m.end(group), C.NAME, 9))
    if not words.isdisjoint(_ROLE_CUES) or " pt " in lower or "r patient " in lower:
        spans.extend(
            (m.start("name"), m.end("name"), C.NAME, 9)
            for m in p.ROLE_NAME.finditer(text)
            if _is_name(m.group("name"))
        )
    if ("i" in words or "name" in words or "call" in words) and (
        "'" in text or "\u2019" in text or " am " in lower or "name" in words or "call" in words
    ):
        spans.extend(
            (m.start("name"), m.end("name"), C.NAME, 9)
            for m in p.INTRO_GIVEN.finditer(text)
            if m.group("name").lower() in GIVEN_NAMES
        )
    if "name" in words and "be" in words:
        spans.extend(
            (m.start("name"), m.end("name"), C.NAME, 9)
            for m in p.FUTURE_NAME.finditer(text)
            if _is_name(m.group("name"))
        )
    if not words.isdisjoint(_GREETING_WORDS) and (
        "\u2014" in text or "\u2013" in text or "!" in text or " -" in text
    ):
        spans.extend(
            (m.start("name"), m.end("name"), C.NAME, 9)
            for m in p.GREETING_DASH.finditer(text)
            if m.group("name").lower() not in _NOT_GREETED and _is_name(m.group("name"))
        )
    find_own_place(text, words, spans)
    if not words.isdisjoint(_PLACE_CUES):
        spans.extend(
            (m.start("place"), m.end("place"), C.LOCATION, 8)
            for m in p.OWN_PLACE.finditer(text)
            if _NOT_A_PLACE.isdisjoint(m.group("place").lower().split())
        )


def _relative_name(text: str, m: re.Match[str]) -> Span | None:
    """A given name after a relation or "with", and the surname after it if one is there."""
    name = m.group("name")
    if name.lower() not in GIVEN_NAMES:
        return None
    cue = m.group("cue").lower()
    if cue in ("with", "w/") and not name[0].isupper():
        return None
    end = m.end("name")
    following = p.NEXT_NAME_WORD.match(text, end)
    if following is not None:
        word = following.group("word")
        if (following.group("close") is not None and text[m.start("name") - 1] == "(") or (
            name[0].isupper() and word[0].isupper() and _is_name(word)
        ):
            end = following.end("word")
    return (m.start("name"), end, C.NAME, 9)


def _is_name(value: str) -> bool:
    """Whether capitalised words found by a weak cue are a name rather than a common phrase."""
    found = value.lower().replace("-", " ").split()
    return (
        bool(found)
        and found[0] not in _NOT_A_NAME
        and _COMMON_CAPITALISED.isdisjoint(found)
        and _ORGANISATION_NAMES.isdisjoint(found)
    )


def _find_table_cells(text: str, spans: list[Span]) -> None:
    """Cells of a CSV or tab-separated preview, judged by their column's header.

    The first line must be a header (every cell a short key-like word); a cell under a sensitive
    column is redacted under that column's category (``billing_account`` -> account_number), and
    a ``Last, First`` cell under a person column (``Patient``, ``Client``) is a name.
    """
    start = 0
    first_end = text.find("\n")
    if text[:first_end].rstrip().endswith(":") and text.find("\n", first_end + 1) > 0:
        # A caption line before the header: "Match list export:\nName,Relationship,cM\n...".
        start = first_end + 1
        first_end = text.find("\n", start)
    header = text[start:first_end].rstrip("\r")
    separator = "\t" if "\t" in header else "|" if "|" in header else ","
    columns = header.split(separator)
    if len(columns) < 2 or not all(_HEADER_CELL.fullmatch(cell) for cell in columns):
        return
    kinds: list[str | None] = []
    for cell in columns:
        tokens, category = read_key(cell.strip())
        if category is None and tokens and tokens[-1] in _PERSON_COLUMNS:
            kinds.append(_PERSON)
        elif category is None and tokens and tokens[-1] in _SUBJECT_COLUMNS:
            kinds.append(_SUBJECT)
        else:
            kinds.append(None if category is None else str(category))
    if not any(kinds):
        return
    position = first_end + 1
    for line in text[position:].split("\n"):
        cells = _cells(line, separator)
        if len(cells) != len(kinds):
            position += len(line) + 1
            continue
        for kind, match in zip(kinds, cells, strict=True):
            start, end = match
            value = line[start:end]
            if kind is None or not value.strip() or _MARKER.fullmatch(value):
                continue
            if kind == _PERSON:
                if p.CELL_NAME.fullmatch(value) is None:
                    continue
                kind = C.NAME
            elif kind == _SUBJECT:
                if _SUBJECT_CELL.fullmatch(value) is None:
                    continue
                kind = C.MRN
            spans.append((position + start, position + end, kind, 1))
        position += len(line) + 1


def _cells(line: str, separator: str) -> list[tuple[int, int]]:
    """Where each cell's value is in a CSV or TSV line (quotes are outside the value)."""
    found: list[tuple[int, int]] = []
    index = 0
    size = len(line)
    while index <= size:
        if line.startswith('"', index):
            close = line.find('"', index + 1)
            if close < 0:
                close = size
            found.append((index + 1, close))
            stop = line.find(separator, close)
        else:
            stop = line.find(separator, index)
            found.append((index, size if stop < 0 else stop))
        if stop < 0:
            break
        index = stop + 1
    return found


def _find_greetings(text: str, spans: list[Span]) -> None:
    """A name after a greeting and a comma, or a first and last name after "message from"."""
    for m in p.GREETING_NAME.finditer(text):
        group = next(g for g in ("greeted", "addressed", "sender") if m.group(g) is not None)
        words = m.group(group).lower().split()
        if words[0] in _NOT_GREETED or not _ORGANISATION_NAMES.isdisjoint(words):
            continue
        spans.append((m.start(group), m.end(group), C.NAME, 9))


def _find_introductions(text: str, spans: list[Span]) -> None:
    """A first and last name after "this is", unless it names an organisation.

    After "I am" or "I'm" the first word must also be a common given name: "I'm Feeling Better".
    """
    for m in p.INTRO_NAME.finditer(text):
        words = m.group("name").lower().replace(".", " ").split()
        if words[0] in _NOT_INTRO or not _ORGANISATION_NAMES.isdisjoint(words):
            continue
        if m.group("intro")[0] in "Ii" and words[0] not in GIVEN_NAMES:
            continue
        spans.append((m.start("name"), m.end("name"), C.NAME, 9))


def _find_file_names(text: str, spans: list[Span]) -> None:
    """Two adjacent words of an image or document file name that read as a first and last name.

    One must be a common given name and the other a word of at least two letters that is not one
    of the words file names are built from: ``jane_doe_xray.png``, ``Scan_Smith_John.pdf``.
    """
    for m in p.FILE_NAME.finditer(text):
        stem_start = m.start("stem")
        stem = m.group("stem")
        words: list[tuple[int, int, str]] = []
        position = 0
        for part in _FILE_SEPARATORS.split(stem):
            words.append((stem_start + position, stem_start + position + len(part), part.lower()))
            position += len(part) + 1
        found = False
        for index, ((_, _, first), (_, _, second)) in enumerate(itertools.pairwise(words)):
            if not (first.isalpha() and second.isalpha()) or len(first) < 2 or len(second) < 2:
                continue
            if (first in GIVEN_NAMES and second not in FILE_WORDS) or (
                second in GIVEN_NAMES and first not in FILE_WORDS
            ):
                spans.append(_whole_name(text, words, index, index + 1))
                found = True
                break
        if not found:
            span = _file_name_pair(text, words)
            if span is not None:
                spans.append(span)


def _file_name_pair(text: str, words: list[tuple[int, int, str]]) -> Span | None:
    """Two name words of a file name found by their place or their case.

    After a signature word (``signature_lorcan_mcgillicuddy.png``) the next two words are the
    signer's name. Two capitalised or upper-case words in a file name whose other words are lower
    case stand out as a name (``consentimiento_firmado_Esperanza_Delgado.pdf``,
    ``ref_packet_QUINTANILLA_ESPERANZA_20260311.pdf``); a file name in title case throughout
    (``Annual_Wellness_Visit.pdf``) has no such contrast.
    """
    alpha = [
        (start, end, word)
        for start, end, word in words
        if word.isalpha() and len(word) >= _FILE_NAME_WORD and word not in FILE_WORDS
    ]
    last_start, last_end, last = words[-1]
    if len(words) >= 2 and len(last) == 1 and text[last_start:last_end].isupper():
        # "EOB_20260211_PRZYBYLSKI_T": a surname in capitals and an initial end the name.
        start, end, word = words[-2]
        if len(word) >= _CAPS_WORD and word not in FILE_WORDS and text[start:end].isupper():
            return (start, last_end, C.NAME, 9)
    for (_, _, sign), (start, _, _), (_, end, _) in zip(words, words[1:], words[2:], strict=False):
        if sign in SIGNATURE_WORDS and text[start:end].replace("_", "").replace("-", "").isalpha():
            return (start, end, C.NAME, 9)
    if not any(text[start:end].islower() for start, end, word in words if word.isalpha()):
        return None
    for (start, first_end, _), (second_start, end, _) in itertools.pairwise(alpha):
        first, second = text[start:first_end], text[second_start:end]
        if second_start - first_end != 1:
            continue
        if (first.istitle() and second.istitle()) or (
            first.isupper() and second.isupper() and min(len(first), len(second)) >= _CAPS_WORD
        ):
            index = next(i for i, word in enumerate(words) if word[0] == start)
            return _whole_name(text, words, index, index + 1)
    return None


def _whole_name(text: str, words: list[tuple[int, int, str]], first: int, last: int) -> Span:
    """A name found as two file-name words, with the adjacent words of the same case joined on.

    ``stmt_2026-02_Castellanos-Ruiz_Ines.pdf`` is found as "Ruiz_Ines" and kept whole.
    """

    def same_case(index: int) -> bool:
        start, end, word = words[index]
        value = text[start:end]
        return (
            word.isalpha()
            and len(word) >= _FILE_NAME_WORD
            and word not in FILE_WORDS
            and (value.istitle() or (value.isupper() and len(word) >= _CAPS_WORD))
        )

    while first > 0 and words[first - 1][1] + 1 == words[first][0] and same_case(first - 1):
        first -= 1
    while (
        last + 1 < len(words) and words[last][1] + 1 == words[last + 1][0] and same_case(last + 1)
    ):
        last += 1
    return (words[first][0], words[last][1], C.NAME, 9)


def last_first_query(text: str) -> Span | None:
    """A search typed as ``last, first`` ("szymanski, dorota"): a person lookup, not a topic."""
    m = _LAST_FIRST_QUERY.fullmatch(text)
    if m is None:
        return None
    words = _LETTERS.findall(m.group("name").lower())
    if not _COMMON_CAPITALISED.isdisjoint(words) or not _NOT_A_NAME.isdisjoint(words):
        return None
    if not _US_STATES.isdisjoint(words) or not _ORGANISATION_NAMES.isdisjoint(words):
        return None
    return (m.start("name"), m.end("name"), C.NAME, 9)


def signature_names(text: str) -> list[Span]:
    """The lines of a signature block that are a person's name ("Priyanka Desai")."""
    found: list[Span] = []
    position = 0
    for line in text.split("\n"):
        if p.CELL_NAME.fullmatch(line) and _is_name(line.replace(",", " ")):
            found.append((position, position + len(line), C.NAME, 9))
        position += len(line) + 1
    return found


def trailing_zip(text: str) -> Span | None:
    """A five-digit ZIP code (or a Dutch postcode) ending a search query, unless it names a code."""
    if not text.rstrip()[-1:].isdigit():
        return dutch_postcode_end(text) if text.rstrip()[-1:].isupper() else None
    m = p.TRAILING_ZIP.search(text)
    if m is None:
        return None
    words = _LETTERS.findall(text[max(0, m.start() - 24) : m.start()].lower())
    if words and words[-1] in _CODE_WORDS:
        return None
    end = m.start() + len(m.group().rstrip())
    return (m.start(), end, C.ZIP_CODE, 7)


def _find_echoes(text: str, spans: list[Span]) -> None:
    """Values a validation message echoes back: sensitive by the field named, even if malformed."""
    for m in p.ECHOED.finditer(text):
        category = next(name for name in _ECHO_NAMES if m.group(name) is not None)
        least, most = _ECHO_DIGITS[C(category)]
        if least <= len(digits_of(m.group("value"))) <= most:
            spans.append((m.start("value"), m.end("value"), category, 2))


def _find_ages(text: str, spans: list[Span]) -> None:
    for m in p.AGE.finditer(text):
        group = m.lastgroup or "a"
        if group in ("w", "x") or 90 <= int(m.group(group)) <= 150:
            spans.append((m.start(group), m.end(group), C.AGE_OVER_89, 6))


def _find_pairs(text: str, spans: list[Span], urls: list[tuple[int, int]]) -> None:
    """Judge ``"key": value`` and ``key=value`` pairs inside text by their key.

    Pairs inside a URL are left to the URL scrubber, which reads its parameters the same way.
    """
    if '"' in text:
        for m in p.JSON_PAIR.finditer(text):
            group = "text" if m.group("text") is not None else "number"
            _pair(m, group, spans)
    if "=" in text:
        inside = _Ranges(urls)
        for m in p.KEY_VALUE.finditer(text):
            if not inside(m.start()):
                _pair(m, "text", spans)
        if '="' in text or "='" in text:
            for m in p.KEY_QUOTED.finditer(text):
                if not inside(m.start()):
                    _pair(m, "text", spans)


class _Ranges:
    """Whether a position falls in one of some ``[start, end)`` ranges, in logarithmic time."""

    __slots__ = ("_ends", "_starts")

    def __init__(self, ranges: list[tuple[int, int]]) -> None:
        ordered = sorted(ranges)
        self._starts = [start for start, _ in ordered]
        furthest = -1
        self._ends = []
        for _, end in ordered:  # the furthest end reached by any range starting at or before
            furthest = max(furthest, end)
            self._ends.append(furthest)

    def __call__(self, position: int) -> bool:
        index = bisect.bisect_right(self._starts, position) - 1
        return index >= 0 and position < self._ends[index]


def _find_quoted_pairs(text: str, lower: str, spans: list[Span]) -> None:
    """Quoted literals judged by the column or field they belong to.

    ``last_name ILIKE 'szymanski%'`` and ``dl_number = 'F4471290'`` (SQL), ``display_name "Ann
    Lee" exceeds`` (an exception naming its field before the value), ``input[name=partner_name]
    value="..."`` (a form field) and ``time data '07/23/1990' ... (field: date_of_birth)`` (a
    field named after the value it echoes).
    """
    for m in p.QUOTED_PAIR.finditer(text):
        if m.group("op").isspace() and "_" not in m.group("key"):
            continue
        _pair(m, "text", spans, wildcard=True)
    if "value=" in text and "name=" in text:
        for m in p.FIELD_VALUE.finditer(text):
            _pair(m, "text", spans)
    if "field" in lower or "column" in lower or "param" in lower:
        for m in p.FIELD_NAME.finditer(text):
            _, category = read_key(m.group("key"))
            if category is None:
                continue
            line_start = text.rfind("\n", 0, m.start()) + 1
            line_end = text.find("\n", m.end())
            spans.extend(
                (value.start("value"), value.end("value"), category, 1)
                for value in p.QUOTED_VALUE.finditer(
                    text, line_start, len(text) if line_end < 0 else line_end
                )
                if p.DIGIT.search(value.group("value")) and value.group("value") != m.group("key")
            )


def _is_column_name(value: str) -> bool:
    """A cell or value that is itself a sensitive column's name ("dob" in a CSV header)."""
    return value.isidentifier() and value.islower() and read_key(value)[1] is not None


def _pair(m: re.Match[str], group: str, spans: list[Span], *, wildcard: bool = False) -> None:
    tokens, category = read_key(m.group("key"))
    value = m.group(group)
    if is_age_key(tokens):
        lead = _LEADING_NUMBER.match(value)
        if lead is not None and 90 <= int(lead.group(1)) <= 150:
            spans.append((m.start(group), m.end(group), C.AGE_OVER_89, 6))
        return
    if (
        category is None
        or not value.strip()
        or value.lower() in _NOT_A_VALUE
        or _MARKER.fullmatch(value)
        or ("_" in value and _is_column_name(value))
    ):
        return
    start, end = m.start(group), m.end(group)
    if wildcard:
        # A LIKE pattern's wildcards are not part of the value: 'szymanski%'.
        while end > start and m.string[end - 1] in "%*":
            end -= 1
        while start < end and m.string[start] in "%*":
            start += 1
    if end > start:
        spans.append((start, end, category, 1))


def _blank(text: str, ranges: list[tuple[int, int]]) -> str:
    """``text`` with each range (sorted, possibly overlapping) blanked out; offsets are kept."""
    out = []
    position = 0
    for start, end in ranges:
        if end <= position:
            continue
        start = max(start, position)
        out.append(text[position:start])
        out.append(" " * (end - start))
        position = end
    out.append(text[position:])
    return "".join(out)


def _percent_decode(text: str) -> tuple[str, list[int], list[int]]:
    """Percent-decode ``text`` twice; each decoded character's start and end in ``text``."""
    decoded, starts, ends = _decode_once(
        text, list(range(len(text))), list(range(1, len(text) + 1))
    )
    if "+" in decoded or ("%" in decoded and p.PERCENT_ESCAPE.search(decoded)):
        decoded, starts, ends = _decode_once(decoded, starts, ends)
    return decoded, starts, ends


def _decode_once(text: str, starts: list[int], ends: list[int]) -> tuple[str, list[int], list[int]]:
    out: list[str] = []
    new_starts: list[int] = []
    new_ends: list[int] = []
    position = 0
    for m in _ESCAPES.finditer(text):
        start, end = m.span()
        out.append(text[position:start])
        new_starts.extend(starts[position:start])
        new_ends.extend(ends[position:start])
        if text[start] == "+":
            out.append(" ")
            new_starts.append(starts[start])
            new_ends.append(ends[start])
        else:
            data = bytes.fromhex(m.group().replace("%", ""))
            if data.isascii():
                out.append(data.decode("ascii"))
                new_starts.extend(starts[start:end:3])
                new_ends.extend(ends[start + 2 : end : 3])
            else:
                chars = data.decode("utf-8", "replace")
                out.append(chars)
                new_starts.extend([starts[start]] * len(chars))
                new_ends.extend([ends[end - 1]] * len(chars))
        position = end
    out.append(text[position:])
    new_starts.extend(starts[position:])
    new_ends.extend(ends[position:])
    return "".join(out), new_starts, new_ends


def apply_spans(text: str, spans: list[Span], counts: dict[str, int]) -> str:
    """Merge overlapping spans, replace each merged span by its marker, count categories."""
    spans.sort(key=lambda span: (span[0], -span[1]))
    out: list[str] = []
    position = 0
    start, end, category, rank = spans[0]
    for next_start, next_end, next_category, next_rank in spans[1:]:
        if next_start < end:
            end = max(end, next_end)
            if next_rank < rank:
                category, rank = next_category, next_rank
            continue
        out.append(text[position:start])
        out.append(marker(category))
        counts[str(category)] = counts.get(category, 0) + 1
        position = end
        start, end, category, rank = next_start, next_end, next_category, next_rank
    out.append(text[position:start])
    out.append(marker(category))
    counts[str(category)] = counts.get(category, 0) + 1
    out.append(text[end:])
    return "".join(out)


def _context_before(text: str, start: int) -> str:
    return text[max(0, start - _CONTEXT_WINDOW) : start]


def _find_numbers(text: str, lower: str, words: set[str], spans: list[Span], clock: Clock) -> None:
    runs = _DIGIT_RUN.findall(text)
    total = sum(map(len, runs))
    size = len(text)
    lengths = set(map(len, runs))
    if total >= 9 and {2, 3, 4} <= lengths and _SSN_HINT.search(text):
        spans.extend(
            (m.start(), m.end(), C.SSN, 2)
            for m in p.SSN.finditer(text)
            if is_ssn(m.group(1), m.group(3), m.group(4))
        )
    if 9 in lengths and not _SSN_WORDS.isdisjoint(words):
        for m in p.SSN_BARE.finditer(text):
            digits = m.group()
            if is_ssn(digits[:3], digits[3:5], digits[5:]) and p.SSN_CONTEXT.search(
                _context_before(text, m.start())
            ):
                spans.append((m.start(), m.end(), C.SSN, 2))
    if "valid" in lower:
        _find_echoes(text, spans)
    if ("pt" in lower or "mrn" in lower or "patient" in lower) and not lengths.isdisjoint(
        _GLUED_LENGTHS
    ):
        spans.extend(
            (m.start(), m.end(), C.MRN, 1)
            for m in p.GLUED_ID.finditer(text)
            if not p.DATE.fullmatch(m.group("id"))
        )
    if 4 in lengths and ("last" in words or "ltimos" in words) and not _SSN_WORDS.isdisjoint(words):
        spans.extend(
            (m.start("value"), m.end("value"), C.SSN, 2) for m in p.SSN_LAST4.finditer(text)
        )
    if 4 in lengths and ("xx" in lower or "**" in text or "\u2022" in text):
        spans.extend((m.start(), m.end(), C.SSN, 2) for m in p.SSN_MASKED.finditer(text))
    if (
        3 in lengths
        and 4 in lengths
        and (not _PHONE_WORDS.isdisjoint(words) or not _PHONE_TYPES.isdisjoint(words))
    ):
        _find_cued_phones(p.LOCAL_PHONE, text, spans)
    if 1 in lengths and len(runs) >= 7:
        _find_spaced_digits(text, spans)
    if not lengths.isdisjoint({10, 11}) and not _PHONE_WORDS.isdisjoint(words):
        _find_cued_phones(p.NANP_BARE, text, spans)
    if total >= 8 and text.count(".") >= 2 and _COORD_HINT.search(text):
        for m in p.COORDINATES.finditer(text):
            lat, lng = abs(float(m.group("lat"))), abs(float(m.group("lng")))
            if lat <= 90 and lng <= 180 and max(lat, lng) >= 1:
                spans.append((m.start(), m.end(), C.LOCATION, 5))
    if total >= 12 and _LONG_HINT.search(text):
        for m in p.LONG_NUMBER.finditer(text):
            if not _IBAN_HEAD.search(text, max(0, m.start() - 5), m.start()):
                _long_number(m.group(), m.start(), spans)
    iban_hit = False
    if size >= 15 and words and _IBAN_HINT.search(text):
        for m in p.IBAN.finditer(text):
            span = _iban(m.group(), m.start())
            if span is not None:
                spans.append(span)
                iban_hit = True
    if size >= 17 and words and _VIN_HINT.search(text):
        spans.extend(
            (m.start(), m.end(), C.VEHICLE_ID, 4)
            for m in p.VIN.finditer(text)
            if is_vin(m.group().upper())
        )
    if total >= 8:
        nanp = (3 in lengths and (4 in lengths or 7 in lengths)) or not lengths.isdisjoint({10, 11})
        national = not iban_hit and ("(0" in text or _NATIONAL_HINT.search(text) is not None)
        _find_phones(text, spans, nanp=nanp, national=national)
    _find_network(text, spans)
    if size >= 11 and total >= 5 and words and _MBI_HINT.search(text):
        spans.extend((m.start(), m.end(), C.MEMBER_ID, 4) for m in p.MBI.finditer(text))
    if not words:
        return
    word_set = words
    if total >= _FEWEST_ID_DIGITS or not word_set.isdisjoint(EU_TRIGGERS) or not text.isascii():
        find_european(text, lower, word_set, total, spans, clock)
    if text != lower or not word_set.isdisjoint(_FOREIGN_ID_WORDS):
        _find_foreign_ids(text, lower, word_set, lengths, spans)
    events = not word_set.isdisjoint(_EVENT_WORDS)
    if total >= 4 and (events or not word_set.isdisjoint(_DATE_WORDS)):
        for m in p.DATE.finditer(text):
            before = _context_before(text, m.start())
            context = p.DATE_CONTEXT.search(before)
            if context is not None:
                category = C.DATE_OF_BIRTH if context.group("birth") else C.PERSONAL_DATE
                spans.append((m.start(), m.end(), category, 6))
            elif p.CLOSE_EVENT_BEFORE.search(text, max(0, m.start() - _EVENT_WINDOW), m.start()):
                spans.append((m.start(), m.end(), C.PERSONAL_DATE, 6))
            elif p.BIRTH_AFTER.match(text, m.end(), m.end() + _CONTEXT_WINDOW):
                spans.append((m.start(), m.end(), C.DATE_OF_BIRTH, 6))
            elif p.EVENT_AFTER.match(text, m.end(), m.end() + _CONTEXT_WINDOW):
                spans.append((m.start(), m.end(), C.PERSONAL_DATE, 6))
            elif events:
                event = _event_date(before, lower)
                if event is not None:
                    spans.append((m.start(), m.end(), event, 6))
        if "born" in word_set or "nacido" in word_set or "nacida" in word_set or "naci" in word_set:
            oldest = clock.now().year - 90
            spans.extend(
                (m.start("year"), m.end("year"), C.AGE_OVER_89, 6)
                for m in p.BORN_YEAR.finditer(text)
                if int(m.group("year")) <= oldest
            )
    if events and total >= 1:
        _find_short_dates(text, lower, spans)
    if "/" in text and not word_set.isdisjoint(_STAY_WORDS):
        spans.extend(
            (m.start(), m.end(), C.PERSONAL_DATE, 6)
            for m in p.SHORT_DATE.finditer(text)
            if p.STAY_BEFORE.search(text, max(0, m.start() - _STAY_WINDOW), m.start())
        )
    if not word_set.isdisjoint(_AGE_WORDS) or "os" in word_set:
        _find_ages(text, spans)
    if not word_set.isdisjoint(_SPOKEN_AGE_WORDS):
        spans.extend(
            (m.start("age"), m.end("age"), C.AGE_OVER_89, 6)
            for m in p.SPOKEN_AGE.finditer(text)
            if 90 <= int(m.group("age")) <= 130
        )
    if " " in text:
        if not word_set.isdisjoint(_STREET_WORDS):
            spans.extend(
                (m.start(), m.end(), C.STREET_ADDRESS, 7) for m in p.ADDRESS.finditer(text)
            )
        if not word_set.isdisjoint(_EU_STREET_WORDS) or (
            any(ending in lower for ending in _GLUED_ENDINGS) and _GLUED_STREET.search(lower)
        ):
            spans.extend(
                (m.start(), m.end(), C.STREET_ADDRESS, 7) for m in p.FOREIGN_ADDRESS.finditer(text)
            )
            find_european_address(text, spans)
        if total >= 3:
            spans.extend((m.start(), m.end(), C.ZIP_CODE, 7) for m in p.CA_POSTAL.finditer(text))
        if max(map(len, runs)) >= 5:
            spans.extend(
                (m.start("zip"), m.end("zip"), C.ZIP_CODE, 7)
                for m in p.ZIP_AFTER_STATE.finditer(text)
                if m.group("state") not in p.AMBIGUOUS_STATES
                or text[: m.start()].rstrip().endswith(",")
            )
    if total >= 2:
        for word in word_set & _CONTEXT_WORDS:
            for start in _word_positions(lower, word):
                found = p.CONTEXT_ID.match(text, start)
                span = None if found is None else _context_id(found)
                if span is not None:
                    spans.append(span)


def _event_date(before: str, lower: str) -> C | None:
    """The category of a date after pregnancy, fertility or loss wording, or None.

    "due date" is a pregnancy's only where no bill is talked about ("payment due date" is not).
    """
    arrival = p.ARRIVAL.search(before)
    if arrival is not None:
        return C.DATE_OF_BIRTH
    context = p.EVENT_DATE_CONTEXT.search(before)
    if context is None:
        return None
    if context.group().lower().startswith("due") and any(word in lower for word in _BILL_WORDS):
        return None
    return C.PERSONAL_DATE


def _find_short_dates(text: str, lower: str, spans: list[Span]) -> None:
    """Dates without a year ("3/18", "March 3", "Feb 27th") right after an event's wording."""
    for m in p.SHORT_DATE.finditer(text):
        before = text[max(0, m.start() - _SHORT_DATE_WINDOW) : m.start()]
        category = _event_date(before, lower)
        if category is not None:
            spans.append((m.start(), m.end(), category, 6))


def _find_spaced_digits(text: str, spans: list[Span]) -> None:
    """A phone number read out digit by digit: "4 2 5 5 5 5 0 1 3 6"."""
    for m in p.SPACED_DIGITS.finditer(text):
        digits = m.group().replace(" ", "")
        if len(digits) == 11 and digits[0] == "1":
            digits = digits[1:]
        if (len(digits) == 10 and digits[0] >= "2") or (
            len(digits) == 7
            and p.PHONE_CONTEXT.search(text, max(0, m.start() - _PHONE_WINDOW), m.start())
        ):
            spans.append((m.start(), m.end(), C.PHONE, 3))


def _find_spelled_digits(text: str, spans: list[Span]) -> None:
    """A phone number spelled out in words: "four one six, five five five, zero one three eight"."""
    for m in p.SPELLED_DIGITS.finditer(text):
        count = len(_DIGIT_WORDS.findall(m.group().lower()))
        if count in (7, 10, 11):
            spans.append((m.start(), m.end(), C.PHONE, 3))


def _find_foreign_ids(
    text: str, lower: str, words: set[str], lengths: set[int], spans: list[Span]
) -> None:
    """UK, Canadian and Australian identifiers that carry their own shape or check digit."""
    upper = text != lower
    if upper and (2 in lengths or 6 in lengths):
        # A National Insurance number: spaced it stands alone, compact it needs its label.
        labelled = not words.isdisjoint(_NINO_WORDS)
        spans.extend(
            (m.start(), m.end(), C.SSN, 2)
            for m in p.NINO.finditer(text)
            if " " in m.group() or labelled
        )
    if upper and 6 in lengths and len(text) >= _UK_LICENCE_LENGTH:
        for m in p.UK_LICENCE.finditer(text):
            value = m.group()
            month, day = int(value[6:8]) % 50, int(value[8:10])
            if 1 <= month <= 12 and 1 <= day <= 31:
                spans.append((m.start(), m.end(), C.LICENSE_NUMBER, 2))
    if 4 in lengths and 3 in lengths and (upper or "ohip" in words or "health" in words):
        for m in p.OHIP.finditer(text):
            digits = digits_of(m.group())
            if (
                m.group(1)
                and luhn_ok(digits)
                and (m.group()[-1].isalpha() or "ohip" in words or "health" in words)
            ):
                spans.append((m.start(), m.end(), C.MEMBER_ID, 2))
    if "sort" in words or "bsb" in words:
        spans.extend(
            (m.start("value"), m.end("value"), C.ACCOUNT_NUMBER, 1)
            for m in p.BANK_ACCOUNT.finditer(text)
        )
    if upper and 1 in lengths and not words.isdisjoint(_POSTCODE_CUES):
        spans.extend(
            (m.start("code"), m.end("code"), C.ZIP_CODE, 7)
            for m in p.UK_POSTCODE.finditer(text)
            if not m.group("code").endswith(("GB", "TB"))
        )


def _find_cued_phones(pattern: re.Pattern[str], text: str, spans: list[Span]) -> None:
    """Numbers of a phone's shape that a telephone word precedes or follows, not an id label."""
    spans.extend(
        (m.start(), m.end(), C.PHONE, 3)
        for m in pattern.finditer(text)
        if (
            p.PHONE_CONTEXT.search(text, max(0, m.start() - _PHONE_WINDOW), m.start())
            or _PHONE_AFTER.match(text, m.end())
        )
        and not p.ID_BEFORE.search(text, max(0, m.start() - 16), m.start())
    )


def _word_positions(lower: str, word: str) -> list[int]:
    """Where ``word`` occurs in ``lower`` as a whole run of letters."""
    found = []
    size = len(word)
    start = lower.find(word)
    while start >= 0:
        end = start + size
        if (start == 0 or not "a" <= lower[start - 1] <= "z") and (
            end == len(lower) or not "a" <= lower[end] <= "z"
        ):
            found.append(start)
        start = lower.find(word, end)
    return found


def _at_signs(text: str) -> list[tuple[int, int]]:
    """Where the at signs are; a plain ``@`` is found without the regex when no encoding can be."""
    if "%" in text or "\\" in text or "&" in text or "[" in text or "(" in text:
        return [m.span() for m in p.AT_SIGN.finditer(text)]
    found = []
    at = text.find("@")
    while at >= 0:
        found.append((at, at + 1))
        at = text.find("@", at + 1)
    return found


def _find_emails(text: str, spans: list[Span]) -> None:
    """Find each at sign (raw or encoded), walk back over the local part, then match forward."""
    last_end = 0
    for at_start, at_end in _at_signs(text):
        start = at_start
        floor = max(last_end, start - 64)
        while start > floor and (
            text[start - 1] in _LOCAL_CHARS
            or (text[start - 1] > "\x7f" and text[start - 1].isalnum())
        ):
            start -= 1
        while start < at_start and text[start] in ".%":
            start += 1
        m = p.EMAIL.match(text, start)
        # A later start may succeed where the walk went too far back ("'jane@..."); only starts
        # before this at sign can give an address holding it.
        later = start
        while m is None and later < at_start - 1:
            later += 1
            m = p.EMAIL.match(text, later, at_end + 256)
        if m is not None and m.group(1).lower() not in _FILE_EXTENSIONS:
            if _is_placeholder_email(m.group()):
                last_end = m.end()
                continue
            spans.append((m.start(), m.end(), C.EMAIL, 1))
            last_end = m.end()
        elif m is None and text.startswith("@[", at_start):
            literal = p.EMAIL_LITERAL.match(text, start)
            if literal is not None:
                spans.append((literal.start(), literal.end(), C.EMAIL, 1))
                last_end = literal.end()


def _is_placeholder_email(address: str) -> bool:
    """An input's placeholder address: a generic local part at a reserved example domain."""
    local, _, domain = address.lower().partition("@")
    return local in _PLACEHOLDER_LOCALS and domain in _EXAMPLE_DOMAINS


def _find_phones(text: str, spans: list[Span], *, nanp: bool, national: bool) -> None:
    if nanp:
        spans.extend((m.start(), m.end(), C.PHONE, 3) for m in p.PHONE_NANP.finditer(text))
    if "+" in text:
        for m in p.PHONE_INTL.finditer(text):
            end = _digit_groups_end(text, m.start(), m.end(), 8, 15)
            if end is not None:
                spans.append((m.start(), end, C.PHONE, 3))
    if national:
        for m in p.PHONE_NATIONAL.finditer(text):
            end = _digit_groups_end(text, m.start(), m.end(), 9, 12)
            if (
                end is not None
                and not (
                    p.ZIP_SHAPE.fullmatch(text, m.start(), end)
                    and p.STATE_BEFORE.search(text, max(0, m.start() - 4), m.start())
                )
                and not p.CODE_BEFORE.search(text, max(0, m.start() - 8), m.start())
            ):
                spans.append((m.start(), end, C.PHONE, 3))


def _digit_groups_end(text: str, start: int, end: int, least: int, most: int) -> int | None:
    """Where a run of digit groups stops once it holds ``most`` digits, or None if too short.

    The run must end at a word boundary: a number glued to letters is not a phone number.
    """
    count = 0
    stop = start
    for group in _DIGIT_RUN.finditer(text, start, end):
        size = group.end() - group.start()
        if count + size > most:
            break
        count += size
        stop = group.end()
    if count < least or (stop < len(text) and text[stop].isalnum()):
        return None
    if stop < len(text) and text[stop] == ")" and "(" in text[start:stop]:
        stop += 1
    return stop


def _find_network(text: str, spans: list[Span]) -> None:
    if text.count(".") >= 3 and _DOTTED_HINT.search(text):
        spans.extend(
            (m.start(), m.end(), C.IP_ADDRESS, 4)
            for m in p.IPV4.finditer(text)
            if all(int(part) <= 255 for part in m.group().split("."))
            and not m.group().endswith(".0.0.0")
            and m.group() != "127.0.0.1"
            and not p.VERSION_CONTEXT.search(_context_before(text, m.start()))
        )
    if text.count(":") >= 2:
        for m in p.IPV6.finditer(text):
            candidate = m.group()
            if candidate.endswith(":") and not candidate.endswith("::"):
                candidate = candidate[:-1]
            if (
                candidate.count(":") >= 2
                and candidate not in ("::", "::1")
                and is_ip_address(candidate)
            ):
                spans.append((m.start(), m.start() + len(candidate), C.IP_ADDRESS, 4))
    _find_macs(text, spans)


def _find_macs(text: str, spans: list[Span]) -> None:
    if text.count(":") >= 5 or text.count("-") >= 5 or _CISCO_HINT.search(text):
        spans.extend((m.start(), m.end(), C.DEVICE_ID, 5) for m in p.MAC.finditer(text))


def _long_number(run: str, offset: int, spans: list[Span]) -> None:
    """A 13-19 digit run: a card number, an IMEI, or a run that holds one at a group boundary."""
    digits = digits_of(run)
    found = _classify_long(digits)
    if found is not None:
        spans.append((offset, offset + len(run), found, 2))
        return
    # A valid number followed or preceded by another group ("4111 1111 1111 1111 2025"). Only
    # spans of groups holding 14 to 19 digits can be one (cards and IMEIs are no longer).
    groups = [(m.start(), m.end()) for m in re.finditer(r"\d+", run)]
    before = [0]  # digits in the groups before each group
    for start, end in groups:
        before.append(before[-1] + end - start)
    for i in range(len(groups)):
        for j in range(len(groups) - 1, i, -1):
            if (i, j) == (0, len(groups) - 1):
                continue
            if not _MIN_PART <= before[j + 1] - before[i] <= _MAX_PART:
                continue
            found = _classify_long(digits_of(run[groups[i][0] : groups[j][1]]))
            if found is not None:
                spans.append((offset + groups[i][0], offset + groups[j][1], found, 2))
                return


def _classify_long(digits: str) -> C | None:
    if is_card_number(digits):
        return C.CREDIT_CARD
    if is_imei(digits) and digits[:2] in _IMEI_PREFIXES:
        return C.DEVICE_ID
    if len(digits) >= _ICCID_LENGTH and digits[:2] == "89" and luhn_ok(digits):
        # A SIM card's ICCID: telecom industry prefix 89, Luhn check digit.
        return C.DEVICE_ID
    return None


def _iban(candidate: str, offset: int) -> Span | None:
    country = candidate[:2].upper()
    length = IBAN_LENGTHS.get(country)
    if length is None:
        return None
    count = 0
    for index, ch in enumerate(candidate):
        if ch.isalnum():
            count += 1
            if count == length:
                end = index + 1
                compact = "".join(c for c in candidate[:end] if c.isalnum()).upper()
                if end < len(candidate) and candidate[end].isalnum():
                    return None
                return (offset, offset + end, C.IBAN, 2) if is_iban(compact) else None
    return None


def _context_id(m: re.Match[str]) -> Span | None:
    category = next((name for name in _CONTEXT_NAMES if m.group(name) is not None), None)
    value = m.group("value").rstrip("-./ ")
    start = m.start("value")
    end = start + len(value)
    digits = digits_of(value)
    n = len(digits)
    if category == C.SSN:
        # Right after the word for one, digits typed as an SSN are one even when malformed.
        ok = (n == 9 and is_ssn(digits[:3], digits[3:5], digits[5:])) or (
            7 <= n <= 11 and p.TYPED_NUMBER.fullmatch(value) is not None
        )
    elif category == C.PHONE:
        ok = 7 <= n <= 15
    elif category == C.ZIP_CODE:
        ok = (n in (5, 9) and len(value) <= 10) or p.POSTAL_SHAPE.fullmatch(value) is not None
    elif category == C.CREDIT_CARD:
        # After "card number", a near-card number (a typo, a digit short) is still a card number.
        ok = is_card_number(digits) or (
            12 <= n <= 19 and p.TYPED_NUMBER.fullmatch(value) is not None
        )
    elif category == C.IBAN:
        # After "IBAN" or "bank", an IBAN-shaped value of a known country is one even when a
        # digit is mistyped or missing.
        compact = "".join(c for c in value if c.isalnum()).upper()
        ok = is_iban(compact) or (
            compact[:2] in IBAN_LENGTHS
            and compact[2:4].isdigit()
            and abs(len(compact) - IBAN_LENGTHS[compact[:2]]) <= 2
        )
    elif category == C.DEVICE_ID:
        ok = n >= 6 or (n >= 2 and len(value) >= 8)
    elif category == C.ACCOUNT_NUMBER and not _NUMBER_WORD.search(m.group(category)):
        ok = n >= 6
    elif category == C.VEHICLE_ID:
        tail = _PLATE_TAIL.match(m.string, end)
        if tail is not None and len(value) <= 4:
            value += tail.group()
            end = start + len(value)
        compact = value.replace("-", "").replace(" ", "").upper()
        ok = is_vin(compact, require_check_digit=False) or 5 <= len(compact) <= 8
    elif category == C.CUSTOM:
        ok = n >= 1 and len(value) >= 5 and not _PROGRAMME_PIN.search(m.string, 0, m.start())
    elif category == C.MRN and m.group(category)[:2].lower() == "rx":
        ok = n >= 6
    else:
        ok = n >= 3 and len(value) >= 4
    if not ok or category is None:
        return None
    return (start, end, category, 1)
