"""Sanitizer: DICOM attributes, European identifiers and wording, hospital staff names."""

from __future__ import annotations

import pytest

from unified_health.analytics._sanitize import Sanitizer
from unified_health.analytics._scrub._checks import (
    is_bsn,
    is_codice_fiscale,
    is_kvnr,
    is_nir,
    is_rvnr,
    is_steuer_id,
)


@pytest.fixture(scope="module")
def sanitizer() -> Sanitizer:
    return Sanitizer()


def _scrub(sanitizer: Sanitizer, value: str, key: str = "value") -> tuple[str, dict[str, int]]:
    result = sanitizer.scrub({key: value})
    return str(result.properties[key]), dict(result.redactions)


# ---------------------------------------------------------------- DICOM
def test_a_tagged_dicom_attribute_is_judged_by_its_tag(sanitizer: Sanitizer) -> None:
    text, counts = _scrub(sanitizer, '(0010,0010) PatientName "MARCHETTI^LUCA^R"')
    assert text == '(0010,0010) PatientName "[REDACTED:name]"'
    assert counts == {"name": 1}
    text, counts = _scrub(sanitizer, '(0018,1000) DeviceSerialNumber "CT99A41872"')
    assert counts == {"device_id": 1}


def test_dicom_json_values_are_judged_by_their_tag(sanitizer: Sanitizer) -> None:
    value = '{"00100010":{"vr":"PN","Value":[{"Alphabetic":"OYELARAN^TEMITOPE"}]}}'
    text, counts = _scrub(sanitizer, value)
    assert "OYELARAN" not in text
    assert counts == {"name": 1}
    _, counts = _scrub(sanitizer, '{"00100030":{"vr":"DA","Value":["19580722"]}}')
    assert counts == {"date_of_birth": 1}


def test_dicom_uids_young_ages_and_placeholders_survive(sanitizer: Sanitizer) -> None:
    for value in (
        '(0020,000D) StudyInstanceUID "1.2.840.113619.2.55.3.604688119"',
        '(0010,1010) PatientAge "067Y"',
        '(0010,0010) PatientName "ANONYMIZED"',
    ):
        assert _scrub(sanitizer, value) == (value, {})
    _, counts = _scrub(sanitizer, '(0010,1010) PatientAge "093Y"')
    assert counts == {"age_over_89": 1}


# ---------------------------------------------------------------- European ids
def test_european_check_algorithms() -> None:
    assert is_codice_fiscale("RSSMRA85T10A562S")
    assert not is_codice_fiscale("RSSMRA85T10A562T")
    assert is_nir("279027511104570")
    assert not is_nir("279027511104571")
    assert is_bsn("123456782")
    assert not is_bsn("123456789")
    assert is_steuer_id("47158230766")
    assert not is_steuer_id("47158230767")
    assert is_kvnr("M482159374")
    assert not is_kvnr("M482159375")
    assert is_rvnr("12030784H040")
    assert not is_rvnr("12030784H041")


def test_ids_with_a_strong_check_need_no_label(sanitizer: Sanitizer) -> None:
    assert _scrub(sanitizer, "Errore: RSSMRA85T10A562S")[1] == {"ssn": 1}
    assert _scrub(sanitizer, "Errore: RSSMRA85T10A562T")[1] == {}
    assert _scrub(sanitizer, "Carte: 1 85 03 75 120 123 76")[1] == {"ssn": 1}


def test_weak_ids_need_their_label(sanitizer: Sanitizer) -> None:
    assert _scrub(sanitizer, "Bestellung 765432109 versandt")[1] == {}
    assert _scrub(sanitizer, "Het burgerservicenummer 765432109 is gekoppeld")[1] == {"ssn": 1}
    assert _scrub(sanitizer, "Code M482159374 eingegeben")[1] == {}
    assert _scrub(sanitizer, "Versichertennummer (M482159374) prüfen")[1] == {"member_id": 1}
    assert _scrub(sanitizer, "Steuer-ID 47158230767")[1] == {}


def test_labels_in_four_languages(sanitizer: Sanitizer) -> None:
    assert _scrub(sanitizer, "Fallnummer 2026004417")[1] == {"mrn": 1}
    assert _scrub(sanitizer, "N° adhérent mutuelle : 0045871236")[1] == {"member_id": 1}
    assert _scrub(sanitizer, "Rijbewijsnummer 5203417896")[1] == {"license_number": 1}
    assert _scrub(sanitizer, "Conto corrente n. 000104281791")[1] == {"account_number": 1}
    assert _scrub(sanitizer, "Taxi, kenteken GB-123-K")[1] == {"vehicle_id": 1}


