r"""The compiled regular expressions of value-aware detection.

The patterns are written to stay linear on the text they are run on: no nested unbounded
quantifiers that can backtrack into each other, possessive or bounded repeats where a run of
digits or of blanks could be split many ways (two ``\s*`` in a row split a run of spaces n ways:
write ``\s*+``), and a left-boundary lookbehind so that a failed attempt is not retried at every
character of a run. The benchmark's ``scrub_worst_case`` row times adversarial values of
65,536 characters (the longest the sanitiser scans) built against these patterns.
Checksums and validity rules live in `_checks`; this module only finds candidates.
"""

from __future__ import annotations

import re

__all__ = [
    "ADDRESS",
    "CAPS_WORD",
    "NAME_WORD",
    "AGE",
    "CONTEXT_ID",
    "DATE",
    "DATE_CONTEXT",
    "DIGIT",
    "EMAIL",
    "AT_SIGN",
    "IBAN",
    "IPV4",
    "IPV6",
    "LONG_NUMBER",
    "MAC",
    "MBI",
    "NAME_CONTEXT",
    "NAME_CONTEXT_LOWER",
    "PATH",
    "HONORIFIC",
    "STREET_SUFFIXES",
    "CONTEXT_FIRST_WORDS",
    "BENIGN_TOKEN",
    "CITY_STATE_ZIP",
    "CSV_PAIR",
    "ECHOED",
    "FILE_EXTENSION",
    "FILE_NAME",
    "CA_POSTAL",
    "GREETING_NAME",
    "POSTAL_SHAPE",
    "INTRO_NAME",
    "TRAILING_ZIP",
    "TYPED_NUMBER",
    "PHONE_INTL",
    "PHONE_NANP",
    "PHONE_NATIONAL",
    "SSN",
    "URL",
    "VERSION_CONTEXT",
    "VIN",
    "STATE_BEFORE",
    "ZIP_AFTER_STATE",
    "ZIP_SHAPE",
    "AMBIGUOUS_STATES",
    "COORDINATES",
    "EMAIL_LITERAL",
    "FOREIGN_ADDRESS",
    "ID_BEFORE",
    "JSON_PAIR",
    "KEY_VALUE",
    "KEY_QUOTED",
    "SSN_LAST4",
    "SSN_MASKED",
    "LOCAL_PHONE",
    "BORN_YEAR",
    "BIRTH_AFTER",
    "NANP_BARE",
    "PERCENT_ESCAPE",
    "PHONE_CONTEXT",
    "SSN_BARE",
    "SSN_CONTEXT",
]

DIGIT = re.compile(r"\d")
# Whole values that hold no identifier whatever their key: ISO-8601 timestamps (a date of birth is
# caught by its key or its context words, which such a value cannot hold), version strings, UUIDs,
# hex digests, small numbers and single lower-case words.
BENIGN_TOKEN = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?"
    r"|v?\d{1,4}(?:\.\d{1,3}){1,2}(?:[-+][0-9A-Za-z.-]{1,20})?"
    r"|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    r"|[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}"
    r"|[0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{64}"
    r"|-?\d{1,6}(?:\.\d{1,6})?"
    r"|[a-z][a-z_ &'-]{0,40}"
)

# ---------------------------------------------------------------- email
# The at sign as it appears raw, URL-encoded (once or twice), JSON-escaped, as an HTML entity, or
# spelled out in brackets.
_AT = r"(?:@|%40|%2540|\\u0040|&\#0*64;|&commat;|\s?[\[(]at[\])]\s?)"
AT_SIGN = re.compile(r"@|%(?:25)?40|\\u0040|&#0*64;|&commat;|[\[(]at[\])]", re.IGNORECASE)
EMAIL = re.compile(
    r"(?<![\w.+'%-])"
    r"(?:[\w!#$'*+^`{|}~-]|%[0-9A-Fa-f]{2})(?:[\w!#$'*+^`{|}~.-]|%[0-9A-Fa-f]{2}){0,63}"
    + _AT
    + r"(?:[^\W_](?:[\w-]{0,61}[^\W_])?(?:\.|%2[Ee]|\s?[\[(]dot[\])]\s?))+"
    r"([A-Za-z]{2,24})(?![\w-])",
    re.IGNORECASE,
)

# An address whose domain is an IP literal: ``jane@[192.0.2.1]``, ``jane@[IPv6:2001:db8::1]``.
EMAIL_LITERAL = re.compile(
    r"(?<![\w.+'%-])[\w!#$'*+^`{|}~-][\w!#$'*+^`{|}~.-]{0,63}"
    r"@\[(?:IPv6:)?[0-9A-Fa-f:.]{2,45}\]",
    re.IGNORECASE,
)

# An address spelled out to get past filters: "rowan dot fairweather at example dot org".
SPELLED_EMAIL = re.compile(
    r"(?<![\w.])[a-z0-9][a-z0-9._+-]{0,63}(?:\s+dot\s+[a-z0-9_+-]{1,63}){0,3}"
    r"\s+(?:at|\[at\]|\(at\))\s+[a-z0-9][a-z0-9-]{0,62}(?:\s+dot\s+[a-z0-9-]{1,63}){0,3}"
    r"\s+dot\s+(?:com|org|net|edu|gov|mil|io|co|us|uk|ca|info|biz|me|health)(?![\w-])",
    re.IGNORECASE,
)

# ---------------------------------------------------------------- numbers
SSN = re.compile(r"(?<![\w-])(\d{3})( ?[-.] ?| )(\d{2})\2(\d{4})(?![\w]|[-.]\w)")
# Nine digits in a row are a Social Security Number only with the words for one close before them.
SSN_BARE = re.compile(r"(?<![\w.-])\d{9}(?![\w]|[-.]\d)")
SSN_CONTEXT = re.compile(
    r"\b(?:ssn|ss\#|social\s+security|soc\.?\s*sec|tax\s*(?:payer\s*)?id|itin|sin"
    r"|social\s+insurance)(?!\w)",
    re.IGNORECASE,
)
# Ten digits in a row (a North American number: area code and exchange start 2-9), or eleven with a
# leading 1, are a phone number only with a telephone word close before them.
NANP_BARE = re.compile(r"(?<![\w.+-])1?[2-9]\d\d[2-9]\d{6}(?![\w]|[-.]\d)")
# An id word right before a number makes it that id, whatever telephone word came earlier.
ID_BEFORE = re.compile(
    r"(?:\bid|(?<!\bcb )(?<!\bcb)\#|\bno\.?|\bnumber|\border|\bticket|\brequest"
    r"|\bref(?:erence)?|\binvoice|\bconfirmation|\bcase|\btracking|\btransaction)\s*[:#=]?\s*\Z",
    re.IGNORECASE,
)
PHONE_CONTEXT = re.compile(
    r"\b(?:phone|tel|telephone|mobile|cell|fax|call|text|sms|whatsapp|contact\s+number|pager"
    r"|cb|call\s*back|beeper"
    r"|tel[ée]fono|celular|cel|m[óo]vil)\b",
    re.IGNORECASE,
)
# 13-20 digits with optional single spaces or hyphens: card numbers, IMEIs and SIM ICCIDs.
LONG_NUMBER = re.compile(r"(?<![\w-])\d(?:[ -]?\d){12,19}(?![\w]|-\w)")
# A record number glued to its prefix in a file or path name: "ORU_pt84420193_20260313.hl7".
GLUED_ID = re.compile(r"(?<![A-Za-z0-9])(?i:pt|mrn|patient)[-_]?(?P<id>\d{5,12})(?![A-Za-z0-9])")
PHONE_NANP = re.compile(
    r"(?<![\w+-])(?:\+?1[ .-]?)?"
    r"(?:\(\d{3}\)[ .-]?\d{3}[ .-]?\d{4}|\d{3}([ .-])\d{3}\1\d{4}|(?<=\+1)\d{10})"
    r"(?:\s*(?:x|ext\.?|extension)\s*\d{1,6})?(?![\w]|[-.]\w)",
    re.IGNORECASE,
)
# International and national numbers: a run of digit groups, trimmed to a valid length in code.
PHONE_INTL = re.compile(r"(?<![\w+])\+[1-9](?:\d|[ .-](?=[\d(])|\((?=\d)|(?<=\d)\)){5,40}")
PHONE_NATIONAL = re.compile(
    r"(?<![\w.+-])(?:\(0[1-9]\d{0,3}\)|0[1-9]\d{0,3})(?:(?: ?- ?| )\d++){1,6}+"
    r"|(?<![\w.+-])0[1-9](?:\.\d\d){4}(?![\w.-])"
    r"|(?<![\w.+-])\([1-9]\d\)\s?9?\d{4}-\d{4}(?![\w]|[-.]\w)"
)
IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)")
VERSION_CONTEXT = re.compile(
    r"(?:\bv|[A-Za-z]/|\b(?:version|ver|build|release|rev|revision|firmware|fw|os|sdk|ios|android)"
    r"\b[\s:=#.-]*)\Z",
    re.IGNORECASE,
)
IPV6 = re.compile(
    r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|\d{1,3}(?:\.\d{1,3}){3})?"
    r"(?:%[\w.]+)?(?![\w]|:[0-9A-Fa-f:])"
)
MAC = re.compile(
    r"(?<![\w])(?<![0-9A-Fa-f][:-])[0-9A-Fa-f]{2}([:-])(?:[0-9A-Fa-f]{2}\1){4}[0-9A-Fa-f]{2}"
    r"(?![\w]|[:-][0-9A-Fa-f])"
    r"|(?<![\w.])[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}(?![\w.])"
)
IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?:[ -]?[A-Za-z0-9]){11,30}")
_MBI_L = "[AC-HJKMNP-RT-Y]"
MBI = re.compile(
    rf"(?<![\w-])[1-9]{_MBI_L}[{_MBI_L[1:-1]}0-9]\d-?{_MBI_L}[{_MBI_L[1:-1]}0-9]\d-?"
    rf"{_MBI_L}{{2}}\d{{2}}(?![\w]|-\w)"
)
VIN = re.compile(r"(?<![\w-])(?i:[A-HJ-NPR-Z0-9]{17})(?![\w]|-\w)")

