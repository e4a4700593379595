"""European identifiers and labels: German, French, Dutch and Italian text.

National identification numbers that carry a strong check are found by their shape and check
alone: the Italian codice fiscale (16 characters, control letter), the French NIR (13 digits and
a 97 key, spaced or not), the German Rentenversicherungsnummer (area, birth date, letter, check
digit) and a Dutch BSN written in its grouped form (``1234.56.789``, 11-proef). Weaker ones need
a label word: a bare BSN, a Steuer-ID, a KVNR (letter, nine digits, check digit; the label may be
anywhere in the text), a tessera sanitaria number, insurance, record, account, document, plate and
activation-code numbers after their name in any of the four languages ("Fallnummer", "IPP",
"Patiëntnummer", "cartella clinica", "Konto", "Passeport n°", "kenteken", "Freischaltcode").

Dates tied to a person by wording in those languages ("geb.", "née le", "geboren op", "nata il",
"Entlassung", "rendez-vous", "afspraak", "appuntamento") are found in numeric forms
(``21.03.1961``, ``14/02/1979``, ``21-09-1992``, ``28.02.``) and with spelled-out months
(``21. März 1961``, ``3 mei``); ages ("94 Jahre", "92 ans", "leeftijd: 91", "96 anni", "Jahrgang
1931"); street addresses with the number after the street ("Via Roma 10") and a postcode and town
after it; postcodes after a postcode label or a "near" phrase, Dutch ``1234 AB`` included; the
writer's own town after "ich wohne in"; and names after titles ("Dr. med.", "Frau Dr.",
"dottoressa", "mevrouw", "sig.ra", "i. A.") or greetings ("Hallo", "Bonjour", "Beste",
"Gentile"). Every finder runs only when a word of its vocabulary is in the text.
"""

from __future__ import annotations

import re

from unified_health.analytics._clock import Clock
from unified_health.analytics._scrub._categories import RedactionCategory as C
from unified_health.analytics._scrub._checks import (
    digits_of,
    is_bsn,
    is_codice_fiscale,
    is_kvnr,
    is_nir,
    is_rvnr,
    is_steuer_id,
)
from unified_health.analytics._scrub._patterns import NAME_WORD

__all__ = [
    "ADDRESS_WORDS",
    "EU_NAME_CUES",
    "EU_TRIGGERS",
    "EU_WORDS",
    "dutch_postcode_end",
    "find_european",
    "find_european_address",
    "find_european_ids",
    "find_european_names",
    "find_european_wording",
    "find_own_place",
]

Span = tuple[int, int, str, int]

_PARTICLES = (
    r"(?:(?:de|De|van|Van|von|der|den|ten|ter|te|da|di|Di|Da|De|del|della|le|du|des)\s+){0,2}"
)
_FULL_NAME = rf"(?:[A-Z]\.\s*)?{_PARTICLES}{NAME_WORD}(?:[ \t]+{_PARTICLES}{NAME_WORD}){{0,2}}"

