"""Text analysis shared by indexing and querying: folding, tokens, light stemming, stop words.

Both sides of the index go through the same functions, so a word indexed as ``refills`` and a
query for ``Refill`` meet on the same term ``refill``.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

__all__ = ["STOP_WORDS", "analyze", "fold", "plain_text", "stem", "words"]

_WORD = re.compile(r"[a-z0-9]+")
_APOSTROPHES = re.compile("[\u2019'`]")
_MARKDOWN_NOISE = re.compile(r"\]\([^)]*\)|[#>*_`|~\[\]]+|^-{3,}$|!\[", re.MULTILINE)

_ENGLISH_STOP_WORDS = """
a about after all also am an and any are as at be been before being but by can could did do does
doing for from get got had has have having he her here him his how i if in into is it its just me
more most my no nor of on once only or other our out over own same she should so some such than
that the their them then there these they this those through to too under until up very was we
were what when where which while who whom why will with would you your yours please want need
"""
_SPANISH_STOP_WORDS = """
a al algo como con cual cuando de del desde donde el ella en entre es esta este esto estos ha hay
la las le les lo los me mi mis muy no nos o para pero por puedo que quiero se si sin sobre su sus
te tengo tu un una uno unos y ya yo
"""

STOP_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset(_ENGLISH_STOP_WORDS.split()),
    "es": frozenset(_SPANISH_STOP_WORDS.split()),
}


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Lower-case and strip accents (``"Recetas Médicas"`` becomes ``"recetas medicas"``).

    Args:
        text: Any text.

    Returns:
        The folded text.

    Examples:
        >>> fold("Contraseña Médica")
        'contrasena medica'
    """
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def words(text: str) -> list[str]:
    """Split folded text into words; apostrophes join (``"can't"`` becomes ``"cant"``).

    Examples:
        >>> words("Can't log-in?")
        ['cant', 'log', 'in']
    """
    return _WORD.findall(_APOSTROPHES.sub("", fold(text)))


def _undouble(word: str) -> str:
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "lsz":
        return word[:-1]
    return word


@lru_cache(maxsize=131072)
def stem(word: str, locale: str = "en") -> str:
    """Reduce a folded word to a light stem: plurals, ``-ing``/``-ed`` and a final ``e`` go.

    Args:
        word: A folded word (from `words`).
        locale: ``"es"`` uses Spanish plural and vowel endings; anything else English rules.

    Returns:
        The stem.

    Examples:
        >>> [stem(w) for w in ("refills", "refilling", "updated", "update", "pharmacies")]
        ['refill', 'refill', 'updat', 'updat', 'pharmacy']
        >>> stem("recetas", "es")
        'recet'
    """
    if word.isdigit() or len(word) <= 3:
        return word
    if locale.startswith("es"):
        if len(word) > 5 and word.endswith("es"):
            word = word[:-2]
        elif len(word) > 4 and word.endswith("s"):
            word = word[:-1]
        if len(word) > 4 and word[-1] in "aeo":
            word = word[:-1]
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("sses") or (word.endswith(("ches", "shes", "xes", "zes")) and len(word) > 5):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 3:
        word = word[:-1]
    if word.endswith("ing") and len(word) > 5:
        word = _undouble(word[:-3])
    elif word.endswith("ed") and len(word) > 4:
        word = _undouble(word[:-2])
    if word.endswith("e") and len(word) > 4:
        word = word[:-1]
    return word


def analyze(text: str, locale: str = "en", *, keep_stop_words: bool = True) -> list[str]:
    """Fold, split and stem ``text`` into index terms.

    Args:
        text: Any text.
        locale: The language rules to use.
        keep_stop_words: ``False`` drops the locale's stop words.

    Returns:
        The terms, in order.

    Examples:
        >>> analyze("How do I renew my prescriptions?", keep_stop_words=False)
        ['renew', 'prescription']
    """
    stops = STOP_WORDS.get(locale[:2], frozenset()) if not keep_stop_words else frozenset()
    return [stem(w, locale) for w in words(text) if w not in stops]


def plain_text(markdown_body: str) -> str:
    r"""Strip Markdown punctuation and link targets, leaving the words a reader sees.

    Examples:
        >>> plain_text("## Steps\n\nOpen **Billing** and [pay](article:paying-a-bill).")
        ' Steps\n\nOpen Billing and pay.'
    """
    return _MARKDOWN_NOISE.sub("", markdown_body.replace("](", "]("))