# ---------------------------------------------------------------- dates and ages
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_MONTH_ES = (
    r"(?:enero|febrero|marzo|abril|mayo|junio|julio|agosto|sep?tiembre|octubre|noviembre"
    r"|diciembre)"
)
_WEEKDAY = r"(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]{0,6}\.?,?\s+)?"
DATE = re.compile(
    r"(?<![\w/.-])(?:"
    r"\d{4}-\d{1,2}-\d{1,2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
    r"|\d{4}/\d{1,2}/\d{1,2}"
    r"|\d{1,2}([/.-])\d{1,2}\1(?:\d{4}|\d{2})"
    rf"|{_WEEKDAY}\d{{1,2}}(?:st|nd|rd|th)?(?:[\s-]+of)?[\s-]+{_MONTH}\.?[\s,-]+\d{{4}}"
    rf"|\d{{1,2}}-{_MONTH}-\d{{2,4}}"
    rf"|{_WEEKDAY}{_MONTH}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
    # Spanish: "5 de mayo de 1944", "12 de marzo del 2026".
    rf"|\d{{1,2}}\s+de\s+{_MONTH_ES}\s+(?:de|del)\s+\d{{4}}"
    r"|(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
    # Compact month-first "07041949", as keyed into a phone menu.
    r"|(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?:19|20)\d{2}"
    r")(?![\w/-]|\.\d)",
    re.IGNORECASE,
)
DATE_CONTEXT = re.compile(
    r"\b(?:(?P<birth>dob|d\.o\.b|date\s+of\s+birth|birth\s*date|birth\s*day|born|birth|b(?=\.\s)"
    r"|date\s+de\s+naissance|naissance|n[ée]e?\s+le|fecha\s+de\s+nacimiento|nacimiento"
    r"|fecha\s+(?:de\s+)?nac\.?|naci[óo]\s+el|nacid[oa](?:\s+el)?|cumplea[ñn]os)"
    r"|(?P<other>deceased|died|death|dod|date\s+of\s+death|admitted|admission|admit|discharged?"
    r"|date\s+of\s+(?:service|visit|procedure|surgery|operation|encounter|injury)|dos|expired"
    r"|(?:visit|procedure|surgery|surgical|operation|encounter|service|injury|accident)\s+date"
    r"|(?:operated|injured|hospitali[sz]ed)(?:\s+on)?|appointment|appt|surgery|procedure"
    r"|operation|vaccinated|vaccination|immuni[sz]ed|immuni[sz]ation|diagnosed"
    r"|lmp|last\s+menstrual\s+period|session|episode|seclusion|restraint|eval(?:uation)?"
    r"|start\s+of\s+care|fecha\s+de\s+(?:alta|ingreso|egreso|defunci[óo]n|cita|visita)"
    r"|programad[ao]\s+para(?:\s+el)?|cita))(?!\w)",
    re.IGNORECASE,
)
_NINETY = (
    r"(?:ninety(?:[\s-]+(?:one|two|three|four|five|six|seven|eight|nine))?"
    r"|(?:one|a)\s+hundred(?:\s+and\s+[a-z]+)?)"
)
AGE = re.compile(
    r"\b(?:aged?|age\s++(?:of|at\s++[a-z]++))\s*+[:=]?\s*+(?P<a>\d{2,3})\b(?!\s*+(?:%|percent|days|months|weeks|\+))"
    r"|\b(?P<b>\d{2,3})[\s-]*(?:years?|yrs?|y)[\s-]*(?:old|/o)\b"
    r"|\b(?P<c>\d{2,3})\s*(?:yo|y/o|y\.o\.?)(?!\w)"
    # Spanish: "Paciente de 94 años", "tiene 91 anos".
    r"|\b(?P<e>\d{2,3})\s+a[ñn]os(?:\s+de\s+edad)?(?!\w)"
    r"|\b(?:patient|resident|woman|man|male|female|mother|father|grandmother|grandfather)"
    r",\s*(?P<d>\d{2,3}),"
    rf"|\b(?:aged?|age\s+of|is)\s+(?P<w>{_NINETY})\b"
    rf"|\b(?P<x>{_NINETY})[\s-]*(?:years?|yrs?)[\s-]*old\b",
    re.IGNORECASE,
)