# ---------------------------------------------------------------- labelled numbers
_N = r"(?:n[°o.º]?\.?|nr\.?|num(?:ero|éro)?\.?|nummer|\#)"
_CONTEXT = re.compile(
    r"(?<![\w-])(?:"
    r"(?P<ssn>steuer-?\s?id(?:entifikationsnummer)?|steuerliche\s+identifikationsnummer|idnr"
    r"|(?:renten|sozial)versicherungsnummer|rv-?nummer|sv-?nummer|nir"
    r"|(?:n[°o]\.?\s*|num[ée]ro\s+)?(?:de\s+)?s[ée]curit[ée]\s+sociale"
    r"|(?:n[°o]\.?\s*)?(?:de\s+)?carte\s+vitale|bsn|burgerservicenummer|sofinummer"
    r"|codice\s+fiscale|c\.f\.|cf(?=\s*:))"
    r"|(?P<member_id>(?:kranken)?versicherten-?(?:nummer|nr\.?)|kvnr|versicherungsnummer"
    r"|(?:n[°o]\.?\s*)?(?:d'\s?)?adh[ée]rent(?:\s+mutuelle)?|num[ée]ro\s+d'adh[ée]rent"
    r"|polisnummer|relatienummer|lidmaatschapsnummer|tessera\s+sanitaria|tessera"
    r"|ehic(?:\s+personal\s+identification\s+number)?|personal\s+identification\s+number)"
    r"|(?P<mrn>fallnummer|fall-?nr\.?|patienten-?(?:id|nummer|nr\.?)|ipp"
    r"|(?:num[ée]ro\s+de\s+)?dossier(?:\s+patient)?|pati[ëe]nt(?:en)?nummer|pati[ëe]nt-?id"
    r"|(?:numero\s+)?cartella(?:\s+clinica)?|nre|e-?rezept(?:-id)?)"
    r"|(?P<account_number>konto(?:nummer|nr\.?)?|mandatsreferenz|conto\s+corrente"
    r"|rekeningnummer|num[ée]ro\s+de\s+compte)"
    r"|(?P<license_number>ausweis-?(?:nummer|nr\.?)|personalausweis(?:nummer)?"
    r"|reisepass(?:nummer)?|pass-?nummer|passeport|carte\s+d'identit[ée]|rijbewijs(?:nummer)?"
    r"|paspoort(?:nummer)?|id-?kaart|patente|carta\s+d'identit[àa]|passaporto)"
    r"|(?P<custom>freischaltcode|aktivierungscode|best[äa]tigungscode|verificatiecode"
    r"|bevestigingscode|activeringscode|code\s+de\s+(?:confirmation|v[ée]rification|r[ée]servation)"
    r"|codice\s+(?:prenotazione|di\s+(?:verifica|conferma|attivazione)))"
    r"|(?P<vehicle_id>kennzeichen|immatricul[ée]e?|plaque|kenteken|targa"
    r"|(?:krankentransport|ktw|rtw)(?=\s+(?-i:[A-ZÄÖÜ]{1,3}-[A-Z]{1,2}\s?\d{1,4}[EH]?)\b)))"
    r"(?![\w])[\s:#=°.]*(?:" + _N + r"\s*)?(?:(?:[\w\u00c0-\u00ff-]{2,25}[ \t]?){1,4}:\s*)?\(?"
    r"(?P<value>(?-i:[A-Z]) (?=\d{9}\b)\d{9}"
    r"|(?=[A-Za-z0-9./-]*(?: \d)?\d)[A-Za-z0-9](?:[A-Za-z0-9]|[-./](?=[A-Za-z0-9])| (?=\d)){2,40})",
    re.IGNORECASE,
)
# The first word of every label above, as a lower-case ASCII letter run.
EU_WORDS = frozenset(
    {"steuer", "steuerliche", "idnr", "rentenversicherungsnummer", "sozialversicherungsnummer",
     "rv", "nir", "curit", "vitale", "bsn", "burgerservicenummer", "sofinummer", "fiscale",
     "versichertennummer", "krankenversichertennummer", "versicherten", "krankenversicherten",
     "versichertennr", "kvnr", "versicherungsnummer", "adh", "polisnummer", "relatienummer",
     "lidmaatschapsnummer", "tessera", "ehic", "fallnummer", "patienten", "patientennummer",
     "ipp", "dossier", "ntnummer", "patientnummer", "cartella", "nre", "rezept", "erezept",
     "konto", "kontonummer", "kontonr", "mandatsreferenz", "conto", "rekeningnummer", "compte",
     "ausweis", "ausweisnummer", "personalausweis", "personalausweisnummer", "reisepass",
     "reisepassnummer", "passnummer", "passeport", "rijbewijs", "rijbewijsnummer", "paspoort",
     "paspoortnummer", "kaart", "patente", "identit", "passaporto", "freischaltcode",
     "aktivierungscode", "tigungscode", "verificatiecode", "bevestigingscode", "activeringscode",
     "rification", "servation", "prenotazione", "verifica", "conferma", "attivazione",
     "kennzeichen", "immatricul", "plaque", "kenteken", "targa", "krankentransport", "ktw", "rtw"}
)  # fmt: skip
_MIN_DIGITS = {
    C.SSN: 9,
    C.MEMBER_ID: 6,
    C.MRN: 5,
    C.ACCOUNT_NUMBER: 6,
    C.LICENSE_NUMBER: 2,
    C.CUSTOM: 1,
    C.VEHICLE_ID: 1,
}
_IBAN_START = re.compile(r"[A-Z]{2}\d\d")
_CONTEXT_NAMES = tuple(name for name in _CONTEXT.groupindex if name != "value")

