"""The one normaliser every value, key and event name passes before any detector.

`fold` applies Unicode NFKC (full-width and mathematical letters become plain ones), removes
invisible and formatting characters (zero-width spaces and joiners, soft hyphens, bidirectional
controls: Unicode category ``Cf``) and combining marks left on ASCII characters, turns other
control characters into spaces, folds look-alike letters from other scripts (Cyrillic and Greek
letters shaped like Latin ones) and digits from other scripts to their ASCII forms, and unifies
dashes. ASCII text without control characters is
returned as it is, at the cost of one check.
"""

from __future__ import annotations

import unicodedata

__all__ = ["fold"]

# Letters that look like Latin ones (the common Cyrillic and Greek confusables), and dashes.
_CONFUSABLES = str.maketrans(
    {
        "\u0430": "a",
        "\u0435": "e",
        "\u043e": "o",
        "\u0440": "p",
        "\u0441": "c",
        "\u0443": "y",
        "\u0445": "x",
        "\u0456": "i",
        "\u0458": "j",
        "\u0455": "s",
        "\u0501": "d",
        "\u051b": "q",
        "\u051d": "w",
        "\u0432": "b",
        "\u043a": "k",
        "\u043c": "m",
        "\u043d": "h",
        "\u0442": "t",
        "\u0410": "A",
        "\u0415": "E",
        "\u041e": "O",
        "\u0420": "P",
        "\u0421": "C",
        "\u0423": "Y",
        "\u0425": "X",
        "\u0406": "I",
        "\u0408": "J",
        "\u0405": "S",
        "\u0412": "B",
        "\u041a": "K",
        "\u041c": "M",
        "\u041d": "H",
        "\u0422": "T",
        "\u0391": "A",
        "\u0392": "B",
        "\u0395": "E",
        "\u0396": "Z",
        "\u0397": "H",
        "\u0399": "I",
        "\u039a": "K",
        "\u039c": "M",
        "\u039d": "N",
        "\u039f": "O",
        "\u03a1": "P",
        "\u03a4": "T",
        "\u03a5": "Y",
        "\u03a7": "X",
        "\u03b1": "a",
        "\u03bf": "o",
        "\u03b9": "i",
        "\u03c1": "p",
        "\u03bd": "v",
        "\u03c5": "u",
        "\u03ba": "k",
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2015": "-",
        "\u2212": "-",
        "\ufe58": "-",
        "\ufe63": "-",
        "\uff0d": "-",
    }
)
_KEEP_CONTROLS = frozenset("\t\n")


def _fold_char(char: str) -> str:
    category = unicodedata.category(char)
    if category == "Cf":
        return ""
    if category == "Cc":
        return char if char in _KEEP_CONTROLS else " "
    if category == "Nd" and not char.isascii():
        return str(unicodedata.digit(char))
    if category == "Zs" or category in ("Zl", "Zp"):
        return " "
    return char


def fold(text: str) -> str:
    r"""Return ``text`` normalised for detection (and for sending: the output is folded too).

    Args:
        text: Any string.

    Returns:
        The folded string; the same object when nothing needed folding.

    Examples:
        >>> fold("123\u200b-45-6789")
        '123-45-6789'
        >>> fold("\uff4a\uff41\uff4e\uff45\uff20example.com")  # full-width letters
        'jane@example.com'
        >>> fold("p\u0430ypal")  # a Cyrillic a
        'paypal'
    """
    if text.isascii() and (text.isprintable() or not _has_controls(text)):
        return text
    text = unicodedata.normalize("NFKC", text).translate(_CONFUSABLES)
    out: list[str] = []
    for char in text:
        if char.isascii() and (char.isprintable() or char in _KEEP_CONTROLS):
            out.append(char)
        elif unicodedata.category(char) == "Mn":
            if not (out and out[-1].isascii()):  # marks of other scripts are part of the word
                out.append(char)
        else:
            out.append(_fold_char(char))
    return "".join(out)


def _has_controls(text: str) -> bool:
    return any(not char.isprintable() and char not in _KEEP_CONTROLS for char in text)