# ---------------------------------------------------------------- places
STREET_SUFFIXES = (
    "street", "st", "avenue", "ave", "road", "rd", "boulevard", "blvd", "lane", "ln", "drive", "dr",
    "court", "ct", "way", "place", "pl", "terrace", "ter", "circle", "cir", "highway", "hwy",
    "parkway", "pkwy", "square", "sq", "trail", "trl", "alley", "aly", "crescent", "cres", "pike",
    "plaza", "plz", "route", "rte", "expressway", "expy", "freeway", "fwy",
)  # fmt: skip
_SUFFIX = "(?:" + "|".join(STREET_SUFFIXES) + ")"
_STATES = (
    r"(?:A[KLRZ]|C[AOT]|D[CE]|FL|GA|HI|I[ADLN]|K[SY]|LA|M[ADEINOST]|N[CDEHJMVY]|O[HKR]|PA|PR|RI"
    r"|S[CD]|T[NX]|UT|V[AIT]|W[AIVY])"
)
# A number followed by a unit of time or distance is a duration, not a house number: "12 min drive".
_NOT_A_STREET = (
    r"(?!(?:mins?|minutes?|mi|miles?|kms?|kilomet(?:er|re)s?|hrs?|hours?|secs?|seconds?)\b)"
)
ADDRESS = re.compile(
    r"(?<![\w.,/-])(?:\d{1,6}[A-Za-z]?(?:-\d{1,4})?\s+"
    + _NOT_A_STREET
    + r"(?:[NSEW]\.?\s+|(?:north|south|east|west)\s+)?"
    r"(?:[A-Za-z0-9][\w'.-]*\s+){1,4}?" + _SUFFIX + r"\b\.?(?:\s+(?:[NS][EW]?|[EW])\b\.?)?"
    r"(?:,?\s*+(?:apt|apartment|suite|ste|unit|fl|floor|rm|room|#)\.?\s*+#?\s*+[A-Za-z0-9-]{1,6}\b)?"
    r"(?:,\s*[A-Za-z][A-Za-z .'-]{1,30}?,?\s+" + _STATES + r"\b\.?)?"
    r"|p\.?\s?o\.?\s?box\s+\d{1,8}\b)",
    re.IGNORECASE,
)
# Street types that come before the name (French, Spanish, Italian, Portuguese) or are glued to
# its end (German, Dutch): "9 rue des Lilas", "Hauptstraße 5".
FOREIGN_ADDRESS = re.compile(
    r"(?<![\w.,/-])\d{1,5}(?:\s?(?:bis|ter)\b)?,?\s+"
    r"(?i:rue|avenue|boulevard|bd|chemin|all[ée]e|impasse|quai|cours|calle|avenida|via|viale"
    r"|piazza|rua|travessa)\s+"
    r"(?:(?i:de|du|des|la|le|les|del|della|di|da|do|dos|das)\s+|[ld]'\s?)*"
    r"[A-ZÀ-Ý][\w'-]+(?:[ \t]+[A-ZÀ-Ý][\w'-]+){0,3}"
    r"|(?<![\w-])[A-ZÄÖÜ][a-zäöüß]+(?:stra(?:ß|ss)e|str\.|weg|platz|allee|gasse|straat|laan"
    r"|gracht)\s+\d{1,4}[a-z]?\b"
)
ZIP_AFTER_STATE = re.compile(
    r"(?<![\w-])(?P<state>" + _STATES + r"),?\s+(?P<zip>\d{5}(?:-\d{4})?)(?![\w]|-\w)"
)
# A ZIP+4 right after a state code ("MA 02118-2393") is a ZIP code, not a national phone number.
ZIP_SHAPE = re.compile(r"\d{5}-\d{4}")
# A Canadian postal code written with its space ("K1A 0B1"): the letter-digit alternation is
# distinctive enough to stand without a label. UK postcodes ("SW1A 1AA") collide with product
# codes ("M1 8GB") and are taken only after a postcode label or under a postcode key.
CA_POSTAL = re.compile(
    r"(?<![\w-])[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z] \d[ABCEGHJ-NPRSTV-Z]\d(?![\w]|-\w)"
)
POSTAL_SHAPE = re.compile(
    r"[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z] ?\d[ABCEGHJ-NPRSTV-Z]\d"
    r"|[A-Z]{1,2}\d[A-Z\d]? ?\d[ABD-HJLNP-UW-Z]{2}",
    re.IGNORECASE,
)
STATE_BEFORE = re.compile(r"(?<![\w-])" + _STATES + r",?\s+\Z")
# A city, state and ZIP line without a street ("Austin TX 78701", "Boston, MA 02115-4401").
CITY_STATE_ZIP = re.compile(
    r"(?:[A-Za-z][A-Za-z.'-]*(?:\s+[A-Za-z][A-Za-z.'-]*){0,3},?\s+)?" + _STATES
    + r",?\s+\d{5}(?:[-\u2010-\u2015]\d{4})?|\d{5}(?:-\d{4})?"
)  # fmt: skip
# A five-digit number ending a search query after a word ("dr smith cardiology 10001"); the word
# before it is checked in code so that procedure and order codes ("cpt 99213") survive.
TRAILING_ZIP = re.compile(r"(?<=[A-Za-z] )\d{5}(?:-\d{4})?\s*\Z")
# State codes that are also common words or abbreviations: they need the ", City, ST" shape.
AMBIGUOUS_STATES = frozenset({"DE", "HI", "ID", "IN", "MA", "ME", "OK", "OR", "PA"})