# ---------------------------------------------------------------- ids by their check
_CF = re.compile(
    r"(?<![A-Za-z0-9])[A-Z]{6}[0-9LMNP-V]{2}[A-EHLMPR-T][0-9LMNP-V]{2}[A-Z][0-9LMNP-V]{3}[A-Z]"
    r"(?![A-Za-z0-9])"
)
_CF_HINT = re.compile(r"[A-Z]{6}[0-9LMNP-V]{2}[A-EHLMPR-T]")
_NIR_HINT = re.compile(r"\d(?: ?\d){14}")
_NIR = re.compile(
    r"(?<![\w-])[1-478] ?\d\d ?(?:0[1-9]|1[0-2]|[2-9]\d) ?(?:\d\d|2[ABab]) ?\d{3} ?\d{3} ?\d\d"
    r"(?![\w]|-\d)"
)
_RVNR = re.compile(r"(?<![\w-])\d{2} ?[0-3]\d[01]\d\d\d ?[A-Z] ?\d{3}(?![\w-])")
_BSN_GROUPED = re.compile(r"(?<![\w.-])\d{4}\.\d\d\.\d{3}(?![\w]|[.-]\d)")
_KVNR = re.compile(r"(?<![\w-])[A-Z] ?\d{9}(?![\w-])")
_KVNR_WORDS = frozenset(
    {"versichertennummer", "krankenversichertennummer", "versicherten", "kvnr", "versichert",
     "krankenkasse", "gesundheitskarte", "egk", "ehic", "kasse"}
)  # fmt: skip

