"""Each built-in detector, through the public `Sanitizer`: positive and negative examples.

Examples are general forms, written for these tests; none is taken from a corpus. ``label`` runs
a value as a short property value, ``free`` as declared free text.
"""

from __future__ import annotations

import pytest

from unified_health.analytics import Sanitizer
from unified_health.analytics.testing import FakeClock

SANITIZER = Sanitizer(clock=FakeClock())


def label(value: str, key: str = "value") -> str:
    return SANITIZER.scrub_value(value, key=key)[0]


def free(value: str) -> str:
    return SANITIZER.scrub_free_text(value)[0]


def categories(value: str) -> set[str]:
    return set(SANITIZER.scrub_free_text(value)[1])


# -- e-mail --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "address",
    [
        "ana.lima@example.org",
        "ANA.LIMA@EXAMPLE.ORG",
        "ana.lima at example dot org",
        "ana.lima [at] example [dot] org",
        "ana.lima (at) example (dot) org",
        "ana.lima{at}example{dot}org",
        "ana . lima @ example . org",
        "ana.lima%40example.org",
        "ana.lima&#64;example.org",
        "ana\u200b.lima@exa\u200dmple.org",
        "\uff41\uff4e\uff41\uff20\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45\uff0e\uff4f\uff52\uff47",
        "ana dot lima at example dot co dot uk",
    ],
)
def test_email_in_any_obfuscation(address: str) -> None:
    assert free(f"write to {address} soon") == "write to [REDACTED:email] soon"


@pytest.mark.parametrize("text", ["meet at noon", "logo@2x.png", "look at the dot matrix"])
def test_email_negatives(text: str) -> None:
    assert "email" not in categories(text)


# -- numbers -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("number", "category"),
    [
        ("123-45-6789", "ssn"),
        ("123 45 6789", "ssn"),
        ("123\u200b45\u200c6789", "ssn"),
        ("(802) 232-8775", "phone"),
        ("802.232.8775", "phone"),
        ("80 22 32 87 75", "phone"),
        ("+44 20 7946 0958", "phone"),
        ("4111 1111 1111 1111", "credit_card"),
        ("4111-1111-1111-1111", "credit_card"),
        ("555-0112", "id_number"),
    ],
)
def test_digit_runs_in_any_grouping(number: str, category: str) -> None:
    assert label(f"ref {number}") == f"ref [REDACTED:{category}]"


@pytest.mark.parametrize(
    "text", ["$1,299.00", "12345.67", "10.0.19045", "page 2 of 14", "1920x1080"]
)
def test_quantities_are_not_identifiers(text: str) -> None:
    assert label(text) == text


def test_free_text_reads_shorter_runs_than_labels() -> None:
    assert label("code 48213") == "code 48213"
    assert free("code 48213") == "code [REDACTED:id_number]"


# -- dates ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "date",
    ["03/14/1950", "1950-03-14", "14.03.1950", "3/14/'50", "March 14", "14th of March 1950",
     "02-Feb-2014", "Mar '58", "2026-03", "March 2026", "21. März 1961", "3 de marzo de 2020"],
)  # fmt: skip
def test_dates_more_precise_than_a_year(date: str) -> None:
    assert "personal_date" in categories(f"seen {date} in clinic")
    assert date.split()[0] not in free(f"seen {date} in clinic").replace("seen", "")


@pytest.mark.parametrize("text", ["born in 1950", "class of '58", "v16.7.10", "quiz 9/10"])
def test_years_and_versions_are_not_dates(text: str) -> None:
    assert label(text) == text


def test_day_and_month_alone_count_in_free_text() -> None:
    assert free("seen 3/14") == "seen [REDACTED:personal_date]"


# -- URLs ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/rooms/88231/notes", "/rooms/[REDACTED:url_identifier]/notes"),
        ("/a/b/c/4471", "/a/b/c/[REDACTED:url_identifier]"),
        ("/x/3f9c2e7a-81b4-4d0e-9a55-0c6d21b7a001/y", "/x/[REDACTED:url_identifier]/y"),
        ("/share/k8Hq2LmZ9x", "/share/[REDACTED:url_identifier]"),
        ("https://h.example/~someone/", "https://h.example/[REDACTED:url_identifier]/"),
        ("https://h.example/p?ref=Zx81kq2Lm", "https://h.example/p?ref=[REDACTED:url_identifier]"),
        ("https://h.example/p?email=a", "https://h.example/p?email=[REDACTED:url_identifier]"),
    ],
)
def test_id_shaped_url_segments_whatever_precedes_them(url: str, expected: str) -> None:
    assert label(url, key="page") == expected


def test_user_information_in_a_url() -> None:
    cleaned = label("https://someone:hunter2@h.example/", key="page")
    assert "someone" not in cleaned
    assert "hunter2" not in cleaned


@pytest.mark.parametrize("url", ["/settings/notifications", "/labs/results/panel/cbc", "/v2/help"])
def test_word_segments_pass(url: str) -> None:
    assert label(url, key="page") == url