# ---------------------------------------------------------------- context words
_NO = r"(?:number|no\.?|num|nbr|\#|id)"
_NO_ES = r"(?:n[úu]mero|n[úu]m\.?|no\.?|\#)"
CONTEXT_ID = re.compile(
    r"\b(?:"
    r"(?P<ssn>ssn|ss\#|social\s+(?:security|insurance)(?:\s+" + _NO + r")?|soc\.?\s*sec\.?"
    r"|seguro\s+social(?:\s*" + _NO_ES + r")?"
    r"|sin(?=[\s:#=]+\d)|tfn|tax\s+file(?:\s+" + _NO + r")?"
    r"|national\s+insurance(?:\s+" + _NO + r")?|ni\s+(?:number|no\b\.?))"
    r"|(?P<mrn>mrn|mr\s*(?:\#|no\b\.?|num(?:ber)?\b)|medical\s+record(?:\s+"
    + _NO
    + r")?|(?:hospital|hosp\.?|health\s+record)\s*"
    + _NO
    + r"|chart(?:\s*"
    + _NO
    + r"|(?=[\s:#]+\d{5,}\b))|pt\.?\s*(?:id\b|\#|no\b\.?|num(?:ber)?\b)"
    r"|pt(?=\s+(?-i:[A-Z]\d{6,9})\b)|(?-i:CSN)(?=[\s:#]+\d{6,}\b)"
    r"|(?:blood\s+bank\s+)?(?:armband|wristband)(?:\s*"
    + _NO
    + r")?|patient\s*"
    + _NO
    + r"|record\s*"
    + _NO
    + r"|rx\s*(?:\#|no\b\.?|num(?:ber)?\b)?|med\s*rec(?:ord)?s?\.?(?:\s*"
    + _NO
    + r")?"
    r"|expediente(?:\s+(?:m[ée]dico|cl[íi]nico))?(?:\s*" + _NO_ES + r")?"
    r"|paciente(?=[\s:#]+[A-Za-z]{0,3}-?\d{5,}\b)|eap\s+case(?:\s*" + _NO + r")?"
    r"|(?:accession|specimen|requisition|encounter"
    r"|lab\s+order)(?:\s*" + _NO + r"|\s+label)?"
    # A research subject, a consumer kit or a biobank sample: "Subject 204-0117", "subj 305-012",
    # "Screening number SCR-3307-021", "barcode GX-4K7Q-22819-TA", "aliquot SMP-2026-0048812-03".
    r"|(?:subj(?:ect)?|screening|enrol(?:l)?ment)(?:\s*" + _NO + r")?"
    r"(?=[\s:#]+(?:[A-Za-z]{1,5}-)?\d{3}-?\d)"
    r"|(?:kit\s+)?barcode|(?:biobank\s+)?(?:aliquot|sample\s*(?:id|\#|no\b\.?|number))"
    # A registry client or a public-health case: "IIS client ID 7740215593",
    # "Case # WA-2026-004471".
    r"|(?:iis\s+|registry\s+)?client\s*(?:id|\#|no\b\.?|number)(?=[\s:#]+\d{5,}\b)"
    r"|case\s*(?:\#|no\b\.?|number)(?=[\s:#]+[A-Za-z]{0,4}-?\d{4})" + r")"
    r"|(?P<member_id>nhs(?:\s*"
    + _NO
    + r")?|health\s*card\s*"
    + _NO
    + r"?|(?:member|mbr)\s*"
    + _NO
    + r"|member(?=[\s:#]+[A-Za-z]{0,4}\d)|(?:card\s*)?holder\s*id|mbi|ohip(?:\s*"
    + _NO
    + r")?|health\s+number"
    + r"|(?:eap\s+)?participant\s*"
    + _NO
    + r"|provider\s*one(?:\s*"
    + _NO
    + r")?"
    + r"|medicare(?:\s+card)?(?:\s*"
    + _NO
    + r")?|medicaid(?:\s*"
    + _NO
    + r")?|subscriber\s*"
    + _NO
    + r"|policy\s*"
    + _NO
    + r"|(?<!social )insurance(?:\s+card)?\s*"
    + _NO
    + r"|health\s+plan\s*"
    + _NO
    + r"|beneficiary\s*"
    + _NO
    + r"|afiliad[oa](?:\s*"
    + _NO_ES
    + r")?"
    + r")"
    r"|(?P<account_number>account\s*" + _NO + r"|(?:bank|billing|checking|savings|guarantor"
    r"|patient|financial)\s+account(?:\s*" + _NO + r")?|account(?=[\s:=#]+\d)"
    r"|acct\.?(?:\s*" + _NO + r")?|a/c|(?-i:HAR|FIN)(?=[\s:#]+\d{6,}\b)"
    r"|cuenta(?:\s+(?:bancaria|de\s+banco|corriente|de\s+ahorros?))?(?:\s*" + _NO_ES + r")?)"
    r"|(?P<license_number>lic\.?\s*(?:\#|no\b\.?|num(?:ber)?\b)|dea(?:\s*"
    + _NO
    + r")?|(?:driver'?s?\s+)?licen[sc]e(?:\s*"
    + _NO
    + r")?|dl\s*"
    + _NO
    + r"?|passport(?:\s*"
    + _NO
    + r")?|cert(?:ificate)?\.?\s*"
    + _NO
    + r"|(?:state\s*)?id\s*card(?:\s*"
    + _NO
    + r")?|state\s*id"
    + r"|licencia(?:\s+de\s+(?:conducir|manejar|manejo))?(?:\s*"
    + _NO_ES
    + r")?"
    + r"|pasaporte(?:\s*"
    + _NO_ES
    + r")?)"
    r"|(?P<phone>phone|tel|telephone|mobile|cell|fax|call|text|sms|whatsapp|contact\s*"
    + _NO
    + r"|ph\.?|tel[ée]fono|celular|cel\.?|m[óo]vil)"
    r"|(?P<device_id>imei|meid|device\s*(?:id|identifier|serial)|serial\s*"
    + _NO
    + r"|serial(?:\s*(?:s/?n|number))?(?=[\s:#]+[A-Za-z0-9-]*\d)|s/n"
    r"|sn(?=\s*[:#]|\s+[A-Za-z0-9-]*\d)"
    r"|udid|idfa|idfv|gaid|aaid|android[\s_]*id|advertising\s*id|mac(?:\s*address)?|iccid)"
    r"|(?P<vehicle_id>vin|vehicle\s*(?:id|identification\s+number)|licen[sc]e\s+plate"
    r"|plate\s*" + _NO + r"|plate(?:\s+(?-i:[A-Z]{2})(?=\s+[A-Za-z0-9-]*\d))?"
    r"(?=[\s:#]+[A-Za-z0-9-]*\d)"
    # "placa TX: LKP 4821": the issuing state between the word and the plate.
    r"|placa(?:\s+(?-i:[A-Z]{2})(?=[\s:#]))?"
    # A UK registration after "reg": "reg YK19 PZD".
    r"|reg(?:istration)?(?:\s+(?:no\b\.?|number|plate))?(?=[\s:#]+(?-i:[A-Z]{2}\d\d\s?[A-Z]{3})\b))"
    r"|(?P<zip_code>zip(?:\s*code)?(?:\s*(?:\+|plus)\s*4|\s+of\s+(?:residence|home))?|postal\s*code|post\s*code|near"
    r"|postal(?=[\s:#]+\d))"
    r"|(?P<credit_card>card\s*" + _NO + r"|credit\s+card|cc)"
    r"|(?P<iban>iban|bank(?=[\s:#]+[A-Za-z]{2}\d\d[A-Za-z0-9]{11,30}\b))"
    r"|(?P<custom>confirmation(?:\s*(?:code|number|no\b\.?|\#))?|conf\.?\s*(?:\#|code|no\b\.?)"
    r"|employee\s*(?:id|number|no\b\.?|\#)|booking\s*(?:ref(?:erence)?|code)"
    r"|emp\s*(?:id|\#|no\b\.?)|badge(?:\s*(?:id|\#|no\b\.?|number))?(?=[\s:#]+\d{4,}\b)"
    r"|operator\s*(?:id|\#)|user\s*id(?=[\s:#]+(?-i:[A-Z])\d{4,}\b)"
    r"|(?:enrol(?:l)?ment|activation|referral|invite|invitation|verification|share"
    r"(?:\s+your)?)\s+code|randomi[sz]ation\s*(?:id|number|no\b\.?|\#)"
    r"|(?:statement|portal)\s+access\s+code|student\s*(?:id|number|no\b\.?|\#)"
    r"|(?:quick\s*-?pay\s+)?pin(?=[\s:#]+\d)|confirmaci[óo]n)"
    r")(?:(?<=\#)|(?!\w))[\s:#=.\-]*(?:(?:is|was|of|number|no|num|id|corrected|updated|changed|verified"
    r"|confirmed|validated)\b[\s:#=.\-]*)?"
    r"(?P<value>(?:(?-i:[A-Z]{1,3}) |(?-i:[a-z]{3}) (?=\d{3} \d))?"
    r"(?=[A-Za-z0-9-]*\d)[A-Za-z0-9](?:[A-Za-z0-9]|[-./](?=[A-Za-z0-9])"
    r"| (?=\d)){2,40})",
    re.IGNORECASE,
)

# The first word of every context phrase above, as a lower-case letter run.
CONTEXT_FIRST_WORDS = (
    "ssn", "ss", "social", "soc", "mrn", "mr", "hospital", "hosp", "lic", "billing", "checking",
    "savings", "guarantor", "financial", "medical", "chart", "patient", "record", "member", "mbi",
    "medicare", "medicaid", "subscriber", "policy", "insurance", "health", "beneficiary", "group",
    "account", "bank", "acct", "a", "driver", "drivers", "licence", "license", "dl", "passport",
    "certificate", "phone", "tel", "telephone", "mobile", "cell", "fax", "call", "text", "sms",
    "whatsapp", "contact", "ph", "imei", "meid", "device", "serial", "udid", "idfa", "android",
    "advertising", "mac", "vin", "vehicle", "plate", "zip", "postal", "post", "card", "credit",
    "cc", "iban", "mrn", "dea", "cert", "s", "near", "rx", "accession", "specimen", "requisition",
    "encounter", "lab", "holder", "state", "sn", "confirmation", "conf", "employee", "booking",
    "sin", "nhs", "idfv", "gaid", "aaid", "postcode", "zipcode", "pt", "med", "medrec",
    "expediente", "paciente", "afiliado", "afiliada", "cuenta", "id", "licencia", "pasaporte",
    "seguro", "celular", "cel", "placa", "enrollment", "enrolment", "activation", "confirmaci",
    "iccid", "tfn", "national", "ni", "ohip", "eap", "participant", "provider", "providerone",
    "referral", "invite", "invitation", "statement", "portal", "student", "quick", "quickpay",
    "pin", "reg", "registration", "tax", "csn", "har", "fin", "armband", "wristband", "blood",
    "emp", "badge", "operator", "user", "subject", "subj", "screening", "kit", "barcode",
    "biobank", "aliquot", "sample", "iis", "registry", "client", "case", "mbr", "verification",
    "share", "randomization", "randomisation",
)  # fmt: skip

# A value a validation message echoes back, quoted, before the kind of value it should have been:
# "'123-45-678' is not a valid SSN", "'9411' is not a valid ZIP code". What the user typed in such
# a field is sensitive even when it is malformed.
ECHOED = re.compile(
    r"(?<![\w-])['\"\u2018\u201c]?(?P<value>\d[\d .-]{1,30}\d)['\"\u2019\u201d]?\s*"
    r"(?:is\s+)?(?:not\s+(?:a\s+|an\s+)?valid|(?:an?\s+)?invalid)\s+(?:us\s+)?"
    r"(?:(?P<ssn>ssn|social\s+security(?:\s+number)?)"
    r"|(?P<credit_card>(?:credit\s+|debit\s+|payment\s+)?card(?:\s+number)?)"
    r"|(?P<zip_code>zip(?:\s*code)?|postal\s*code|post\s*code)"
    r"|(?P<phone>(?:phone|telephone|mobile|cell)(?:\s+number)?))\b",
    re.IGNORECASE,
)
# Digits as a person types them into a form field: digit groups with spaces, dots or hyphens.
TYPED_NUMBER = re.compile(r"\d(?:[ .-]?\d)*")