# ---------------------------------------------------------------- dates and ages
_MONTHS = (
    r"(?:januar|j[äa]nner|februar|m[äa]rz|april|mai|juni|juli|august|september|oktober|november"
    r"|dezember|janvier|f[ée]vrier|mars|avril|juin|juillet|ao[ûu]t|septembre|octobre|novembre"
    r"|d[ée]cembre|januari|februari|maart|mei|augustus|december|gennaio|febbraio|marzo|aprile"
    r"|maggio|giugno|luglio|agosto|settembre|ottobre|dicembre"
    r"|jan|feb|f[ée]vr?|m[äa]r|mrt|apr|avr|jun|jul|juil|aug|sep|sept|okt|oct|ott|nov|dez|d[ée]c"
    r"|dic|gen|mag|giu|lug|set)"
)
_DATE = re.compile(
    r"(?<![\w./-])(?:"
    rf"(?:1er|\d{{1,2}})\.?\s+{_MONTHS}\.?(?:\s+\d{{4}})?(?![\w])"
    r"|\d{1,2}([./-])\d{1,2}\1(?:\d{4}|\d{2})(?![\w]|[./-]\d)"
    r"|\d{1,2}\.\d{1,2}\.(?!\d)"
    r"|\d{4}-\d\d-\d\d(?![\w:]|-\d)"
    r")",
    re.IGNORECASE,
)
_DATE_CONTEXT = re.compile(
    r"(?<![\w])(?:(?P<birth>geburtsdatum|geburtstag|geb\.|geboren|n[ée]e?\s+le|naissance"
    r"|geboortedatum|geboren\s+op|nascita|nat[oa]\s+il|nat[oa])"
    r"|(?P<other>(?:video)?sprechstunde|termin|entlassung|entlassen|aufnahme|aufgenommen"
    r"|operation|impfung|geimpft|periode|regel|rendez-vous|rdv|consultation|hospitalis[ée]e?"
    r"|hospitalisation|sortie|vaccin\w*|r[èe]gles|afspraak|opname|opgenomen|ontslag|ontslagen"
    r"|operatie|vaccinatie|menstruatie|appuntamento|vaccinazione|ricovero|ricoverat[oa]"
    r"|dimission[ei]|dimess[oa]|intervento|mestruazioni|ciclo))(?![\w])",
    re.IGNORECASE,
)
_DATE_WORDS = frozenset(
    {"geburtsdatum", "geburtstag", "geb", "geboren", "le", "naissance", "geboortedatum", "op",
     "nascita", "nato", "nata", "il", "videosprechstunde", "sprechstunde", "termin",
     "entlassung", "entlassen", "aufnahme", "aufgenommen", "operation", "impfung", "geimpft",
     "periode", "regel", "rendez", "rdv", "consultation", "hospitalisation", "sortie",
     "vaccination", "vaccin", "gles", "afspraak", "opname", "opgenomen", "ontslag", "ontslagen",
     "operatie", "vaccinatie", "menstruatie", "appuntamento", "vaccinazione", "ricovero",
     "ricoverato", "ricoverata", "dimissione", "dimissioni", "dimesso", "dimessa", "intervento",
     "mestruazioni", "ciclo", "hospitalis"}
)  # fmt: skip
_DATE_WINDOW = 48
_AGE = re.compile(
    r"(?<![\w.,])(?P<a>\d{2,3})\s*+(?:jahre|jahren|j\.|ans|jaar|anni)(?![\w])"
    r"|(?<![\w])(?:leeftijd|alter|âge|età)\s*+:?\s*+(?P<b>\d{2,3})(?![\w.,])"
    r"|(?<![\w])(?:jahrgang|n[ée]e?\s+en|nat[oa]\s+nel|geboren\s++(?:in\s++)?)\s*+(?P<year>1[89]\d\d)"
    r"(?![\w])",
    re.IGNORECASE,
)
_AGE_WORDS = frozenset(
    {"jahre", "jahren", "ans", "jaar", "anni", "leeftijd", "alter", "ge", "et", "jahrgang", "en",
     "nel", "geboren"}
)  # fmt: skip
_OLDEST = 130
_NINETY = 90

