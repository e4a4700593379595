"""Checksums and validity rules that keep look-alike numbers from being redacted."""

from __future__ import annotations

import ipaddress

__all__ = [
    "IBAN_LENGTHS",
    "digits_of",
    "is_bsn",
    "is_card_number",
    "is_codice_fiscale",
    "is_iban",
    "is_imei",
    "is_ip_address",
    "is_kvnr",
    "is_nir",
    "is_rvnr",
    "is_ssn",
    "is_steuer_id",
    "is_vin",
    "luhn_ok",
]


def digits_of(text: str) -> str:
    """The ASCII digits of ``text``, in order."""
    return "".join(ch for ch in text if "0" <= ch <= "9")


def luhn_ok(digits: str) -> bool:
    """The Luhn (mod 10) check used by card numbers and IMEIs."""
    total = 0
    for index, ch in enumerate(reversed(digits)):
        value = ord(ch) - 48
        if index % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def is_card_number(digits: str) -> bool:
    """A payment card number: a known issuer prefix and length, and a valid Luhn check."""
    length = len(digits)
    if not 12 <= length <= 19 or len(set(digits)) < 2:
        return False
    two = int(digits[:2])
    three = int(digits[:3])
    four = int(digits[:4])
    known = (
        (digits[0] == "4" and length in (13, 16, 19))  # Visa
        or ((51 <= two <= 55 or 2221 <= four <= 2720) and length == 16)  # Mastercard
        or (two in (34, 37) and length == 15)  # American Express
        or ((two in (36, 38, 39) or 300 <= three <= 305) and length >= 14)  # Diners
        or ((four == 6011 or two == 65 or 644 <= three <= 649) and length >= 16)  # Discover
        or (3528 <= four <= 3589 and length >= 16)  # JCB
        or (two == 62 and length >= 16)  # UnionPay
        or (two in (50, 56, 57, 58, 63, 67) and length >= 12)  # Maestro
    )  # fmt: skip
    return known and luhn_ok(digits)


def is_imei(digits: str) -> bool:
    """An IMEI: 15 digits with a valid Luhn check digit (not all one digit)."""
    return len(digits) == 15 and len(set(digits)) > 2 and luhn_ok(digits)


def is_ssn(area: str, group: str, serial: str) -> bool:
    """A US Social Security Number that could have been issued.

    Area 000, 666 and 900-999, group 00 and serial 0000 were never issued.
    """
    if area in ("000", "666") or area[0] == "9":
        return False
    return group != "00" and serial != "0000"


# ISO 13616 lengths of the IBAN of each country that issues them.
IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
    "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20,
    "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18,
    "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24,
    "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24,
    "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}  # fmt: skip


def is_iban(compact: str) -> bool:
    """An IBAN (spaces removed, upper case): the country's length and the ISO 7064 mod-97 check."""
    if IBAN_LENGTHS.get(compact[:2]) != len(compact) or not compact[2:4].isdigit():
        return False
    rearranged = compact[4:] + compact[:4]
    try:
        number = int("".join(str(int(ch, 36)) for ch in rearranged))
    except ValueError:
        return False
    return number % 97 == 1


_VIN_VALUES = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


def is_vin(vin: str, *, require_check_digit: bool = True) -> bool:
    """A 17-character vehicle identification number (ISO 3779, no I, O or Q).

    North American VINs carry a check digit in position 9; it is enforced unless the caller has
    context (the word "VIN") that makes the check unnecessary.
    """
    if len(vin) != 17 or not all(ch in _VIN_VALUES for ch in vin):
        return False
    digits = sum(ch.isdigit() for ch in vin)
    if digits < 3 or digits == 17:
        return False
    if not require_check_digit:
        return True
    remainder = sum(_VIN_VALUES[ch] * w for ch, w in zip(vin, _VIN_WEIGHTS, strict=True)) % 11
    return vin[8] == ("X" if remainder == 10 else str(remainder))


def is_ip_address(text: str) -> bool:
    """A syntactically valid IPv4 or IPv6 address (zone ids allowed)."""
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


# ---------------------------------------------------------------- European national identifiers
_CF_ODD = dict(
    zip(
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        (1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11,
         3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23),
        strict=True,
    )
)  # fmt: skip


def is_codice_fiscale(code: str) -> bool:
    """An Italian codice fiscale (16 characters): its control letter matches the other 15."""
    if len(code) != 16 or not code.isalnum():
        return False
    code = code.upper()
    total = 0
    for index, ch in enumerate(code[:15]):
        if index % 2 == 0:
            total += _CF_ODD[ch]
        else:
            total += ord(ch) - 48 if ch.isdigit() else ord(ch) - 65
    return chr(65 + total % 26) == code[15]


def is_nir(compact: str) -> bool:
    """A French NIR (13 characters, Corsica ``2A``/``2B`` included, and a two-digit 97 key)."""
    if len(compact) != 15 or not compact[-2:].isdigit():
        return False
    body = compact[:13].upper().replace("2A", "19").replace("2B", "18")
    if not body.isdigit() or body[0] not in "12378":
        return False
    return 97 - int(body) % 97 == int(compact[13:])


def is_bsn(digits: str) -> bool:
    """A Dutch burgerservicenummer: nine digits passing the 11-proef."""
    if len(digits) != 9 or not digits.isdigit() or digits == "000000000":
        return False
    total = sum(int(d) * w for d, w in zip(digits[:8], range(9, 1, -1), strict=True))
    return (total - int(digits[8])) % 11 == 0


def is_steuer_id(digits: str) -> bool:
    """A German Steuer-ID: eleven digits, ISO 7064 MOD 11,10 check digit."""
    if len(digits) != 11 or not digits.isdigit() or digits[0] == "0":
        return False
    product = 10
    for ch in digits[:10]:
        total = (int(ch) + product) % 10 or 10
        product = total * 2 % 11
    check = 11 - product
    return (0 if check == 10 else check) == int(digits[10])


def is_kvnr(code: str) -> bool:
    """A German Krankenversichertennummer: a letter, eight digits and a check digit."""
    code = code.replace(" ", "").upper()
    if len(code) != 10 or not code[0].isalpha() or not code[1:].isdigit():
        return False
    digits = f"{ord(code[0]) - 64:02d}{code[1:9]}"
    total = 0
    for index, ch in enumerate(digits):
        value = int(ch) * (2 if index % 2 else 1)
        total += value // 10 + value % 10
    return total % 10 == int(code[9])


def is_rvnr(code: str) -> bool:
    """A German Rentenversicherungsnummer: area, birth date, initial letter, serial, check."""
    code = code.replace(" ", "").upper()
    if len(code) != 12 or not code[8].isalpha() or not (code[:8] + code[9:]).isdigit():
        return False
    digits = f"{code[:8]}{ord(code[8]) - 64:02d}{code[9:11]}"
    total = 0
    for ch, weight in zip(digits, (2, 1, 2, 5, 7, 1, 2, 1, 2, 1, 2, 1), strict=True):
        value = int(ch) * weight
        total += value // 10 + value % 10
    return total % 10 == int(code[11])