# ---------------------------------------------------------------- names
HONORIFIC = re.compile(r"\bM(?:r|rs|s|x|iss)\b|\bSr(?:a|ta)?\.")
# One capitalised word of a name, apostrophes and hyphens inside: "O'Brien", "Anne-Marie".
# Accented letters count ("Beltrán", "Héctor", "Cantú").
_UP = "A-ZÀ-ÖØ-Þ"
_LO = "a-zß-öø-ÿ"
_NAME_WORD = rf"[{_UP}](?:[{_LO}]+|['\u2019][{_UP}][{_LO}]+)(?:[-'\u2019][{_UP}]?[{_LO}]+)*"
#: A capitalised name word (accents, O'Brien, hyphenated), shared by the name-finding modules.
NAME_WORD = _NAME_WORD
# Lower-case particles inside a name: "Anouk de Vries", "Joaquín de la Rosa".
_PARTICLES = r"(?:(?:de|del|la|las|los|van|von|der|den|da|di|du|dos|das|le|y|e)[ \t]+){0,2}"
# A family name in capitals, as HL7 feeds, OCR and audit logs write it: "FITZGERALD-NWOSU".
_CAPS_WORD = rf"[{_UP}][{_UP}'\u2019]*[{_UP}](?:-[{_UP}][{_UP}'\u2019]*[{_UP}])?"
#: A name word in capitals ("DOE", "FITZGERALD-NWOSU").
CAPS_WORD = _CAPS_WORD
# A title between a label and the name it introduces: "Signed by Dr. Okafor".
_TITLE = r"(?:(?:Dr|Prof|Mr|Mrs|Ms|Mx|Miss|Sr|Sra|Srta|Mme|Mlle)\.?\s++)?"
# The labels that introduce a name, shared by the capitalised and the lower-case form.
_NAME_LABEL = (
    r"(?:\b(?i:(?:patient(?:'s)?|pt\.?|full|first|last|given|family|my|his|her|their)\s+name"
    r"|name|patient|paciente|nombre(?:\s+(?:completo|del\s+paciente))?)(?:\s*+(?:is|es|:|=|-)\s*+|\t++)"
    r"|\b(?i:(?:signed|countersigned|witnessed|pick(?:ed)?[ -]?up)\s+by"
    r"|pick[ -]?up\s+for)\s*+:?\s*+['\"\u2018\u201c]?"
    # The signer's role between "by" and the name: "signed by participant Rebecca Tullidge".
    r"(?:(?i:participant|subject|patient|parent|guardian|witness|investigator)\s++)?"
    r"|\b(?i:guardian|caregiver|spouse|parent|emergency\s+contact|next\s+of\s+kin|insured"
    r"|guarantor|subscriber|responsible\s+party|caller|investigator|coordinator|monitor"
    r"|(?:dna|relative)\s+match|(?:lar|participant|subject|witness)\s+signature"
    r"(?:\s+captured)?)"
    r"(?:\s*+(?::|=|-)\s*+|\t++))"
    # A relationship before the name in brackets: "picked up by: daughter (Keisha Brown)".
    r"(?:(?i:daughter|son|wife|husband|mother|father|sister|brother|spouse|partner|friend"
    r"|grandson|granddaughter|aunt|uncle|niece|nephew|parent|guardian)\s*+\(\s*+)?"
)
NAME_CONTEXT = re.compile(
    r"(?:\b(?:Mr|Mrs|Ms|Miss|Mx)\.?\s+|\bSr(?:a|ta)?\.\s+|"
    + _NAME_LABEL
    + r")"
    + _TITLE
    + r"(?P<name>"
    # A leading initial: "Investigator: J. Halvorsen".
    + r"(?:[A-Z]\.[ \t]?)?"
    + _NAME_WORD
    # "Nakamura, Kenji": a family name, a comma and a given name that ends the phrase.
    + r"(?:,[ \t]*"
    + _NAME_WORD
    + r"(?=[ \t]*(?:\Z|[)|;\n]|[A-Z]\.))"
    + r"|(?: +(?:[A-Z]\.|"
    + _PARTICLES.replace("[ \\t]", " ")
    + _NAME_WORD
    + r")){0,3}))"
)
# The same labels before a name typed in lower case ("emergency contact name: luis hernandez"),
# whose first word the caller checks against common given names, or a lower-case honorific with
# its full stop before one word ("see mr. delgado at 2pm").
NAME_CONTEXT_LOWER = re.compile(
    r"(?:\b(?:mr|mrs|sra?|srta)\.[ \t]*(?P<surname>[a-z][a-z'\u2019-]+)|(?:"
    + _NAME_LABEL
    + r")(?P<name>[a-z]+(?:[ \t]+[a-z][a-z'\u2019-]+){1,2}))(?![\w'\u2019-])"
)
# A name after a greeting and a comma ("Welcome back, Maria Gonzalez") or after "message from".
GREETING_NAME = re.compile(
    r"\b(?:(?i:welcome(?:\s+back)?|hi|hello|hey|dear|thanks|thank\s+you|hola|gracias"
    r"|good\s+(?:morning|afternoon|evening)),[ \t]*" + _TITLE
    + r"(?P<greeted>" + _NAME_WORD + r"(?:[ \t]+" + _NAME_WORD + r"){0,2})"
    # "Hi Priya, your results are ready": the name between the greeting and the comma.
    + r"|(?i:hi|hello|hey|dear|thanks|hola|estimad[oa]|querid[oa])[ \t]+" + _TITLE
    + r"(?P<addressed>" + _NAME_WORD + r"(?:[ \t]+" + _NAME_WORD + r"){0,2})(?=,)"
    + r"|(?i:(?:message|text|reply|voicemail|note|email|invitation|invite|call)\s+from)\s+"
    + _TITLE + r"(?P<sender>" + _NAME_WORD + r"(?:[ \t]+" + _NAME_WORD + r"){1,2}))"
    + r"(?![\w'\u2019-])"
)  # fmt: skip