# -- network -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "category"),
    [("203.0.113.7", "ip_address"), ("2001:db8::8a2e:370:7334", "ip_address"),
     ("00:1a:2b:3c:4d:5e", "device_id"), ("36e9.e6c4.d365", "device_id"),
     ("43.6532, -79.3832", "location")],
)  # fmt: skip
def test_addresses_and_points(text: str, category: str) -> None:
    assert label(f"from {text}") == f"from [REDACTED:{category}]"


@pytest.mark.parametrize("text", ["127.0.0.1", "Chrome/131.0.0.0", "14:03:11", "43.6, -79.3"])
def test_loopback_versions_times_and_coarse_points_pass(text: str) -> None:
    assert label(text) == text


# -- ages, addresses -----------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["93-year-old", "aged 95", "94 y.o.", "101 yrs old"])
def test_ages_over_89(text: str) -> None:
    assert "age_over_89" in categories(f"a {text} walked in")


@pytest.mark.parametrize("text", ["45-year-old", "aged 89", "90 minutes"])
def test_ages_up_to_89_pass(text: str) -> None:
    assert "age_over_89" not in categories(text)


@pytest.mark.parametrize(
    "text", ["42 Elm Street", "1600 Pennsylvania Ave NW", "7 Oak Rd, Apt 4", "PO Box 771"]
)
def test_street_addresses(text: str) -> None:
    assert "street_address" in categories(f"moved to {text}")


def test_a_number_before_an_ordinary_word_is_not_an_address() -> None:
    assert label("3 results") == "3 results"


# -- names ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Patient Firstname Lastname", "Patient [REDACTED:name]"),
        ("daughter: Anouk Vries", "daughter: [REDACTED:name]"),
        ("Dr. Okonkwo", "Dr. [REDACTED:name]"),
        ("olivia brennan", "[REDACTED:name]"),
        ("Brennan, Olivia", "[REDACTED:name]"),
    ],
)
def test_names_by_given_name_honorific_or_role(text: str, expected: str) -> None:
    assert label(text, key="caption") == expected


@pytest.mark.parametrize("text", ["Chat with a nurse", "Sign in with Apple", "internal medicine"])
def test_labels_without_names_pass(text: str) -> None:
    assert label(text, key="caption") == text


# -- opaque tokens and embedded pairs -------------------------------------------------------------
@pytest.mark.parametrize(
    "token", ["2T1BURHE9JC074512", "5RQ3DU3DT51", "24-CH-009817", "ab12cd34ef56ab78"]
)
def test_opaque_tokens(token: str) -> None:
    assert label(f"id {token}") == "id [REDACTED:id_number]"


@pytest.mark.parametrize("text", ["iPhone15,3", "Win64", "release-2026-11-hotfix", "x86_64"])
def test_product_words_and_slugs_pass(text: str) -> None:
    assert label(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"lastName":"Okafor","plan":"gold"}', '{"lastName":"[REDACTED:name]","plan":"gold"}'),
        ("zip=60614&radius=10", "zip=[REDACTED:zip_code]&radius=10"),
        ("Postal code: M5V 3L9", "Postal code: [REDACTED:zip_code]"),
        ("Age at intake: 91", "Age at intake: [REDACTED:age_over_89]"),
    ],
)
def test_values_under_embedded_sensitive_keys(text: str, expected: str) -> None:
    assert label(text, key="blob") == expected


def test_custom_pattern_detector() -> None:
    sanitizer = Sanitizer(custom_patterns={"clinic_mrn": r"CL-\d{6}"})
    assert sanitizer.scrub_value("chart CL-123456")[0] == "chart [REDACTED:clinic_mrn]"


# -- gates never hide a pattern ------------------------------------------------------------------
GATE_SAMPLES = [
    "jane@example.org", "ana at example dot org", "123-45-6789", "(802) 232-8775",
    "203.0.113.7", "00:1a:2b:3c:4d:5e", "43.6532, -79.3832", "03/14/1950", "March 14",
    "93-year-old", "ninety-three years", "42 Elm Street", "Hauptstraße 12a", "10115 Berlin",
    "ul. Marszałkowska 84/92", "PO Box 771", "Dr. Okafor", "olivia brennan", "J. R. Lind",
    "2T1BURHE9JC074512", "/rooms/88231", '{"lastName":"Okafor"}', "MRN 12345",
]  # fmt: skip


@pytest.mark.parametrize("text", GATE_SAMPLES)
def test_every_detector_that_finds_something_passes_its_own_gate(text: str) -> None:
    from unified_health.analytics import ScanView
    from unified_health.analytics._scrub.detectors import default_detectors

    for free_text in (False, True):
        view = ScanView(text, free_text=free_text)
        for detector in default_detectors():
            if list(detector.find(view)):
                assert detector.applies(view), (type(detector).__name__, text)


@pytest.mark.parametrize(
    ("text", "category"),
    [("Hauptstraße 12a", "street_address"), ("10115 Berlin", "street_address"),
     ("Via Roma 3", "street_address"), ("91 Jahre", "age_over_89"),
     ("noventa y cuatro años", "age_over_89"), ("Hi Conceição", "name"),
     ("J. R. Hollingsworth", "name"), ("17 września 1962", "personal_date")],
)  # fmt: skip
def test_forms_in_other_languages(text: str, category: str) -> None:
    assert category in categories(f"note: {text}")