# ---------------------------------------------------------------- European wording
def test_birth_and_appointment_wording(sanitizer: Sanitizer) -> None:
    text, counts = _scrub(sanitizer, "geb. 21. März 1961")
    assert (text, counts) == ("geb. [REDACTED:date_of_birth]", {"date_of_birth": 1})
    assert _scrub(sanitizer, "Uw afspraak op 3 mei om 09:40")[1] == {"personal_date": 1}
    assert _scrub(sanitizer, "Stand: 01.03.2026, Release 3 mai 2026")[1] == {}


def test_ages_over_89_in_four_languages(sanitizer: Sanitizer) -> None:
    assert _scrub(sanitizer, "Patientin, 94 Jahre")[1] == {"age_over_89": 1}
    assert _scrub(sanitizer, "Jahrgang 1931")[1] == {"age_over_89": 1}
    assert _scrub(sanitizer, "Paziente di 76 anni")[1] == {}


def test_european_addresses_and_postcodes(sanitizer: Sanitizer) -> None:
    text, counts = _scrub(sanitizer, "Consegna a Via Garibaldi 22, 40124 Bologna oggi")
    assert text == "Consegna a [REDACTED:street_address] oggi"
    assert counts == {"street_address": 1}
    assert _scrub(sanitizer, "Farmacia Centrale, Piazza Maggiore 1")[1] == {}
    assert _scrub(sanitizer, "huisarts 3511LX", key="zoekopdracht")[1] == {"zip_code": 1}


def test_names_after_titles_and_greetings(sanitizer: Sanitizer) -> None:
    assert _scrub(sanitizer, "Frau Dr. Hoffmann hat Ihren Befund freigegeben.")[1] == {"name": 1}
    assert _scrub(sanitizer, "Beste mevrouw De Vries, uw recept is klaar.")[0] == (
        "Beste mevrouw [REDACTED:name], uw recept is klaar."
    )
    for value in ("Sehr geehrte Frau,", "Liebe Grüße, Anna", "Hallo Team, neue Version"):
        assert _scrub(sanitizer, value)[1] == {}


# ---------------------------------------------------------------- hospital operations
def test_staff_names_after_titles_and_roles(sanitizer: Sanitizer) -> None:
    assert _scrub(sanitizer, "Prelim read by Dr. Ebersole: no acute abn")[1] == {"name": 1}
    assert _scrub(sanitizer, "Critical value called to RN Abernathy")[1] == {"name": 1}
    assert _scrub(sanitizer, "Paging Dr. Strong to ED")[1] == {}
    assert _scrub(sanitizer, "provider: Dr. Lee, OD")[1] == {}


def test_patient_shorthand_and_last_first(sanitizer: Sanitizer) -> None:
    assert _scrub(sanitizer, "Rm 412B pt Whitcombe c/o chest pain")[1] == {"name": 1}
    assert _scrub(sanitizer, "HARLOW, D (M) 74y")[0] == "[REDACTED:name] (M) 74y"
    assert _scrub(sanitizer, "pt Education materials sent")[1] == {}


def test_logins_built_from_names(sanitizer: Sanitizer) -> None:
    assert _scrub(sanitizer, "Pyxis: user JMORALES2 removed 1 ea")[1] == {"name": 1}
    assert _scrub(sanitizer, "Pyxis: user admin2 logged out")[1] == {}


def test_hospital_codes_are_not_phones(sanitizer: Sanitizer) -> None:
    assert _scrub(sanitizer, "BCMA scan ok: NDC 0409-4888-02 heparin")[1] == {}
    assert _scrub(sanitizer, "pager 555-0102 for cross-cover")[1] == {"phone": 1}
    assert _scrub(sanitizer, "Hospital coords 47.6, -122.3", key="geo")[1] == {}


def test_an_implant_udi_loses_its_serial_only(sanitizer: Sanitizer) -> None:
    text, counts = _scrub(sanitizer, "UDI (01)00844588003288(17)270930(10)LOT4471(21)K7731904")
    assert text == "UDI (01)00844588003288(17)270930(10)LOT4471(21)[REDACTED:device_id]"
    assert counts == {"device_id": 1}
