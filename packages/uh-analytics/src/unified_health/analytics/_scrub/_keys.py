"""Key-aware rules: which property names hold an identifier as their whole value.

A key is normalised before it is looked up: camelCase and PascalCase are split, case is folded,
every run of other characters (``-``, ``.``, spaces, ``_``) becomes one separator and digit runs
that number a word are dropped, so ``patientName``, ``PATIENT-NAME``, ``patient.name`` and
``patient_name_2`` are the same key. Digits that are part of a short word stay in it (``ga4``,
``s3``, ``md5``): ``ga4_id`` is a Google Analytics 4 id, not ``gaid`` (an advertising id); they
are dropped again after a word that is a key on its own or an id word (``cvv2``, ``ipv6``,
``id2``). The lookup then tries the longest tail of the key first (``contact_email_address``
-> ``contactemailaddress``, ``emailaddress``, ``address``), so the head noun decides:
``email_verified`` and ``phone_type`` are not sensitive, ``home_phone`` and ``ip_address`` are.

The word before the tail can take the sensitivity away again: a place named after an organisation
(``clinic_city``, ``pharmacy_county``) is not where a person lives, and an address qualified by a
computing word (``crash_address``, ``memory_address``, ``bind_address``) is not a street address
(``bluetooth_address`` and ``hardware_address`` are device identifiers).

Names are special: ``name`` alone and ``<person>_name`` (``patient_name``, ``first_name``,
``guardian_name``...) are name keys, while ``event_name``, ``specialty_name`` or ``screen_name``
are not.
"""

from __future__ import annotations

import re

from unified_health.analytics._scrub._categories import RedactionCategory as C

__all__ = [
    "AGE_KEYS",
    "classify_key",
    "is_age_key",
    "is_filter_key",
    "is_search_key",
    "normalise_key",
    "read_key",
]

_ACRONYM = re.compile(r"([A-Z]+)([A-Z][a-z])")
_CAMEL = re.compile(r"([a-z])([A-Z])")
_WORD_PARTS = re.compile(r"[a-z]+|\d+")
_SEPARATORS = re.compile(r"[^a-z0-9]+")

AGE_KEYS = frozenset({"age", "ageyears", "patientage", "ageinyears", "currentage"})
# Keys that hold a list of search or directory criteria: a city there is a criterion.
_FILTER_WORDS = frozenset({"filter", "filters", "facet", "facets", "criteria", "refinements"})

_TABLE: dict[str, C] = {}
# Keys whose value is what a user typed into a search box: a ZIP code can end it.
_SEARCH_WORDS = frozenset(
    {"search", "searches", "query", "keyword", "keywords", "q", "zoekopdracht", "suche",
     "recherche", "ricerca"}
)  # fmt: skip


def _add(category: C, *names: str) -> None:
    for name in names:
        _TABLE[name] = category