# ---------------------------------------------------------------- places
_TOWN = rf"{NAME_WORD}(?:[ \t-]+(?:(?:an|am|im|sur|di|de|aan|den)[ \t]+)?{NAME_WORD}){{0,2}}"
# A postcode and town after a street: ", 10969 Berlin", ", 3511 LX Utrecht", ", 40124 Bologna".
_TAIL = rf"(?:,?[ \t]*(?:[DFI]-|NL-)?(?:\d{{5}}|[1-9]\d{{3}}[ \t]?[A-Z]{{2}})[ \t]+{_TOWN})?"
_ADDRESS = re.compile(
    r"(?<![\w])(?:Via|Viale|Piazza|Piazzale|Corso|Largo|Vicolo|Strada|Lungomare|Borgo)[ \t]+"
    rf"(?:(?:dei|degli|delle|della|del|di|da|San|Santa|Sant')[ \t]*)?{NAME_WORD}"
    rf"(?:[ \t]+{NAME_WORD}){{0,2}},?[ \t]+\d{{1,4}}[a-zA-Z]?(?:/[A-Za-z0-9]{{1,3}})?(?![\w])"
    + _TAIL
    + rf"|(?<![\w-])[A-ZÄÖÜ][a-zäöüß]+(?:-[A-ZÄÖÜ][a-zäöüß]+)*"
    r"(?:stra(?:ß|ss)e|str\.|weg|platz|allee|gasse|ring|damm|straat|laan|gracht|plein|kade|dijk)"
    rf"[ \t]+\d{{1,4}}[a-z]?(?![\w]){_TAIL}"
    r"|(?<![\w.,/-])\d{1,5}(?:\s?(?:bis|ter)\b)?,?[ \t]+(?i:rue|avenue|boulevard|bd|chemin"
    r"|all[ée]e|impasse|quai|place)[ \t]+(?:(?i:de|du|des|la|le|les)[ \t]+|[ld]'\s?)*"
    rf"{NAME_WORD}(?:[ \t]+{NAME_WORD}){{0,3}}{_TAIL}"
)
# Street words of the forms `_ADDRESS` reads, for the caller's gate.
ADDRESS_WORDS = frozenset(
    {"via", "viale", "piazza", "piazzale", "corso", "largo", "vicolo", "strada", "lungomare",
     "borgo", "rue", "avenue", "boulevard", "bd", "chemin", "all", "allee", "impasse", "quai",
     "place"}
)  # fmt: skip
_POSTCODE = re.compile(
    r"(?<![\w])(?:plz|(?-i:CAP)|code\s+postal|postcode|postleitzahl|in\s+der\s+n[äa]he\s+von"
    r"|n[äa]he|vicino\s+a|pr[èe]s\s+de|in\s+de\s+buurt\s+van|bij)[\s:]+"
    r"(?P<code>\d{5}|[1-9]\d{3}[ \t]?(?-i:[A-Z]{2}))(?![\w])",
    re.IGNORECASE,
)
_POSTCODE_WORDS = frozenset(
    {"plz", "cap", "postal", "postcode", "postleitzahl", "vicino", "pr", "pres", "buurt", "bij",
     "naehe"}
)  # fmt: skip
# A pharmacy's or practice's own address is benign: "Farmacia Centrale, Piazza Maggiore 1".
_ORGANISATION = re.compile(
    r"(?i:farmacia|apotheke|pharmacie|apotheek|praxis|praktijk|klinik|clinique|ospedale"
    r"|ziekenhuis|cabinet|krankenhaus|h[ôo]pital|studio\s+medico|poliklinik)"
)
_DUTCH_POSTCODE = re.compile(r"(?<![\w])[1-9]\d{3}[ \t]?(?!SA|SD|SS)[A-Z]{2}[ \t]*\Z")
_OWN_PLACE_WORDS = frozenset({"wohne", "woon", "habite", "abito", "vivo"})
_OWN_PLACE = re.compile(
    r"(?<![\w])(?i:(?:ich\s+)?wohne(?:\s+jetzt|\s+seit\s+\w+)?\s+in|(?:ik\s+)?woon(?:\s+nu)?\s+in"
    r"|j'habite(?:\s+maintenant)?\s+[àa]|(?:io\s+)?abito(?:\s+ora)?\s+a|vivo\s+a)[ \t]+"
    rf"(?P<place>{_TOWN})"
)