# A name a relative or a role word introduces: "her brother Rafferty", "pt's daughter Luz María
# Cantú", "Your driver Tomás Aguirre", "assigned to Priya Raghunathan", "Re: Hollis Marchetti".
# The caller checks the words against common nouns; a role needs a first and a last name.
RELATIVE_NAME = re.compile(
    r"\b(?:(?P<relative>(?i:daughter|son|wife|husband|brother|sister|mother|father|grandson"
    r"|granddaughter|grandmother|grandfather|aunt|uncle|niece|nephew|cousin|fianc[ée]e?"
    r"|boyfriend|girlfriend|roommate|neighbou?r|stepson|stepdaughter|stepmother|stepfather"
    r"|hij[oa]|espos[oa]|herman[oa]|madre|padre|niet[oa]|abuel[oa]|t[íi][oa]|vecin[oa]"
    r"|sobrin[oa]|prim[oa]|nuera|yerno))"
    r"|(?P<role>(?i:driver|nurse|aide|caregiver|therapist|counsel?lor|courier|paramedic"
    r"|(?:study\s+)?coordinator|(?:dna|relative)\s+match"
    r"|social\s+worker|case\s+manager|chofer|conductor[a]?|enfermer[oa]|cuidador[a]?"
    r"|terapeuta|assigned\s+to|reassigned\s+to|transferred\s+to|attn:|attention:|re:)))"
    r"[ \t]+" + _TITLE
    + r"(?P<name>" + _NAME_WORD + r"(?:[ \t]+" + _PARTICLES + _NAME_WORD + r"){0,2})"
    + r"(?![\w'\u2019-])"
)  # fmt: skip
# A name quoted after the words for one: "patient name mismatch (sent 'Wendell Oyelaran')",
# "caller gave name as \"Marisol\"", "Patient.name[0].text 'Rosalind Villanueva-Ochoa'".
QUOTED_NAME = re.compile(
    r"\b(?i:(?:patient|pt|caller|client|member|person|legal|full|first|last|given|family|his"
    r"|her|their|gave|nombre)(?:'s)?[ .]?name|nombre)\b[^'\"\u2018\u201c\n]{0,30}?"
    r"['\"\u2018\u201c](?P<name>" + _NAME_WORD + r"(?:[ \t]+" + _PARTICLES + _NAME_WORD
    + r"){0,3})['\"\u2019\u201d]"
)  # fmt: skip
# "LAST, FIRST M." after a patient or chart cue, in capitals or not: "viewed chart: ELLSWORTH,
# PENELOPE R.", "for patient FITZGERALD-NWOSU, CIARAN"; and a name in capitals after a label
# ("SUBSCRIBER: ROBERTO J SALAZAR").
LAST_FIRST = re.compile(
    r"\b(?i:patient|pt|chart|client|resident|member|subscriber|insured|guarantor|paciente)"
    r"(?:[ \t]*+:[ \t]++|[ \t]++)(?:"
    r"(?P<last>(?:" + _CAPS_WORD + r"|" + _NAME_WORD + r"),[ \t]*(?:" + _CAPS_WORD + r"|"
    + _NAME_WORD + r")(?:[ \t]+[A-Z]\.?)?)(?![\w'\u2019-])"
    r"|(?P<caps>" + _CAPS_WORD + r"(?:[ \t]+[A-Z]\.?)?(?:[ \t]+" + _CAPS_WORD + r"){1,2})"
    r"(?=[ \t]*(?:[\n,;)]|\Z)))"
)  # fmt: skip
# A table cell holding a person's name: "Oyelowo, Chidinma", "Jane Doe", "DOE, JANE A".
CELL_NAME = re.compile(
    r"\s*(?:(?:" + _CAPS_WORD + r"|" + _NAME_WORD + r"),[ \t]*(?:" + _CAPS_WORD + r"|"
    + _NAME_WORD + r")(?:[ \t]+[A-Z]\.?)?|" + _NAME_WORD + r"(?:[ \t]+" + _PARTICLES
    + _NAME_WORD + r"){1,3})\s*"
)  # fmt: skip
# A quoted "Last, First" cell of a CSV row: 4471,"Nakamura-Bell, Jun",F33.1.
CSV_LAST_FIRST = re.compile(
    r"(?:(?<=[,\t])|\A)\"(?P<name>" + _NAME_WORD + r",[ \t]*" + _NAME_WORD
    + r"(?:[ \t]+[A-Z]\.?)?)\"(?=[,\t\n]|\Z)"
)  # fmt: skip
# "recordatorio para dolores treviño:": a recipient after a reminder word, lower case included.
RECIPIENT_NAME = re.compile(
    r"\b(?i:recordatorio|mensaje|aviso|recado|nota|reminder|message)[ \t]+(?i:para|for)[ \t]+"
    rf"(?P<name>[{_UP}{_LO}][{_LO}'\u2019-]+[ \t]+[{_UP}{_LO}][{_LO}'\u2019-]+)"
    r"(?=[ \t]*(?:[:,;]|\Z))"
)  # fmt: skip
# A notification that starts with who did something: "Mike Donnelly shared his log with you".
ACTOR_NAME = re.compile(
    r"[ \t]*(?P<name>(?P<first>" + _NAME_WORD + r")[ \t]+" + _NAME_WORD + r")[ \t]+"
    r"(?:shared|sent|invited|added|accepted|requested|replied|commented|messaged|uploaded"
    r"|signed|joined|wants|is\s+sharing|has\s+shared|has\s+invited|left)\b"
)  # fmt: skip
# A speaker introducing themselves by first and last name: "Hi, this is Carlos Mendez".
INTRO_NAME = re.compile(
    r"\b(?P<intro>(?i:this\s+is|i\s+am|i'm|i\u2019m))\s+"
    r"(?P<name>[A-Z][a-z'\u2019-]+(?:[ \t]+(?:[A-Z]\.\s+)?[A-Z][a-z'\u2019-]+){1,2})"
    r"(?![\w'\u2019-])"
)
# An image or document file name whose words may carry a name: "jane_doe_xray.png".
_FILE_EXTENSION = (
    r"\.(?i:png|jpe?g|gif|heic|heif|webp|bmp|tiff?|pdf|docx?|rtf|odt|dcm|txt|csv|vcf|zip)(?![\w-])"
)
FILE_EXTENSION = re.compile(_FILE_EXTENSION)
FILE_NAME = re.compile(
    r"(?<![\w.-])(?P<stem>[A-Za-z0-9]+(?:[-_ ][A-Za-z0-9]+){1,9})" + _FILE_EXTENSION
)

# ---------------------------------------------------------------- urls
# A path at the start of the text or after white space, or a fragment route after "#" or "#!":
# "GET /api/v2/users/58213/profile", "#/patient/84213?tab=labs".
PATH = re.compile(r"(?:(?<!\S)|(?<=(?<!\S)\#)|(?<=(?<!\S)\#!))/[^\s\"'<>`{}|\\^]+")
URL = re.compile(r"(?:\b[a-z][a-z0-9+.-]{1,15}://|\bwww\.)[^\s\"'<>`{}|\\^]+", re.IGNORECASE)
# What follows a "|" inside a query value ("?identifier=urn:oid:1.2.3|E551902"): still the URL.
URL_TAIL = re.compile(r"\|[^\s\"'<>`{}|\\^]+")

# ---------------------------------------------------------------- coordinates
# A latitude/longitude pair precise to about 10 m (four or more decimals), optionally labelled:
# "37.774929,-122.419416", "lat 40.712776, lng -74.005974", "41.8781136 -87.6297982".
_LAT = r"[-+]?\d{1,2}\.\d{4,10}"
_LNG = r"[-+]?\d{1,3}\.\d{4,10}"
COORDINATES = re.compile(
    r"(?<![\w.-])(?:(?:lat(?:itude)?)\s*[:=]?\s*)?(?P<lat>" + _LAT + r")"
    r"(?:\s*[,;/]\s*|\s+)(?:(?:lng|lon|long|longitude)\s*[:=]?\s*)?(?P<lng>" + _LNG + r")"
    r"(?![\w]|\.\d)",
    re.IGNORECASE,
)