_add(C.EMAIL, "email", "emailaddress", "emailaddr", "mail", "mailaddress", "emailid")
_add(
    C.PHONE,
    "phone", "phonenumber", "phoneno", "phonenum", "telephone", "telephonenumber", "tel", "telno",
    "mobile", "mobilenumber", "mobileno", "cell", "cellnumber", "cellphone", "fax", "faxnumber",
    "faxno", "msisdn", "contactnumber", "pager", "callback", "callbacknumber",
)  # fmt: skip
_add(
    C.SSN,
    "ssn", "socialsecurity", "socialsecuritynumber", "socialsecurityno", "ssnlast", "taxid",
    "tin", "itin", "nationalid", "nationalidnumber", "sin", "sinnumber", "socialinsurance",
    "socialinsurancenumber",
)  # fmt: skip
_add(
    C.MRN,
    "mrn", "medicalrecord", "medicalrecordnumber", "medicalrecordno", "medicalrecordid",
    "chartnumber", "chartno", "patientid", "patientnumber", "patientno", "healthrecordnumber",
    "rxnumber", "rxno", "rxnum", "prescriptionnumber", "prescriptionno", "accession",
    "accessionnumber", "accessionno", "accessionid", "specimenid", "specimennumber", "wristband",
    "wristbandbarcode", "wristbandid", "armband", "armbandnumber",
    "encounterid", "encounternumber", "labordernumber", "requisitionnumber",
    "subjectid", "subjectnumber", "subjectno", "screeningnumber", "screeningid", "kitbarcode",
    "biobankid", "iisid", "iisclientid", "registryclientid", "casenumber",
)  # fmt: skip
_add(
    C.MEMBER_ID,
    "memberid", "membernumber", "memberno", "mbi", "medicareid", "medicarenumber", "medicaidid",
    "medicaidnumber", "subscriberid", "subscribernumber", "policynumber", "policyno", "policyid",
    "insuranceid", "insurancenumber", "healthplanid", "healthplannumber", "beneficiaryid",
    "beneficiarynumber", "nhs", "nhsnumber", "nhsno", "nhsid", "healthcardnumber", "healthcardno",
)  # fmt: skip
_add(
    C.ACCOUNT_NUMBER,
    "accountnumber", "accountno", "accountnum", "acct", "acctno", "acctnum", "acctnumber",
    "bankaccount", "bankaccountnumber", "patientaccount", "billingaccount", "guarantoraccount",
    "hsaaccount",
)  # fmt: skip
_add(
    C.CREDIT_CARD,
    "cardnumber", "cardno", "creditcard", "creditcardnumber", "ccnumber", "ccnum", "pan",
    "debitcard", "debitcardnumber", "cvv", "cvc", "cardcvv",
)  # fmt: skip
_add(C.IBAN, "iban", "ibannumber")
# German, French, Dutch and Italian keys, compacted as `normalise_key` leaves them.
_add(
    C.SSN,
    "steuerid", "steueridentifikationsnummer", "rentenversicherungsnummer", "rvnummer",
    "sozialversicherungsnummer", "nir", "securitesociale", "numerosecuritesociale", "bsn",
    "burgerservicenummer", "codicefiscale", "cf",
)  # fmt: skip
_add(
    C.MEMBER_ID,
    "kvnr", "versichertennummer", "krankenversichertennummer", "polisnummer", "relatienummer",
    "tesserasanitaria", "ehic", "numeroadherent", "adherent",
)  # fmt: skip
_add(
    C.MRN,
    "fallnummer", "patientenid", "patientennummer", "ipp", "numerodossier", "patientnummer",
    "cartellaclinica",
)  # fmt: skip
_add(C.ACCOUNT_NUMBER, "kontonummer", "contocorrente", "rekeningnummer")
_add(C.LICENSE_NUMBER, "ausweisnummer", "reisepass", "passeport", "rijbewijs", "patente")
_add(
    C.DATE_OF_BIRTH,
    "geburtsdatum", "datenaissance", "datedenaissance", "geboortedatum", "datanascita",
    "datadinascita",
)  # fmt: skip
_add(
    C.STREET_ADDRESS,
    "adresse", "anschrift", "strasse", "adres", "straat", "indirizzo", "indirizzoconsegna",
    "indirizzoresidenza",
)  # fmt: skip
_add(C.ZIP_CODE, "plz", "postleitzahl", "codepostal", "cap")
_add(
    C.LOCATION,
    "wohnort", "ort", "ville", "woonplaats", "plaats", "comune", "comuneresidenza",
    "comunediresidenza", "citta",
)  # fmt: skip
_add(
    C.NAME,
    "vorname", "nachname", "vornamenachname", "nomdenaissance", "nomdefamille", "prenom",
    "naam", "patientnaam", "achternaam", "voornaam", "nomecompleto", "cognome",
    "notfallkontakt",
)  # fmt: skip
_add(
    C.LICENSE_NUMBER,
    "license", "licence", "licensenumber", "licencenumber", "licenseno", "licenceno",
    "driverslicense", "driverlicense", "driverslicence", "driverlicence", "dlnumber",
    "certificatenumber", "certificateno", "passport", "passportnumber", "passportno", "dea",
    "deanumber", "deano", "stateid", "stateidnumber", "idcardnumber",
)  # fmt: skip
_add(
    C.DATE_OF_BIRTH,
    "dob", "dateofbirth", "birthdate", "birthday", "birthdt", "borndate", "bornon", "birthyear",
    "yearofbirth", "birth", "brthdtc", "brthdt",
)  # fmt: skip
_add(
    C.PERSONAL_DATE,
    "admissiondate", "admitdate", "admittedon", "dischargedate", "dischargedon", "dateofdeath",
    "deathdate", "dod", "dateofservice", "servicedate", "visitdate", "appointmentdate",
    "proceduredate", "surgerydate", "vaccinationdate", "immunizationdate", "immunisationdate",
    "diagnosisdate", "edd", "lmp", "lmpdate", "estimatedduedate", "lastmenstrualperiod",
)  # fmt: skip
_add(
    C.STREET_ADDRESS,
    "address", "streetaddress", "street", "streetname", "addressline", "mailingaddress",
    "residence", "housenumber", "houseno", "pobox",
)  # fmt: skip
_add(C.ZIP_CODE, "zip", "zipcode", "postalcode", "postcode", "postal")
_add(
    C.LOCATION,
    "city", "town", "county", "latitude", "longitude", "lat", "lng", "lon", "latlng", "latlon",
    "geolocation", "geo", "coordinates", "gps", "neighborhood", "neighbourhood", "precinct",
)  # fmt: skip
_add(
    C.IP_ADDRESS,
    "ip", "ipaddress", "ipaddr", "ipv", "clientip", "remoteip", "remoteaddr", "remoteaddress",
    "xforwardedfor", "forwardedfor", "ipvaddress", "ipvaddr", "peeraddress", "peeraddr",
    "clientaddress", "clientaddr", "sourceip", "srcip",
)  # fmt: skip
_add(
    C.DEVICE_ID,
    "deviceid", "imei", "meid", "mac", "macaddress", "macaddr", "udid", "idfa", "idfv", "iccid",
    "advertisingid", "adid", "androidid", "gaid", "serialnumber", "serialno", "deviceserial",
    "hardwareid", "devicetoken", "bluetoothaddress", "bluetoothaddr", "bdaddr", "hardwareaddress",
    "hardwareaddr", "bleaddress", "wifiaddress", "ethernetaddress", "fingerprint", "visitorid",
)  # fmt: skip
_add(
    C.VEHICLE_ID,
    "vin", "vinnumber", "vehicleid", "vehiclenumber", "licenseplate", "licenceplate",
    "platenumber", "numberplate", "plate", "vehicleplate", "plateno", "placa",
)  # fmt: skip
# Any other unique identifying code: booking confirmations, employee numbers, and the bearer
# tokens (access, invite, password-reset) that stand for a signed-in person.
_add(
    C.CUSTOM,
    "confirmationcode", "confirmationnumber", "confirmationno", "bookingreference", "bookingref",
    "bookingcode", "employeeid", "empid", "employeenumber", "employeeno", "accesstoken",
    "idtoken", "refreshtoken", "authtoken", "sessiontoken", "invitetoken", "resettoken",
    "bearertoken", "pin", "pincode", "pinnumber", "studentid", "studentnumber", "referralcode",
    "invitecode", "invitationcode",
)  # fmt: skip
_add(
    C.NAME,
    "firstname", "lastname", "middlename", "fullname", "givenname", "familyname", "maidenname",
    "surname", "forename", "nickname", "username", "loginname", "displayname", "legalname",
    "preferredname",
    "fname", "lname", "initials", "signature", "guardian", "caregiver", "carer", "nextofkin",
    "emergencycontact", "physician", "doctor", "clinician", "surgeon", "guarantor",
    "signedby", "countersignedby", "witnessedby", "referredby", "consentedby", "authorizedby",
    "authorisedby", "prescribedby", "signer", "signatory", "witness", "contactperson",
    "insuredperson", "responsibleparty", "responsibleperson", "authorizedrepresentative",
    "authorisedrepresentative", "personalrepresentative", "legalrepresentative",
)  # fmt: skip