# ---------------------------------------------------------------- names
_TITLED = re.compile(
    r"(?<![\w.])(?:Dr\.[ \t]*med\.(?:[ \t]*(?:dent|univ)\.)?|Prof\.(?:[ \t]*Dr\.)?(?:[ \t]*med\.)?"
    r"|(?:Frau|Herr)(?:[ \t]+(?:Prof\.[ \t]*)?Dr\.(?:[ \t]*med\.)?)?|Docteure?|[Dd]okter"
    r"|[Dd]ottoressa|[Dd]ottore?|[Dd]ott\.(?:ssa)?|[Ss]ig\.(?:ra|na)?|[Ss]ignora|[Ss]ignor|[Mm]evrouw"
    r"|[Mm]eneer|[Dd]hr\.|[Mm]evr\.|[Mm]w\.|Mme|Madame|Monsieur|i\.[ \t]?A\.|i\.[ \t]?V\."
    r"|[Aa]ssistente|[Aa]ssistentin|[Dd]elegat[oa][ \t]+a:?|Notfallkontakt:|[Cc]ontact\s+d'urgence:"
    r"|[Cc]ontatto\s+di\s+emergenza:|[Nn]oodcontact:)[ \t]+"
    rf"(?P<name>{_FULL_NAME})(?![\w'\u2019-])"
)
_GREETED = re.compile(
    r"(?<![\w])(?:Hallo|Liebe|Lieber|Bonjour|Bonsoir|Salut|Chère|Cher|Beste|Hoi|Dag|Gentile"
    r"|Gentilissim[oa]|Caro|Cara|Ciao|Buongiorno|Buonasera)[ \t]+"
    rf"(?P<name>{NAME_WORD}(?:[ \t]+{_PARTICLES}{NAME_WORD}){{0,2}})(?=[ \t]*[,!])"
)
EU_NAME_CUES = frozenset(
    {"dr", "prof", "frau", "herr", "docteur", "docteure", "dokter", "dottoressa", "dottore",
     "dottor", "dott", "ssa", "sig", "ra", "signora", "signor", "mevrouw", "meneer", "dhr",
     "mevr", "mw", "mme", "madame", "monsieur", "assistente", "assistentin", "delegato",
     "delegata", "notfallkontakt", "contact", "contatto", "noodcontact", "hallo", "liebe",
     "lieber", "bonjour", "bonsoir", "salut", "cher", "beste", "hoi", "dag", "gentile",
     "gentilissimo", "gentilissima", "caro", "cara", "ciao", "buongiorno", "buonasera"}
)  # fmt: skip
# Words after a title or greeting that address no one in particular, and placeholder names.
_NOT_NAMES = frozenset(
    {"team", "praxisteam", "patient", "patientin", "patienten", "kunde", "kundin", "kunden",
     "nutzer", "nutzerin", "eltern", "familie", "kollegen", "kolleginnen", "grüße", "gruesse",
     "grüsse", "mitglied", "allerseits", "zusammen", "madame", "monsieur", "docteur", "patiente",
     "client", "cliente", "utilisateur", "patiënt", "klant", "gebruiker", "paziente", "utente",
     "dottore", "dottoressa", "signora", "signore", "frau", "herr", "mevrouw", "meneer", "max",
     "mustermann", "musterfrau", "erika", "vorname", "nachname", "name", "nom", "prénom",
     "nome", "cognome", "naam", "med", "dr", "prof", "tutti", "allen", "iedereen", "tous"}
)  # fmt: skip


def find_european(
    text: str, lower: str, words: set[str], total: int, spans: list[Span], clock: Clock
) -> None:
    """Everything this module finds in text holding a digit; the caller checks `EU_TRIGGERS`."""
    find_european_ids(text, lower, words, total, spans)
    find_european_wording(text, lower, words, total, spans, clock)


# Words any finder of `find_european` needs when the text holds too few digits for an id.
EU_TRIGGERS = EU_WORDS | _KVNR_WORDS | _DATE_WORDS | _AGE_WORDS | _POSTCODE_WORDS | {"cf"}


def find_european_ids(
    text: str, lower: str, words: set[str], total: int, spans: list[Span]
) -> None:
    """National ids by their check, and labelled numbers in the four languages."""
    upper = text != lower
    if upper and len(text) >= 16 and _CF_HINT.search(text):
        spans.extend(
            (m.start(), m.end(), C.SSN, 2)
            for m in _CF.finditer(text)
            if is_codice_fiscale(m.group())
        )
    if total >= 15 and _NIR_HINT.search(text):
        spans.extend(
            (m.start(), m.end(), C.SSN, 2)
            for m in _NIR.finditer(text)
            if is_nir(m.group().replace(" ", ""))
        )
    if upper and total >= 11:
        spans.extend(
            (m.start(), m.end(), C.SSN, 2) for m in _RVNR.finditer(text) if is_rvnr(m.group())
        )
    if total >= 9 and "." in text:
        spans.extend(
            (m.start(), m.end(), C.SSN, 2)
            for m in _BSN_GROUPED.finditer(text)
            if is_bsn(digits_of(m.group()))
        )
    if upper and total >= 9 and not words.isdisjoint(_KVNR_WORDS):
        spans.extend(
            (m.start(), m.end(), C.MEMBER_ID, 2) for m in _KVNR.finditer(text) if is_kvnr(m.group())
        )
    if not words.isdisjoint(EU_WORDS):
        for m in _CONTEXT.finditer(text):
            span = _labelled(m)
            if span is not None:
                spans.append(span)


