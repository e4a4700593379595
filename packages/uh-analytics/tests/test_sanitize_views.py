"""Folded and decoded views, embedded pairs and the key qualifiers of the sanitiser."""

from __future__ import annotations

import pytest

from unified_health.analytics._sanitize import Sanitizer

SANITIZER = Sanitizer()


@pytest.mark.parametrize(
    ("value", "category", "survives"),
    [
        ("card \uff14\uff11\uff11\uff11 \uff11\uff11\uff11\uff11 \uff11\uff11\uff11\uff11 "
         "\uff11\uff11\uff11\uff11", "credit_card", "card "),
        ("text me on 202\u00a0555\u00a00164", "phone", "text me on "),
        ("SSN 145\u201382\u20133376", "ssn", "SSN "),
        ("ssn%3D447-19-3321%26step%3D2", "ssn", "ssn%3D"),
        ("dob%3D1962-03-08", "date_of_birth", "dob%3D"),
        ("https%3A%2F%2Fportal.example.com%2Fpatient%2F661203%2Fvisits", "url_identifier",
         "%2Fvisits"),
        ('{"memberId":"MBR-0048812","planCode":"PPO-GOLD"}', "member_id", "PPO-GOLD"),
        ('{"age":99,"sex":"M"}', "age_over_89", '"sex":"M"'),
        ("geo=51.507351,-0.127758&acc=12", "location", "&acc=12"),
        ("Patient home at 34.052235, -118.243683", "location", "Patient home at "),
        ("SSN ending 4518 is 603274518", "ssn", "SSN ending 4518 is "),
        ("invalid phone number; got 4155550177", "phone", "invalid phone number; got "),
        ("aged ninety-three", "age_over_89", "aged "),
        ("born on the 5th of November 1955", "date_of_birth", "born on the "),
        ("9 rue des Lilas", "street_address", ""),
        ("first.last@[192.0.2.10]", "email", ""),
        ("uhapp://patient/773-221/messages", "url_identifier", "/messages"),
        ("Signed by: Bernard Okafor on behalf of the patient", "name", "on behalf of"),
    ],
)  # fmt: skip
def test_identifier_is_redacted(value: str, category: str, survives: str) -> None:
    cleaned, counts = SANITIZER.scrub_value(value, key="value")
    assert category in counts
    assert survives in cleaned


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("clinic_city", "Springfield"),
        ("crash_address", "0xDEADBEEF"),
        ("map_center", "37.8,-122.4"),
        ("score", "0.9731, 0.0269"),
        ("note", "Phone verified in 45s; request id 2025550123"),
        ("note", "Referred by Cardiology"),
        ("payload", '{"variant":"B","experiment":"onboarding_v4","exposed":true}'),
        ("query", "q=blood%20pressure%20monitor&page=2"),
        ("hours", "Mon\u2013Fri 08:00\u201318:00"),
        ("utm", "utm_source=newsletter&utm_medium=email"),
    ],
)
def test_benign_value_survives(key: str, value: str) -> None:
    result = SANITIZER.scrub({key: value})
    assert result.properties == {key: value}
    assert not result.redactions


@pytest.mark.parametrize(
    ("key", "category"),
    [
        ("signed_by", "name"),
        ("contact_person", "name"),
        ("witness", "name"),
        ("home_city", "location"),
        ("bluetooth_address", "device_id"),
        ("ipv4_address", "ip_address"),
    ],
)
def test_sensitive_key_redacts_whole_value(key: str, category: str) -> None:
    result = SANITIZER.scrub({key: "Ingrid Solberg"})
    assert dict(result.redactions) == {category: 1}