_NAME_WORDS = frozenset({"name", "names"})
_PERSON_WORDS = frozenset(
    {
        "patient", "first", "last", "middle", "full", "given", "family", "maiden", "legal",
        "preferred", "display", "user", "member", "customer", "client", "contact", "guardian",
        "caregiver", "carer", "spouse", "partner", "parent", "mother", "father", "child",
        "relative", "emergency", "kin", "nick", "sur", "fore", "person", "subscriber",
        "beneficiary", "insured", "doctor", "physician", "nurse", "employer", "recipient",
        "sender", "owner", "holder", "cardholder", "account", "billing", "shipping", "sibling",
        "household", "provider", "clinician", "surgeon", "therapist", "guarantor", "dependent",
        "referring", "attending", "prescriber", "witness", "signer", "representative", "pt",
    }
)  # fmt: skip
# Words before "age" that make it a person's age: "care_recipient_age", "mother_age".
_AGE_PERSON_WORDS = _PERSON_WORDS | {"recipient", "resident", "baby", "pt", "user", "current"}
# Words that make the place after them an organisation's (``clinic_city``), not a person's.
_ORGANISATION_WORDS = frozenset(
    {
        "clinic", "facility", "practice", "hospital", "pharmacy", "office", "store", "branch",
        "site", "lab", "laboratory", "center", "centre", "campus", "company", "organization",
        "organisation", "org", "vendor", "warehouse", "server", "datacenter", "headquarters", "hq",
        "therapist", "provider", "doctor", "physician", "clinician", "counselor", "counsellor",
        "coach", "dentist", "practitioner", "prescriber", "specialist", "praxis", "praktijk",
        "apotheke", "pharmacie", "farmacia", "apotheek", "klinik", "clinique", "ziekenhuis",
        "ospedale", "cabinet", "studio",
    }
)  # fmt: skip
# Words that make the address after them a computing address, not a street address.
_NON_POSTAL_WORDS = frozenset(
    {
        "memory", "crash", "fault", "return", "base", "load", "bind", "listen", "server", "host",
        "proxy", "gateway", "broadcast", "multicast", "network", "net", "web", "url", "wallet",
        "contract", "pointer", "register", "instruction", "stack", "heap", "virtual", "physical",
        "hex", "bus", "offset", "start", "end", "entry", "symbol", "module",
    }
)  # fmt: skip
_ADDRESS_WORDS = frozenset({"address", "addr", "addresses"})
# Words before "mail" that make it a person's mailbox ("user_mail", "e_mail"), not a message.
_MAILBOX_WORDS = _PERSON_WORDS | {"e", "home", "work", "private", "personal", "business", "my"}
# Short words whose trailing digits number them rather than belong to them (``id2``, ``no3``).
_NUMBERED_WORDS = frozenset({"id", "no", "nr", "num", "nbr", "ref", "key"})
# A word this short that takes digits is an abbreviation the digits belong to (``ga4``, ``md5``).
_ABBREVIATION_LENGTH = 3


