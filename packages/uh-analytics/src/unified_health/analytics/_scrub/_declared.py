"""`DeclaredText`: a string whose field is declared free text."""

from __future__ import annotations

__all__ = ["DeclaredText"]


class DeclaredText(str):
    """A value whose field is declared free text.

    Declared by a schema's `FreeText` or ``Sanitizer(free_text_keys=...)``: the detectors read
    the value instead of it being replaced.

    Examples:
        >>> DeclaredText("hello") == "hello"
        True
    """

    __slots__ = ()
