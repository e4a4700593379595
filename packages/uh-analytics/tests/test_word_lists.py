"""The detectors' word lists are data: sorted, unique, lower case, single words of general
vocabulary (no phrases), and the key table names only known categories."""

from __future__ import annotations

from importlib import resources

import pytest

from unified_health.analytics import RedactionCategory
from unified_health.analytics._scrub._words import read_lines

WORDS = resources.files("unified_health.analytics._scrub").joinpath("words")
LISTS = sorted(p.name for p in WORDS.iterdir() if p.name.endswith(".txt"))


def test_every_list_is_there() -> None:
    assert set(LISTS) >= {
        "business_objects.txt", "email_tlds.txt", "file_extensions.txt", "given_names.txt",
        "honorifics.txt", "months.txt", "person_name_qualifiers.txt", "person_roles.txt",
        "stop_words.txt", "street_suffixes.txt",
    }  # fmt: skip


@pytest.mark.parametrize("name", [*LISTS, "sensitive_keys.tsv"])
def test_sorted_unique_lower_case_single_words(name: str) -> None:
    lines = read_lines(name)
    assert lines, name
    assert lines == sorted(lines), f"{name} is not sorted"
    assert len(lines) == len(set(lines)), f"{name} has duplicates"
    for line in lines:
        entry = line.split("\t")[0]
        assert entry == entry.lower().strip(), (name, entry)
        assert " " not in entry, f"{name} holds a phrase: {entry!r}"
        assert entry.replace("-", "").isalnum(), (name, entry)


def test_the_key_table_names_known_categories() -> None:
    known = {c.value for c in RedactionCategory}
    for line in read_lines("sensitive_keys.tsv"):
        word, category = line.split("\t")
        assert category in known, (word, category)


def test_given_names_are_not_common_words() -> None:
    names = set(read_lines("given_names.txt"))
    common = set(read_lines("stop_words.txt")) | set(read_lines("months.txt"))
    assert not names & common
