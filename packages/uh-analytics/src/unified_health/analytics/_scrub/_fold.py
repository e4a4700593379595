"""The one normaliser every value, key and event name passes before any detector.

`fold` applies Unicode NFKC (full-width and mathematical letters become plain ones), removes
invisible and formatting characters (zero-width spaces and joiners, soft hyphens, bidirectional
controls: Unicode category ``Cf``) and stray combining marks, turns other control characters into
spaces, folds look-alike letters from other scripts (Cyrillic ``а``, Greek ``ο``) and digits from
other scripts to their ASCII forms, and unifies dashes. ASCII text without control characters is
returned as it is, at the cost of one check.
"""

from __future__ import annotations

import unicodedata

__all__ = ["fold"]

# Letters that look like Latin ones (the common Cyrillic and Greek confusables), and dashes.
_CONFUSABLES = str.maketrans(
    {
        "\u0430": "a",  # а
        "\u0435": "e",  # е
        "\u043e": "o",  # о
        "\u0440": "p",  # р
        "\u0441": "c",  # с
        "\u0443": "y",  # у
        "\u0445": "x",  # х
        "\u0456": "i",  # і
        "\u0458": "j",  # ј
        "\u0455": "s",  # ѕ
        "\u0501": "d",  # ԁ
        "\u051b": "q",  # ԛ
        "\u051d": "w",  # ԝ
        "\u0432": "b",  # в
        "\u043a": "k",  # к
        "\u043c": "m",  # м
        "\u043d": "h",  # н
        "\u0442": "t",  # т
        "\u0410": "A",  # А
        "\u0415": "E",  # Е
        "\u041e": "O",  # О
        "\u0420": "P",  # Р
        "\u0421": "C",  # С
        "\u0423": "Y",  # У
        "\u0425": "X",  # Х
        "\u0406": "I",  # І
        "\u0408": "J",  # Ј
        "\u0405": "S",  # Ѕ
        "\u0412": "B",  # В
        "\u041a": "K",  # К
        "\u041c": "M",  # М
        "\u041d": "H",  # Н
        "\u0422": "T",  # Т
        "\u0391": "A",  # Α
        "\u0392": "B",  # Β
        "\u0395": "E",  # Ε
        "\u0396": "Z",  # Ζ
        "\u0397": "H",  # Η
        "\u0399": "I",  # Ι
        "\u039a": "K",  # Κ
        "\u039c": "M",  # Μ
        "\u039d": "N",  # Ν
        "\u039f": "O",  # Ο
        "\u03a1": "P",  # Ρ
        "\u03a4": "T",  # Τ
        "\u03a5": "Y",  # Υ
        "\u03a7": "X",  # Χ
        "\u03b1": "a",  # α
        "\u03bf": "o",  # ο
        "\u03b9": "i",  # ι
        "\u03c1": "p",  # ρ
        "\u03bd": "v",  # ν
        "\u03c5": "u",  # υ
        "\u03ba": "k",  # κ
        "\u2010": "-",  # ‐
        "\u2011": "-",  # ‑
        "\u2012": "-",  # ‒
        "\u2013": "-",  # –
        "\u2014": "-",  # —
        "\u2015": "-",  # ―
        "\u2212": "-",  # −
        "\ufe58": "-",  # ﹘
        "\ufe63": "-",  # ﹣
        "\uff0d": "-",  # －
    }
)
_KEEP_CONTROLS = frozenset("\t\n")


def _fold_char(char: str) -> str:
    category = unicodedata.category(char)
    if category == "Cf" or category == "Mn":
        return ""
    if category == "Cc":
        return char if char in _KEEP_CONTROLS else " "
    if category == "Nd" and not char.isascii():
        return str(unicodedata.digit(char))
    if category == "Zs" or category in ("Zl", "Zp"):
        return " "
    return char


def fold(text: str) -> str:
    """Return ``text`` normalised for detection (and for sending: the output is folded too).

    Args:
        text: Any string.

    Returns:
        The folded string; the same object when nothing needed folding.

    Examples:
        >>> fold("123\\u200b-45-6789")
        '123-45-6789'
        >>> fold("ｊａｎｅ＠ｅｘａｍｐｌｅ．ｃｏｍ")
        'jane@example.com'
        >>> fold("pаypal")  # a Cyrillic "а"
        'paypal'
    """
    if text.isascii() and (text.isprintable() or not _has_controls(text)):
        return text
    text = unicodedata.normalize("NFKC", text).translate(_CONFUSABLES)
    return "".join(
        char if char.isascii() and (char.isprintable() or char in _KEEP_CONTROLS) else _fold_char(char)
        for char in text
    )


def _has_controls(text: str) -> bool:
    return any(not char.isprintable() and char not in _KEEP_CONTROLS for char in text)