def normalise_key(key: str) -> tuple[str, ...]:
    """Split a property name into lower-case word tokens, dropping digit runs that number a word.

    Args:
        key: A property name in any casing or separator style.

    Returns:
        The word tokens, e.g. ``("patient", "name")`` for ``"patientName2"`` and ``("ga4", "id")``
        for ``"ga4_id"``.
    """
    text = _CAMEL.sub(r"\1_\2", _ACRONYM.sub(r"\1_\2", key)).lower()
    tokens: list[str] = []
    for part in _SEPARATORS.split(text):
        if part.isalpha():
            tokens.append(part)
            continue
        after_letters = False
        for m in _WORD_PARTS.finditer(part):
            run = m.group()
            if run[0] > "9":
                tokens.append(run)
                after_letters = True
                continue
            if after_letters and _takes_digits(tokens[-1]):
                tokens[-1] += run
            after_letters = False
    return tuple(tokens)


def _takes_digits(word: str) -> bool:
    return (
        len(word) <= _ABBREVIATION_LENGTH
        and word not in _TABLE
        and word not in _NUMBERED_WORDS
        and word not in _NAME_WORDS
    )


def _lookup(compact: str) -> C | None:
    found = _TABLE.get(compact)
    if found is None and len(compact) > 3 and compact.endswith("s"):
        found = _TABLE.get(compact[:-2] if compact.endswith("sses") else compact[:-1])
    return found


