"""Property keys: what a key says about its value.

Keys are split into lower-case tokens (``patientFirstName`` -> ``patient first name``). A key
whose tokens name personal data (``words/sensitive_keys.tsv``; ``name`` with a person qualifier
from ``words/person_name_qualifiers.txt``; ``patient_id``, ``member_number``) holds that data
whole: its value is replaced. A few keys change how a value is read:

* a key that ends in a person role (``caregiver``, ``emergency_contact``) holds a name;
* ``*_year`` (``birth_year``): a bare year passes, unless it makes the person older than 89;
* ``zip3`` / ``zip_prefix``: a three-digit ZIP prefix passes;
* ``age``: a number of 90 or more is replaced (``age_over_89``);
* ``<business object>_id`` (``order_id``, ``session_id``; ``words/business_objects.txt``): one
  token of letters, digits and ``-_.:`` passes whole (it names an object, not a person);
* ``*_at``, ``ts``, ``time``...: a date or timestamp passes (it is when the event happened);
* ``*_version``, ``build``: a version number (``v2.7.15``, ``22.3.1 (41102)``) passes;
* ``*_ms``, ``*_bytes``, ``count``...: a number passes whole (``words/quantity_keys.txt``);
* ``q``, ``search_query``: what a person typed is read as strictly as declared free text;
* an object word (``insurance``, ``account``, ``card``) names personal data only as the key's
  last word or before an id or date word: ``insurance_id`` does, ``insurance_carrier`` does not.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from unified_health.analytics._scrub._words import (
    AGE_KEYS,
    BUSINESS_OBJECTS,
    PERSON_NAME_QUALIFIERS,
    PERSON_ROLES,
    QUANTITY_KEYS,
    SEARCH_KEYS,
    SENSITIVE_KEYS,
)

__all__ = ["KeyClass", "classify", "key_category", "key_tokens", "PLAIN"]

_TOKEN = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
_ID_WORDS = frozenset({"id", "ids", "number", "num", "no", "nr", "ref", "key", "code", "uuid"})
_PERSON_ID = {
    "patient": "mrn",
    "medical": "mrn",
    "record": "mrn",
    "member": "member_id",
    "user": "member_id",
    "customer": "account_number",
    "social": "ssn",
    "security": "ssn",
    "driver": "license_number",
    "tax": "ssn",
    "national": "ssn",
}
_TIME_WORDS = frozenset(
    {"at", "ts", "time", "timestamp", "date", "datetime", "created", "updated", "sent",
     "received", "modified", "expires", "epoch"}
)  # fmt: skip
_NAME = "name"
_DATE_WORDS = frozenset({"date", "day", "dt", "time", "at", "on"})
# Key words (besides the person roles) whose value is a person.
_PERSON_KEYS = frozenset({"kin", "physician", "doctor", "attending", "caller",
                          "signer", "signatory", "assignee"})  # fmt: skip
# Words that name an object with a number, not the number: only as the key's last word or
# before an id word ("insurance_id", "account"), never in "insurance_carrier", "card_type".
_OBJECT_WORDS = frozenset({"insurance", "policy", "subscriber", "medicare", "medicaid",
                           "beneficiary", "account", "acct", "card", "license", "licence",
                           "passport", "plate", "serial", "chart", "visit", "appointment",
                           "appt", "encounter", "surgery", "admission", "discharge"})  # fmt: skip
_VERSION_WORDS = frozenset({"version", "ver", "build", "release", "vsn"})
_DATE_OF_PERSON = frozenset({"date_of_birth", "personal_date"})


@dataclass(frozen=True, slots=True, eq=False)
class KeyClass:
    """How the value under a key is read (compared by identity: it keys the walker's cache).

    Attributes:
        category: The category the whole value is replaced under, or ``None``.
        year: The key holds a year (``birth_year``): a bare year passes.
        birth: The key is about a birth (a year before the person turned 90 is replaced).
        zip3: The key holds a three-digit ZIP prefix.
        age: The key holds an age.
        business_id: The key holds the id of a business object.
        event_time: The key holds when the event happened.
        version: The key holds a version number.
        search: The key holds what a person typed to search (read as strictly as free text).
        quantity: The key holds a quantity (``duration_ms``): a number passes whole.
    """

    category: str | None = None
    year: bool = False
    birth: bool = False
    zip3: bool = False
    age: bool = False
    business_id: bool = False
    event_time: bool = False
    version: bool = False
    search: bool = False
    quantity: bool = False

    @property
    def date_of_person(self) -> bool:
        """Whether the whole value is a date of a person (birth, admission, death)."""
        return self.category in _DATE_OF_PERSON


PLAIN = KeyClass()


def key_tokens(key: str) -> list[str]:
    """The lower-case words of a key.

    Examples:
        >>> key_tokens("patientFirstName"), key_tokens("x-forwarded-for"), key_tokens("zip3")
        (['patient', 'first', 'name'], ['x', 'forwarded', 'for'], ['zip', '3'])
    """
    return [token.lower() for token in _TOKEN.findall(key)]


def _person_category(tokens: list[str]) -> str | None:
    last = len(tokens) - 1
    for index, token in enumerate(tokens):
        category = SENSITIVE_KEYS.get(token)
        if category is not None and (
            token not in _OBJECT_WORDS
            or index == last
            or tokens[index + 1] in _ID_WORDS | _DATE_WORDS
        ):
            return category
        if token == _NAME and (
            len(tokens) == 1 or any(t in PERSON_NAME_QUALIFIERS for t in tokens[:index])
        ):
            return "name"
        if token in _PERSON_ID and index + 1 < len(tokens) and tokens[index + 1] in _ID_WORDS:
            return _PERSON_ID[token]
    joined = "".join(tokens)
    return SENSITIVE_KEYS.get(joined)


@functools.lru_cache(maxsize=4096)
def classify(key: str) -> KeyClass:
    """How the value under ``key`` is read.

    Examples:
        >>> classify("patient_email").category, classify("plan_name").category
        ('email', None)
        >>> classify("birth_year").year, classify("order_id").business_id
        (True, True)
    """
    tokens = key_tokens(key)
    if not tokens:
        return PLAIN
    if tokens[-1] == "year" or tokens[-1] == "yr":
        return KeyClass(year=True, birth=any(t in ("birth", "born", "dob") for t in tokens))
    if tokens[0] == "zip" and (tokens[1:2] == ["3"] or "prefix" in tokens):
        return KeyClass(zip3=True)
    if tokens[-1] in AGE_KEYS or ("age" in tokens and tokens[-1] == "years"):
        return KeyClass(age=True)
    category = _person_category(tokens)
    if category is None and tokens[-1] in PERSON_ROLES | _PERSON_KEYS:
        category = "name"  # "caregiver", "emergency_contact": the value is a person
    if category is not None:
        return KeyClass(category=category)
    if tokens[-1] in _ID_WORDS and len(tokens) > 1 and tokens[-2] in BUSINESS_OBJECTS:
        return KeyClass(business_id=True)
    if tokens[-1] in _VERSION_WORDS:
        return KeyClass(version=True)
    if tokens[-1] in SEARCH_KEYS:
        return KeyClass(search=True)
    if tokens[-1] in QUANTITY_KEYS:
        return KeyClass(quantity=True)
    if tokens[-1] in _TIME_WORDS or tokens[0] in _TIME_WORDS:
        return KeyClass(event_time=True)
    return PLAIN


def key_category(key: str) -> str | None:
    """The category a key's whole value is replaced under, or ``None``.

    Examples:
        >>> key_category("patientName"), key_category("screen_name")
        ('name', None)
    """
    return classify(key).category