def _labelled(m: re.Match[str]) -> Span | None:
    """A number after its label, if it has the digits its kind needs."""
    category = next((C(name) for name in _CONTEXT_NAMES if m.group(name) is not None), None)
    if category is None:
        return None
    value = m.group("value").rstrip("-./ ")
    digits = digits_of(value)
    if len(digits) < _MIN_DIGITS[category] or len(value) < 4:
        return None
    if category is C.ACCOUNT_NUMBER and _IBAN_START.match(value):
        return None  # An IBAN after "Konto" is left to the IBAN check.
    if category is C.SSN and len(digits) == 11 and value.isdigit() and not is_steuer_id(value):
        return None
    if category is C.SSN and len(digits) == 9 and value.isdigit() and not is_bsn(value):
        return None
    start = m.start("value")
    return (start, start + len(value), category, 1)


def find_european_wording(
    text: str, lower: str, words: set[str], total: int, spans: list[Span], clock: Clock
) -> None:
    """Dates, ages, addresses, postcodes and towns tied to a person by European wording."""
    if total >= 3 and not words.isdisjoint(_DATE_WORDS):
        for m in _DATE.finditer(text):
            before = text[max(0, m.start() - _DATE_WINDOW) : m.start()]
            context = _last(_DATE_CONTEXT, before)
            if context is not None:
                category = C.DATE_OF_BIRTH if context.group("birth") else C.PERSONAL_DATE
                end = m.end() - 1 if m.group().endswith(".") else m.end()
                spans.append((m.start(), end, category, 6))
    if not words.isdisjoint(_AGE_WORDS):
        oldest = clock.now().year - _NINETY
        for m in _AGE.finditer(text):
            if m.group("year") is not None:
                if int(m.group("year")) <= oldest:
                    spans.append((m.start("year"), m.end("year"), C.AGE_OVER_89, 6))
                continue
            group = "a" if m.group("a") is not None else "b"
            if _NINETY <= int(m.group(group)) <= _OLDEST:
                spans.append((m.start(group), m.end(group), C.AGE_OVER_89, 6))
    if not words.isdisjoint(_POSTCODE_WORDS) or "nähe" in lower:
        spans.extend(
            (m.start("code"), m.end("code"), C.ZIP_CODE, 7) for m in _POSTCODE.finditer(text)
        )


def _last(pattern: re.Pattern[str], text: str) -> re.Match[str] | None:
    """The last match of ``pattern`` in ``text``: the wording nearest the date decides."""
    found = None
    for found in pattern.finditer(text):  # noqa: B007
        pass
    return found


def find_european_address(text: str, spans: list[Span]) -> None:
    """A street with its number and an optional postcode and town, unless an organisation's.

    The caller runs it only on text holding a street word or a glued street ending.
    """
    spans.extend(
        (m.start(), m.end(), C.STREET_ADDRESS, 7)
        for m in _ADDRESS.finditer(text)
        if not _ORGANISATION.search(text, max(0, m.start() - _DATE_WINDOW), m.start())
    )


def find_own_place(text: str, words: set[str], spans: list[Span]) -> None:
    """The writer's own town or neighbourhood: "Ich wohne jetzt in Prenzlauer Berg"."""
    if not words.isdisjoint(_OWN_PLACE_WORDS):
        spans.extend(
            (m.start("place"), m.end("place"), C.LOCATION, 8) for m in _OWN_PLACE.finditer(text)
        )


def find_european_names(text: str, spans: list[Span]) -> None:
    """Names after a title ("Frau Dr.", "dottoressa", "mevrouw") or a greeting ("Hallo")."""
    for pattern in (_TITLED, _GREETED):
        for m in pattern.finditer(text):
            name = m.group("name")
            if _NOT_NAMES.isdisjoint(name.lower().replace("-", " ").split()):
                spans.append((m.start("name"), m.end("name"), C.NAME, 9))


def dutch_postcode_end(text: str) -> Span | None:
    """A Dutch postcode ending a search query: "huisarts 3511LX"."""
    m = _DUTCH_POSTCODE.search(text)
    if m is None:
        return None
    end = m.start() + len(m.group().rstrip())
    return (m.start(), end, C.ZIP_CODE, 7)
