"""Sanitizer: the public contract, key-aware rules and bad-input rules."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest

from unified_health.analytics._errors import InvalidInputError
from unified_health.analytics._sanitize import RedactionCategory, Sanitizer, ScrubResult
from unified_health.analytics.testing import FakeClock


@pytest.fixture(scope="module")
def sanitizer() -> Sanitizer:
    return Sanitizer()


def test_scrub_returns_a_cleaned_copy_and_counts(sanitizer: Sanitizer) -> None:
    event = {"email": "jane@example.com", "note": "call 555-123-4567", "plan": "premium"}
    result = sanitizer.scrub(event)
    assert isinstance(result, ScrubResult)
    assert result.properties == {
        "email": "[REDACTED:email]",
        "note": "call [REDACTED:phone]",
        "plan": "premium",
    }
    assert dict(result.redactions) == {"email": 1, "phone": 1}
    assert result.redacted == 2
    assert event["email"] == "jane@example.com"


def test_categories_are_plain_strings_in_the_counts(sanitizer: Sanitizer) -> None:
    result = sanitizer.scrub({"ip": "10.0.0.1", "x": object()})
    assert all(type(key) is str for key in result.redactions)
    assert RedactionCategory.IP_ADDRESS in result.redactions


def test_output_is_json_serialisable(sanitizer: Sanitizer) -> None:
    result = sanitizer.scrub({"a": {1, 2}, "b": b"bytes", "c": float("nan"), 1: (1, 2)})  # type: ignore[dict-item]
    json.dumps(result.properties, allow_nan=False)


# ---------------------------------------------------------------- key-aware rules
@pytest.mark.parametrize(
    ("key", "category"),
    [
        ("name", "name"),
        ("patientName", "name"),
        ("PATIENT-NAME", "name"),
        ("patient.name", "name"),
        ("first_name", "name"),
        ("emergencyContactName", "name"),
        ("dob", "date_of_birth"),
        ("dateOfBirth", "date_of_birth"),
        ("birth_date", "date_of_birth"),
        ("ssn", "ssn"),
        ("mrn", "mrn"),
        ("emailAddress", "email"),
        ("contact-email", "email"),
        ("home_phone", "phone"),
        ("fax", "phone"),
        ("address_line_1", "street_address"),
        ("street", "street_address"),
        ("zip", "zip_code"),
        ("postcode", "zip_code"),
        ("ip", "ip_address"),
        ("clientIp", "ip_address"),
        ("device_id", "device_id"),
        ("imei", "device_id"),
        ("mac", "device_id"),
        ("vin", "vehicle_id"),
        ("drivers_license", "license_number"),
        ("member_id", "member_id"),
        ("account_number", "account_number"),
        ("emails", "email"),
    ],
)
def test_sensitive_keys_redact_the_whole_value(
    sanitizer: Sanitizer, key: str, category: str
) -> None:
    result = sanitizer.scrub({key: "anything at all 42"})
    assert result.properties == {key: f"[REDACTED:{category}]"}
    assert dict(result.redactions) == {category: 1}


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("specialty", "Obstetrics & Gynecology"),
        ("specialty_name", "Cardiology"),
        ("diagnosis_category", "cardiology"),
        ("event_name", "Appointment Booked"),
        ("screen_name", "Address Book"),
        ("email_verified", "true"),
        ("phone_type", "mobile"),
        ("order_id", "ORD-2024-000123"),
        ("ref", "A1B2C3"),
        ("timestamp", "2026-03-01T10:00:00Z"),
        ("app_version", "v2.10.0-rc1"),
        ("event_id", "550e8400-e29b-41d4-a716-446655440000"),
        ("age", "45"),
        ("support_phone", "1-800-FLOWERS"),
        ("phone", "Call 911 in an emergency"),
        ("server_ip", "127.0.0.1:8080"),
        ("ip", "::1"),
        ("city", "Ontario"),
        ("radius", "12 min drive"),
        ("experiment_name", "Nurse Chat Entry Point"),
        ("button_text", "Find a Dr. Near You"),
        ("screen", "Surgeon Preference Cards"),
        ("note", "consult Cardiology"),
    ],
)
def test_ordinary_keys_keep_benign_values(sanitizer: Sanitizer, key: str, value: str) -> None:
    result = sanitizer.scrub({key: value})
    assert result.properties == {key: value}
    assert not result.redactions


def test_a_public_number_under_a_phone_key_does_not_hide_a_private_one(
    sanitizer: Sanitizer,
) -> None:
    assert sanitizer.scrub_value("911 then 555-0199", key="phone")[0] == "[REDACTED:phone]"
    assert sanitizer.scrub_value("five five five zero one two three", key="phone")[0] == (
        "[REDACTED:phone]"
    )
    assert sanitizer.scrub_value("203.0.113.9", key="server_ip")[0] == "[REDACTED:ip_address]"
    assert sanitizer.scrub_value("12 Minuteman Drive")[0] == "[REDACTED:street_address]"


def test_timestamps_are_redacted_under_birth_keys_or_birth_words(sanitizer: Sanitizer) -> None:
    assert sanitizer.scrub_value("2026-03-01T10:00:00Z", key="dob")[0] == "[REDACTED:date_of_birth]"
    assert sanitizer.scrub_value("born 1950-03-01T00:00:00Z")[0] == "born [REDACTED:date_of_birth]"
    assert sanitizer.scrub_value("seen 2026-03-01T10:00:00Z")[0] == "seen 2026-03-01T10:00:00Z"


def test_ages_over_89_only(sanitizer: Sanitizer) -> None:
    result = sanitizer.scrub({"age": 93, "patient_age": "91", "age_2": 45, "note": "a 95 y/o"})
    assert result.properties == {
        "age": "[REDACTED:age_over_89]",
        "patient_age": "[REDACTED:age_over_89]",
        "age_2": 45,
        "note": "a [REDACTED:age_over_89] y/o",
    }


def test_containers_under_a_sensitive_key_are_redacted_leaf_by_leaf(sanitizer: Sanitizer) -> None:
    result = sanitizer.scrub({"address": {"line": "12 Oak St", "verified": True, "unit": 4}})
    assert result.properties == {
        "address": {
            "line": "[REDACTED:street_address]",
            "verified": True,
            "unit": "[REDACTED:street_address]",
        }
    }


def test_numbers_are_scanned_too(sanitizer: Sanitizer) -> None:
    result = sanitizer.scrub({"n": 4111111111111111, "count": 12, "zip": 90210, "ratio": 0.5})
    assert result.properties == {
        "n": "[REDACTED:credit_card]",
        "count": 12,
        "zip": "[REDACTED:zip_code]",
        "ratio": 0.5,
    }


def test_identifiers_in_keys_are_redacted(sanitizer: Sanitizer) -> None:
    result = sanitizer.scrub({"jane@example.com": 1, "a@example.com": 2, "b@example.com": 3})
    assert list(result.properties) == [
        "[REDACTED:email]",
        "[REDACTED:email]_2",
        "[REDACTED:email]_3",
    ]
    assert dict(result.redactions) == {"email": 3}


def test_an_hl7_segment_loses_its_identifier_fields_only(sanitizer: Sanitizer) -> None:
    message = (
        "MSH|^~\\&|EPIC|CRBH|MIRTH|UH|20260314083012||ADT^A08|0000482913|P|2.5.1\r"
        "PID|1||00884127^^^CRBH^MR||OKAFOR^MIRIAM^A||19470219|F|||12 Elm St^^Tacoma^WA"
        "||^PRN^PH^^1^206^5550143\r"
        "PV1|1|O|BH-IOP^201^A^CRBH"
    )
    result = sanitizer.scrub({"hl7": message})
    cleaned = result.properties["hl7"]
    assert isinstance(cleaned, str)
    for value in ("00884127", "OKAFOR", "MIRIAM", "19470219", "Elm St", "5550143"):
        assert value not in cleaned
    assert cleaned.startswith("MSH|^~\\&|EPIC|CRBH|MIRTH|UH|20260314083012||ADT^A08|0000482913")
    assert "^^^CRBH^MR" in cleaned
    assert cleaned.endswith("PV1|1|O|BH-IOP^201^A^CRBH")
    assert {"mrn", "name", "date_of_birth", "street_address", "phone"} <= set(result.redactions)


def test_an_hl7_field_reference_labels_the_quoted_value(sanitizer: Sanitizer) -> None:
    result = sanitizer.scrub({"error": "Segment PID field 5 invalid: 'OKAFOR^MIRIAM^A^^' too long"})
    assert result.properties == {
        "error": "Segment PID field 5 invalid: '[REDACTED:name]^^' too long"
    }
    assert dict(result.redactions) == {"name": 1}


def test_spanish_birth_wording(sanitizer: Sanitizer) -> None:
    for value in (
        "fecha de nacimiento: 14/03/1950",
        "cumpleaños: 30-08-1972",
        "nació el 14/03/1950",
    ):
        cleaned, counts = sanitizer.scrub_value(value)
        assert "[REDACTED:date_of_birth]" in cleaned
        assert counts == {"date_of_birth": 1}


def test_a_name_key_holding_only_a_number_reports_the_number(sanitizer: Sanitizer) -> None:
    result = sanitizer.scrub({"visit_signature": "RN lic. #: 912834 (TX)"})
    assert result.properties == {"visit_signature": "[REDACTED:license_number]"}


# ---------------------------------------------------------------- configuration
def test_custom_patterns_are_reported_under_their_own_name() -> None:
    sanitizer = Sanitizer(custom_patterns={"clinic_mrn": r"\bCLN\d{7}\b"})
    text, counts = sanitizer.scrub_value("chart CLN1234567 reviewed")
    assert (text, dict(counts)) == ("chart [REDACTED:clinic_mrn] reviewed", {"clinic_mrn": 1})


@pytest.mark.parametrize(
    "patterns",
    [{"Bad Name": r"\d"}, {"ok": r"("}, {"ok": r"\d*"}, {"": r"x"}],
)
def test_invalid_custom_patterns_are_rejected_without_echoing_them(
    patterns: dict[str, str],
) -> None:
    with pytest.raises(InvalidInputError) as info:
        Sanitizer(custom_patterns=patterns)
    assert info.value.field.startswith("custom_patterns")


def test_allow_keys_skip_key_rules_but_values_are_still_scanned() -> None:
    sanitizer = Sanitizer(allow_keys=["Mac"])
    assert sanitizer.scrub({"mac": "Sonoma"}).properties == {"mac": "Sonoma"}
    assert sanitizer.scrub({"mac": "aa:bb:cc:dd:ee:ff"}).properties == {
        "mac": "[REDACTED:device_id]"
    }


def test_extra_sensitive_keys_match_after_normalisation() -> None:
    sanitizer = Sanitizer(extra_sensitive_keys=["loyalty_code"])
    result = sanitizer.scrub({"loyaltyCode": "GOLD", "plan": "GOLD"})
    assert result.properties == {"loyaltyCode": "[REDACTED:custom]", "plan": "GOLD"}


# ---------------------------------------------------------------- urls
@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://portal.example.com/patients/884213/labs?tab=results",
            "https://portal.example.com/patients/[REDACTED:url_identifier]/labs?tab=results",
        ),
        ("/users/jane-doe/settings", "/users/[REDACTED:url_identifier]/settings"),
        ("/patients/search?page=2", "/patients/search?page=2"),
        (
            "https://x.example/find?patient_name=Jane+Doe&dob=1950-03-01&sort=asc",
            "https://x.example/find?patient_name=[REDACTED:name]&dob=[REDACTED:date_of_birth]"
            "&sort=asc",
        ),
        ("https://x.example/?q=jane%40example.com", "https://x.example/?q=[REDACTED:email]"),
        ("https://jane:pw@x.example/", "https://[REDACTED:url_identifier]/"),
        (
            "https://example.com/pricing?utm_source=mail",
            "https://example.com/pricing?utm_source=mail",
        ),
    ],
)
def test_url_rules(sanitizer: Sanitizer, url: str, expected: str) -> None:
    assert sanitizer.scrub_value(url)[0] == expected


# ---------------------------------------------------------------- bad input
class _Hostile:
    def __repr__(self) -> str:
        raise RuntimeError("no")

    def __str__(self) -> str:
        raise RuntimeError("no")


def test_cycles_depth_and_unknown_types_are_dropped_and_counted(sanitizer: Sanitizer) -> None:
    cyclic: dict[str, object] = {"email": "x@example.com"}
    cyclic["self"] = cyclic
    deep: dict[str, object] = {}
    node = deep
    for _ in range(50):
        node["next"] = {}
        node = node["next"]  # type: ignore[assignment]
    result = sanitizer.scrub({"cyclic": cyclic, "deep": deep, "odd": _Hostile(), "gen": iter([])})
    json.dumps(result.properties)
    assert result.properties["cyclic"] == {
        "email": "[REDACTED:email]",
        "self": "[REDACTED:too_deep]",
    }
    assert result.properties["odd"] == "[REDACTED:unsupported_type]"
    assert result.redactions["too_deep"] == 2
    assert result.redactions["unsupported_type"] == 2


def test_odd_keys_and_values_are_coerced(sanitizer: Sanitizer) -> None:
    event = {
        1: b"jane@example.com",
        None: bytearray(b"\xff\xfe ok"),
        (1, 2): "dropped with its key",
        "when": dt.datetime(2026, 3, 1, 10, tzinfo=dt.UTC),
        "dob": dt.date(1950, 3, 1),
        "id": uuid.UUID(int=7),
        "price": Decimal("12.50"),
        "tags": {"b", "a"},
        "inf": float("inf"),
    }
    result = sanitizer.scrub(event)  # type: ignore[arg-type]
    assert result.properties == {
        "1": "[REDACTED:email]",
        "None": "\ufffd\ufffd ok",
        "when": "2026-03-01T10:00:00+00:00",
        "dob": "[REDACTED:date_of_birth]",
        "id": "00000000-0000-0000-0000-000000000007",
        "price": "12.50",
        "tags": ["a", "b"],
        "inf": None,
    }
    assert result.redactions["unsupported_type"] == 1


def test_too_large_input_is_bounded(sanitizer: Sanitizer) -> None:
    result = sanitizer.scrub({"big": "x" * 70_000, "many": list(range(10_000))})
    assert result.properties["big"] == "[REDACTED:too_large]"
    assert "[REDACTED:too_large]" in result.properties["many"]  # type: ignore[operator]


def test_unreadable_input_fails_closed(sanitizer: Sanitizer) -> None:
    class Broken(dict[str, object]):
        def items(self) -> Any:
            raise RuntimeError("boom")

    for bad in (Broken(a=1), None, ["a"]):
        result = sanitizer.scrub(bad)  # type: ignore[arg-type]
        assert result.properties == {}
        assert dict(result.redactions) == {"unsupported_type": 1}


def test_a_sanitizer_is_shared_safely_between_threads(sanitizer: Sanitizer) -> None:
    events = [
        {"note": f"call 555-123-{i:04d} or mail u{i}@example.com", "i": i} for i in range(200)
    ]
    expected = [sanitizer.scrub(event) for event in events]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(sanitizer.scrub, events))
    assert results == expected


def test_values_remembered_as_clean_are_judged_again_in_a_new_year() -> None:
    clock = FakeClock(dt.datetime(2026, 12, 31, 23, 0, tzinfo=dt.UTC))
    sanitizer = Sanitizer(clock=clock)
    born = "patient born 1937"  # 89 in 2026: not an identifier
    assert sanitizer.scrub({"note": born}).properties == {"note": born}
    assert sanitizer.scrub({"note": born}).properties == {"note": born}  # remembered as clean
    clock.advance(3600)  # 2027: now over 89
    result = sanitizer.scrub({"note": born})
    assert dict(result.redactions) == {"age_over_89": 1}


def test_the_sanitizer_refuses_a_clock_that_is_not_one() -> None:
    with pytest.raises(InvalidInputError) as caught:
        Sanitizer(clock=lambda: dt.datetime.now(dt.UTC))  # type: ignore[arg-type]
    assert caught.value.field == "clock"


@pytest.mark.parametrize(
    ("value", "category", "secret"),
    [
        ("Re-consent date: 06/30/2026", "personal_date", "06/30/2026"),
        ("Stool sample collected on 2026-05-02", "personal_date", "2026-05-02"),
        ("Subj 512-0033 withdrew consent", "mrn", "512-0033"),
        ("aliquot BB-2025-771203-01 shipped", "mrn", "BB-2025-771203-01"),
        ("Age at enrollment: 93", "age_over_89", "93"),
        ("Caller: Rosalind (patient's niece)", "name", "Rosalind"),
        ("Coordinator: K. Abernathy", "name", "K. Abernathy"),
    ],
)
def test_research_and_registry_cues_find_what_they_introduce(
    sanitizer: Sanitizer, value: str, category: str, secret: str
) -> None:
    result = sanitizer.scrub({"note": value})
    assert secret not in str(result.properties["note"])
    assert category in result.redactions


def test_a_subject_column_of_a_csv_export_holds_subject_ids(sanitizer: Sanitizer) -> None:
    value = "Export for site 12:\nSubject,Visit,Status\n712-045,Week 4,Complete"
    result = sanitizer.scrub({"csv": value})
    assert "712-045" not in str(result.properties["csv"])
    assert "Week 4" in str(result.properties["csv"])
    assert dict(result.redactions) == {"mrn": 1}


@pytest.mark.parametrize(
    "value",
    [
        "https://reports.example.org/coverage?state=any&county=all",
        "VFC PIN 118204 on file for the clinic",
        '{"display_name":"Anonymous","score":12}',
    ],
)
def test_wildcards_programme_pins_and_anonymous_names_are_benign(
    sanitizer: Sanitizer, value: str
) -> None:
    assert sanitizer.scrub({"v": value}).properties == {"v": value}


def test_a_client_page_id_parameter_is_an_identifier(sanitizer: Sanitizer) -> None:
    url = "https://registry.example.org/client?id=5520041871&tab=doses"
    result = sanitizer.scrub({"page_url": url})
    assert "5520041871" not in str(result.properties["page_url"])
    assert "tab=doses" in str(result.properties["page_url"])


def test_a_mail_key_holding_a_sentence_reports_what_it_holds(sanitizer: Sanitizer) -> None:
    result = sanitizer.scrub({"alert_email": "Login from 198.51.100.9 blocked"})
    assert dict(result.redactions) == {"ip_address": 1}