# ---------------------------------------------------------------- embedded key/value pairs
# A JSON member serialised into a string property: "email":"jane@..." or "age": 97.
JSON_PAIR = re.compile(
    r'"(?P<key>[A-Za-z_][\w .-]{0,63})"\s*:\s*'
    r'(?:"(?P<text>(?:[^"\\]|\\.){1,512})"|(?P<number>-?\d{1,30}(?:\.\d{1,20})?)(?![\w.]))'
)
# A query-string or log-style pair: dob=1962-03-08, ip=203.0.113.19, geo=51.5,-0.12.
KEY_VALUE = re.compile(
    r"(?<![\w.%-])(?P<key>[A-Za-z][\w.-]{0,40})=(?P<text>(?:[^&;,\s\"'<>=]|,(?![\w.-]*=)){1,256})"
)
# A quoted log-style pair: name="Jane Doe", user='j.doe@example.com'.
KEY_QUOTED = re.compile(
    r"(?<![\w.%-])(?P<key>[A-Za-z][\w.-]{0,40})=(?P<quote>[\"'])(?P<text>[^\"'\n]{1,256})(?P=quote)"
)
# A key cell followed by its value cell in a CSV row: "emergency_contact_name,Tom Baker".
CSV_PAIR = re.compile(
    r"(?:(?<=[\n,])|\A)(?P<key>[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+),(?P<text>[^,\n]{1,256})"
)
# The last four digits of an SSN, labelled as such, and an SSN masked but for them.
SSN_LAST4 = re.compile(
    r"\b(?:(?:ssn|social(?:\s+security)?(?:\s+(?:number|no\.?|\#))?)\s*\(?\s*last\s*(?:4|four)"
    r"(?:\s+digits)?\s*\)?(?:\s*(?:verified|confirmed|provided|given|on\s+file)\s*\(?)?|last\s*(?:4|four)(?:\s+digits)?\s+(?:of\s+)?(?:(?:your|the|my|patient'?s?)\s+)?"
    r"(?:ssn|social(?:\s+security)?(?:\s+(?:number|no\.?|\#))?)"
    # Spanish: "últimos 4 del seguro social".
    r"|[úu]ltimos\s*(?:4|cuatro)(?:\s+d[íi]gitos)?\s+(?:del?\s+)?(?:su\s+)?(?:n[úu]mero\s+de\s+)?"
    r"(?:seguro\s+social|ssn))\s*(?:is\s+|es\s+)?[:#=-]?\s*(?P<value>\d{4})(?!\d)",
    re.IGNORECASE,
)
SSN_MASKED = re.compile(r"(?<![\w*\u2022-])[xX*\u2022]{3}([- ]?)[xX*\u2022]{2}\1\d{4}(?![\w]|-\d)")
# A seven-digit local number ("555-0143"); a phone number only with a telephone word before it.
LOCAL_PHONE = re.compile(r"(?<![\w.+-])[2-9]\d{2}[-.]\d{4}(?![\w]|[-.]\d)")
# A birth year written out ("born in 1932"), and birth words after a date.
BORN_YEAR = re.compile(
    r"\b(?:born\s+(?:in\s+)?|naci(?:d[oa]|[óo])\s+(?:en\s+)?(?:el\s+)?(?:a[ñn]o\s+)?)"
    r"(?P<year>1[89]\d\d)(?![\w/.-])",
    re.IGNORECASE,
)
BIRTH_AFTER = re.compile(
    r"\W{0,4}(?:\w+\W+){0,5}?(?:date\s+of\s+birth|dob|birth\s*date|birthday)\b", re.IGNORECASE
)
PERCENT_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
# A drug or supply code label right before digit groups: "NDC 0409-4888-02" is no phone number.
CODE_BEFORE = re.compile(r"\b(?i:ndc|gtin|upc|lot|sku|ref)[\s:#]*\Z")
# A safety event right after its date: "Event date 2025-03-09: pt fell in bathroom".
EVENT_AFTER = re.compile(
    r"\W{0,4}(?i:(?:pt|patient)\s+(?:fell|was\s+found|found\s+on\s+floor|eloped|died|expired))\b"
)
# Words of a hospital stay before a date without a year: "admitted 2/27", "on admission 2/28".
STAY_BEFORE = re.compile(
    r"\b(?i:admitted|admission|admit|discharged?|readmitted|transferred)(?:\s+on)?\s*:?\s*\Z"
)
# A family's privacy password: "Family password: BLUEHERON".
FAMILY_PASSWORD = re.compile(
    r"\b(?i:(?:family|privacy|patient)\s+(?:password|passcode|pass\s*word|code\s*word))"
    r"\s*[:=-]?\s*(?P<value>[A-Za-z0-9][A-Za-z0-9-]{3,31})(?![\w-])"
)

# ---------------------------------------------------------------- weak cues
# A quoted literal next to the column or field it is compared with or assigned to, as SQL and
# exception messages write it: "last_name ILIKE 'szymanski%'", "dl_number = 'F4471290'",
# 'display_name "Bronwyn O\'Sullivan-Hart" exceeds'. A bare space is a separator only after a
# snake_case key (checked in code).
QUOTED_PAIR = re.compile(
    r"(?<![\w.%'\"-])(?P<key>[A-Za-z][\w.]{0,40})(?P<op>\s*(?:=|!=|<>)\s*|\s+(?i:i?like)\s+|\s+)"
    r"(?P<quote>['\"])(?P<text>(?:(?!(?P=quote))[^\n]){1,256})(?P=quote)"
)
# A form field named by its name attribute, then its value: input[name=partner_name] value="X".
FIELD_VALUE = re.compile(
    r"\bname=\\?['\"]?(?P<key>[A-Za-z][\w.-]{0,40})\\?['\"]?\]?[^=\n]{0,40}?\bvalue=\\?['\"]"
    r"(?P<text>[^'\"\\\n]{1,256})"
)
# A field an exception names after echoing a value: "(field: date_of_birth)".
FIELD_NAME = re.compile(
    r"\b(?i:field|column|param(?:eter)?|attribute|loc)\b\s*[:=]?\s*['\"(\[]?(?P<key>[A-Za-z][\w.]{1,40})"
)
QUOTED_VALUE = re.compile(
    r"['\"\u2018\u201c](?P<value>[^'\"\u2018\u2019\u201c\u201d\n%]{1,80})['\"\u2019\u201d]"
)
# A name a relation, a role or a preposition introduces, typed in lower case ("my sister leah",
# "grandpa walt", "my ex (brandon kowalski)") or capitalised after a comma or bracket ("partner,
# Ahmed"): the caller checks the first word against common given names.
LOWER_RELATIVE_NAME = re.compile(
    r"\b(?P<cue>(?i:sister|brother|mom|mum|mother|dad|father|daughter|son|wife|husband|partner"
    r"|ex|friend|bestie|bff|grandpa|grandma|granny|gran|grandad|granddad|nan|nana|nanna|papa"
    r"|aunt|auntie|uncle|cousin|niece|nephew|boyfriend|girlfriend|fianc[ée]e?|roommate|flatmate"
    r"|coach|therapist|counsel?lor|colleague|coworker|boss|bf|gf|dtr|with|w/))"
    r"(?:[ \t]*[,(][ \t]*|[ \t]+)"
    rf"(?P<name>[{_UP}{_LO}][{_LO}'\u2019-]+)(?![\w'\u2019-])"
)
# The word after a name found by `LOWER_RELATIVE_NAME`, kept when it is a surname: capitalised, or
# closing the bracket the name opened ("my ex (brandon kowalski)").
NEXT_NAME_WORD = re.compile(rf"[ \t]+(?P<word>[{_UP}{_LO}][{_LO}'\u2019-]+)(?P<close>\))?")
# The sender of a quoted e-mail: "On Tue, 3 Mar 2026 at 09:14, Daniel Okonkwo wrote:".
WROTE_NAME = re.compile(
    r"(?P<name>" + _NAME_WORD + r"(?:[ \t]+" + _PARTICLES + _NAME_WORD + r"){0,3})"
    r"[ \t]*(?:<[^<>\n]{1,80}>[ \t]*)?(?i:wrote|a\s+écrit|escribió):"
)
# A clinician's first and last name after a title ("ask Dr Felicity Amadi"), or a surname typed in
# lower case after one ("dr. okafor anxiety"). A capitalised surname alone ("Dr. Lee, OD") is left
# to the labelled rules.
DOCTOR_NAME = re.compile(
    r"\b(?:(?:Dr|DR|Doctor)\.?[ \t]+(?P<name>" + _NAME_WORD + r"(?:[ \t]+" + _PARTICLES
    + _NAME_WORD + r"){1,2})|dr\.?[ \t]+(?P<lower>[a-z][a-z'\u2019-]{2,}))(?![\w'\u2019-])"
)  # fmt: skip
# A person a work-log or payments phrase names: "Note by Kiri Paewai:", "debtor Quentin Moss",
# "receipt for Anselm Whitcombe", "cardholder Pieter van der Berg", "for pt Yusuf Haddad",
# "Reassigned from queue X to Marisol Ochoa". The caller wants a first and a last name.
ROLE_NAME = re.compile(
    r"\b(?i:(?:note|notes|comment|entered|updated|created|reviewed|approved|posted|added|written"
    r"|edited|submitted|closed|called|handled|escalated)\s+by|debtor|cardholder|card\s+holder"
    r"|account\s+holder|remitter|payee|(?:receipt|statement|invoice|refund|bill|payment)s?\s+for"
    r"|(?:for|re|to)\s+(?:pt|patient)|(?:re)?assigned\s+(?:from\s+[^\n,;:]{1,40}?\s+)?to"
    r"|your\s+friend|friend)[ \t]*:?[ \t]+"
    + _TITLE + r"(?P<name>" + _NAME_WORD + r"(?:[ \t]+" + _PARTICLES + _NAME_WORD + r"){1,3})"
    + r"(?![\w'\u2019-])"
)  # fmt: skip
# A one-word self-introduction: "I'm Siobhan, 34", "my name's Ellie".
INTRO_GIVEN = re.compile(
    r"\b(?i:i'm|i\u2019m|i\s+am|my\s+name'?s|my\s+name\s+is|call\s+me)[ \t]+"
    r"(?P<name>[A-Z][a-z'\u2019-]+)(?=[ \t]*(?:[,.!;\u2014\u2013-]|\Z))"
)
# A name that is yet to be given: "baby's name is going to be Theodore".
FUTURE_NAME = re.compile(
    r"\b(?i:name)[ \t]+(?i:is[ \t]+)?(?i:going[ \t]+to[ \t]+be|gonna[ \t]+be|will[ \t]+be)[ \t]+"
    r"(?P<name>" + _NAME_WORD + r"(?:[ \t]+" + _NAME_WORD + r")?)"
)
# A greeting before a dash rather than a comma: "Hey Ellie — your reminder is set".
GREETING_DASH = re.compile(
    r"\b(?i:hi|hello|hey|dear|morning|evening)[ \t]+(?P<name>"
    + _NAME_WORD
    + r")[ \t]*[\u2014\u2013!-]"
)
# The user's own town: "just moved to Ballarat", "I live in Hackney", "moved to Kalispell, MT".
OWN_PLACE = re.compile(
    r"\b(?i:(?:i|we)\s+(?:now\s+)?live\s+in|(?:i'm|i\u2019m|i\s+am|we're|we\s+are)\s+based\s+in"
    r"|(?:just|recently|finally|have|has|had|i|we|he|she|they|guarantor|patient|pt|family)"
    r"\s+(?:just\s+)?(?:moved|relocated)\s+to|based\s+in|living\s+in"
    r"|(?:pt|patient|he|she|they)\s+lives?\s+in)[ \t]+"
    r"(?P<place>" + _NAME_WORD + r"(?:[ \t]+" + _NAME_WORD + r"){0,2})(?![\w'\u2019-])"
)

