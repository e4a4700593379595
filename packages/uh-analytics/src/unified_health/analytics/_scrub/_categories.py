"""The categories a redaction is reported under, and the marker that replaces redacted text."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["RedactionCategory", "marker"]


class RedactionCategory(StrEnum):
    """What kind of identifier was redacted; the key of `ScrubResult.redactions`.

    The first group are the HIPAA Safe Harbor identifiers a detector or a key name can catch;
    ``free_text`` is undeclared prose, replaced whole by the default policy. The last three are
    not identifiers but the reasons a value was dropped without being inspected.

    Examples:
        >>> RedactionCategory.EMAIL.marker
        '[REDACTED:email]'
        >>> str(RedactionCategory.ZIP_CODE)
        'zip_code'
    """

    NAME = "name"
    EMAIL = "email"
    PHONE = "phone"
    SSN = "ssn"
    MRN = "mrn"
    MEMBER_ID = "member_id"
    ACCOUNT_NUMBER = "account_number"
    LICENSE_NUMBER = "license_number"
    CREDIT_CARD = "credit_card"
    IBAN = "iban"
    DATE_OF_BIRTH = "date_of_birth"
    PERSONAL_DATE = "personal_date"
    AGE_OVER_89 = "age_over_89"
    STREET_ADDRESS = "street_address"
    ZIP_CODE = "zip_code"
    LOCATION = "location"
    IP_ADDRESS = "ip_address"
    DEVICE_ID = "device_id"
    URL_IDENTIFIER = "url_identifier"
    VEHICLE_ID = "vehicle_id"
    ID_NUMBER = "id_number"
    CUSTOM = "custom"
    FREE_TEXT = "free_text"
    UNSUPPORTED_TYPE = "unsupported_type"
    TOO_DEEP = "too_deep"
    TOO_LARGE = "too_large"

    @property
    def marker(self) -> str:
        """The text that replaces a redacted value or span, e.g. ``[REDACTED:email]``."""
        return marker(self.value)


def marker(category: str) -> str:
    """The replacement text for a redaction of ``category``.

    Args:
        category: A `RedactionCategory` value or the name of a custom pattern.

    Returns:
        ``[REDACTED:<category>]``.

    Examples:
        >>> marker("clinic_mrn")
        '[REDACTED:clinic_mrn]'
    """
    return f"[REDACTED:{category}]"