def classify_key(tokens: tuple[str, ...]) -> C | None:
    """The category whose whole value a key holds, or None for an ordinary key.

    Args:
        tokens: The key as returned by `normalise_key`.

    Returns:
        The category, or None.
    """
    if not tokens:
        return None
    if tokens[-1] in _NAME_WORDS and (
        len(tokens) == 1 or not _PERSON_WORDS.isdisjoint(tokens[:-1])
    ):
        return C.NAME
    for start in range(len(tokens)):
        found = _lookup("".join(tokens[start:]))
        if found is not None:
            if start and _qualified_away(found, tokens[start - 1], tokens[start]):
                return None
            return found
    return None


def is_age_key(tokens: tuple[str, ...]) -> bool:
    """Whether a key holds a person's age: ``age``, ``patientAge``, ``care_recipient_age``.

    An age word after a person word counts; ``max_age`` or ``cache_age`` (durations) do not.
    """
    if "".join(tokens) in AGE_KEYS:
        return True
    return (
        len(tokens) >= 2 and tokens[-1] == "age" and not _AGE_PERSON_WORDS.isdisjoint(tokens[:-1])
    )


def is_filter_key(tokens: tuple[str, ...]) -> bool:
    """Whether a key holds directory or search filters: ``directory_filters``, ``facets``."""
    return bool(tokens) and tokens[-1] in _FILTER_WORDS


def is_search_key(tokens: tuple[str, ...]) -> bool:
    """Whether a key holds a search query: ``search_query``, ``q``, ``searchText``, ``keywords``."""
    return bool(tokens) and (tokens[0] == "search" or tokens[-1] in _SEARCH_WORDS)


_READ_CACHE: dict[str, tuple[tuple[str, ...], C | None]] = {}
_READ_CACHE_LIMIT = 2_048
_READ_CACHED_LENGTH = 64


def read_key(key: str) -> tuple[tuple[str, ...], C | None]:
    """`normalise_key` and `classify_key` of ``key``, remembered for short keys seen before.

    Keys embedded in text (URL parameters, JSON members) repeat like property names do. The cache
    is bounded and only ever holds pure results, so sharing it between threads is safe.
    """
    found = _READ_CACHE.get(key)
    if found is None:
        tokens = normalise_key(key)
        found = (tokens, classify_key(tokens))
        if len(key) <= _READ_CACHED_LENGTH:
            if len(_READ_CACHE) >= _READ_CACHE_LIMIT:
                _READ_CACHE.clear()
            _READ_CACHE[key] = found
    return found


def _qualified_away(found: C, qualifier: str, head: str) -> bool:
    if found is C.LOCATION or found is C.ZIP_CODE:
        return qualifier in _ORGANISATION_WORDS
    if found is C.EMAIL and head == "mail":
        # A mail sent to someone ("security_mail", "welcome_mail"), not their address.
        return qualifier not in _MAILBOX_WORDS
    if found is C.STREET_ADDRESS:
        if qualifier in _ORGANISATION_WORDS:
            return True
        return head in _ADDRESS_WORDS and qualifier in _NON_POSTAL_WORDS
    return False