# ---------------------------------------------------------------- dates without a year
_DAY = r"(?:0?[1-9]|[12]\d|3[01])(?:st|nd|rd|th)?"
SHORT_DATE = re.compile(
    r"(?<![\w/.-])(?:(?:0?[1-9]|1[0-2])/(?:0?[1-9]|[12]\d|3[01])(?![\w/]|\.\d)"
    rf"|{_WEEKDAY}{_MONTH}\.?\s+{_DAY}\b(?!\s*[,/]?\s*\d)"
    rf"|{_WEEKDAY}{_DAY}(?:\s+of)?\s+{_MONTH}\b\.?(?!\s*[,/]?\s*\d))",
    re.IGNORECASE,
)
# Words that make a date a health event of the person's: pregnancy, fertility treatment, a loss.
EVENT_DATE_CONTEXT = re.compile(
    r"\b(?:due\s+date|edd|estimated\s+due|lmp|period\s+(?:started|start|began|came)"
    r"|(?:egg\s+)?retrieval|(?:embryo\s+)?transfer|ivf|iui|fet|d&c|miscarr(?:iage|ied)"
    r"|lost\s+the\s+baby|stillbirth|anniversary|death|died|passed\s+away|funeral"
    r"|(?:session|appointment|appt|consult)\b[^\n.]{0,40}?\b(?:confirmed|booked|scheduled|set)\s+for)"
    r"(?!\w)",
    re.IGNORECASE,
)
# A verb or noun of a research or public-health event right before its date: "Consent date:
# 02/17/2026", "AE onset date 12-Mar-2026", "Specimen collected 2026-01-30", "Last exposure ...".
CLOSE_EVENT_BEFORE = re.compile(
    r"\b(?i:consent(?:ed)?(?:\s++date)?|scheduled\s++for|onset(?:\s++date)?|started(?:\s++on)?"
    r"|collected(?:\s++on)?|administered(?:\s++on)?|exposure(?:\s++date)?)\s*+[:=-]?\s*+\Z"
)
# A baby's arrival is its date of birth: "our little one arrived 2/11/26".
ARRIVAL = re.compile(
    r"\b(?:baby|little\s+one|son|daughter|twins|bub|newborn)\s+(?:arrived|was\s+born|came)(?:\s+on)?"
    r"\s*\Z",
    re.IGNORECASE,
)

# ---------------------------------------------------------------- national ids
# A UK National Insurance number: two prefix letters, three digit pairs, a suffix letter A-D.
NINO = re.compile(
    r"(?<![\w-])(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]"
    r"(?: \d\d \d\d \d\d |\d{6})[A-D](?![\w-])"
)
# A UK driving licence number: surname (padded with 9s), birth date with the month +50 for women,
# initials, a digit and two check characters: "WHITF852174JW9AB".
UK_LICENCE = re.compile(
    r"(?<![A-Za-z0-9])[A-Z][A-Z9]{4}\d[0156]\d[0-3]\d\d[A-Z][A-Z9]\d[A-Z0-9]{2}(?![A-Za-z0-9])"
)
# An Ontario health card number (4-3-3 digits) with its two-letter version code.
OHIP = re.compile(r"(?<![\w-])\d{4}([ -]?)\d{3}\1\d{3}(?:[ -]?[A-Z]{2})?(?![\w]|-\w)")
# A UK postcode in prose, after a word that places someone: "Based in M14 5RB".
UK_POSTCODE = re.compile(
    r"\b(?i:in|near|at|from|around|postcode|post\s+code)[ \t]+"
    r"(?P<code>(?-i:[A-PR-UWYZ][A-HK-Y]?\d[A-HJKPSTUW\d]? \d[ABD-HJLNP-UW-Z]{2}))(?![\w])"
)
# A UK sort code or an Australian BSB, then the account number it belongs to.
BANK_ACCOUNT = re.compile(
    r"\b(?i:sort\s*code|bsb)[\s:#]*\d{2,3}[- ]?\d{2,3}(?:[- ]?\d\d)?[\s,;]+"
    r"(?i:(?:acc(?:oun)?t?|a/c)\.?(?:\s*(?:no\.?|number|\#))?[\s:#]*)?(?P<value>\d{6,10})(?!\d)"
)
# Digits read out one by one in a transcript: "4 2 5 5 5 5 0 1 3 6".
SPACED_DIGITS = re.compile(r"(?<![\w.-])\d(?: \d){6,10}(?![\w.-]| \d)")
_DIGIT_WORD = r"(?:zero|oh|one|two|three|four|five|six|seven|eight|nine)"
SPELLED_DIGITS = re.compile(
    rf"(?<![\w-]){_DIGIT_WORD}(?:[\s,.-]+{_DIGIT_WORD}){{6,10}}(?![\w-])", re.IGNORECASE
)
# An age in a conversational phrase: "she's 94", "turns 100", "he is 91 now".
SPOKEN_AGE = re.compile(
    r"\b(?:(?:she|he|they|pt|patient)(?:'s|\u2019s|\s+is|\s+was)|turn(?:s|ed|ing)?|turning)\s+"
    r"(?P<age>\d{2,3})\b(?!\s*(?:%|percent|days?|weeks?|months?|lbs?|kg|pounds|mg|minutes|mins"
    r"|hours|hrs|times|x\b|/|\.\d|:))",
    re.IGNORECASE,
)
