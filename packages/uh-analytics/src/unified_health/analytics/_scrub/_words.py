"""The word lists the detectors use, kept as data files in ``words/`` (one entry a line).

Every list is general vocabulary (given names, honorifics, street suffixes, top-level domains),
sorted, unique and lower case; ``tests/test_word_lists.py`` checks that. Lists are read once, at
import time, into frozensets.
"""

from __future__ import annotations

from importlib import resources

__all__ = [
    "AGE_KEYS",
    "AGE_UNITS",
    "AGE_WORDS",
    "BUSINESS_OBJECTS",
    "EMAIL_TLDS",
    "FILE_EXTENSIONS",
    "GIVEN_NAMES",
    "GREETINGS",
    "HONORIFICS",
    "MONTHS",
    "PERSON_NAME_QUALIFIERS",
    "PERSON_ROLES",
    "QUANTITY_KEYS",
    "RESTRICTED_ZIP3",
    "SEARCH_KEYS",
    "SENSITIVE_KEYS",
    "STOP_WORDS",
    "STREET_COMPOUNDS",
    "STREET_PREFIXES",
    "STREET_SUFFIXES",
    "read_lines",
]


def read_lines(name: str) -> list[str]:
    """The lines of the word list ``name`` (a file in ``words/``), in file order.

    Examples:
        >>> read_lines("honorifics.txt")[:3]
        ['dame', 'dr', 'fr']
    """
    text = resources.files(__package__).joinpath("words", name).read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line]


def _words(name: str) -> frozenset[str]:
    return frozenset(read_lines(name))


#: "age" in the family's languages: a key of these words holds an age.
AGE_KEYS = _words("age_keys.txt")
#: Units after an age: "91 Jahre", "94 años".
AGE_UNITS = _words("age_units.txt")
#: Number words of 90 and more (and their compound stems): "ninety-three", "novantadue".
AGE_WORDS = _words("age_words.txt")
BUSINESS_OBJECTS = _words("business_objects.txt")
EMAIL_TLDS = _words("email_tlds.txt")
#: File name extensions: ``logo@2x.png`` is a file, not an address.
FILE_EXTENSIONS = _words("file_extensions.txt")
GIVEN_NAMES = _words("given_names.txt")
#: Greetings, after which a capitalised word is a name: "Hi Ana", "Olá, Conceição".
GREETINGS = _words("greetings.txt")
HONORIFICS = _words("honorifics.txt")
#: Month names and their usual abbreviations in the languages of the family's users.
MONTHS = _words("months.txt")
PERSON_NAME_QUALIFIERS = _words("person_name_qualifiers.txt")
PERSON_ROLES = _words("person_roles.txt")
#: Key words whose value is a quantity (``duration_ms``, ``file_size_bytes``).
QUANTITY_KEYS = _words("quantity_keys.txt")
#: The three-digit ZIP prefixes Safe Harbor requires to be 000 (fewer than 20,000 people).
RESTRICTED_ZIP3 = _words("restricted_zip3.txt")
#: Key words whose value a person typed to search (read as strictly as free text).
SEARCH_KEYS = _words("search_keys.txt")
STOP_WORDS = _words("stop_words.txt")
#: Street words that end a compound street name: "Hauptstraße", "Prinsengracht".
STREET_COMPOUNDS = _words("street_compounds.txt")
#: Street words before the name: "rue", "via", "ul.".
STREET_PREFIXES = _words("street_prefixes.txt")
STREET_SUFFIXES = _words("street_suffixes.txt")
#: Key word -> the category a value under such a key holds whole.
SENSITIVE_KEYS: dict[str, str] = dict(
    line.split("\t", 1) for line in read_lines("sensitive_keys.tsv")
)
