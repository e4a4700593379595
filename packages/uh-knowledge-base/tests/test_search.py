"""Search behaviour a help-centre user relies on: typos, prefixes, synonyms, ranking, facets."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from unified_health.knowledge_base import InvalidInputError
from unified_health.knowledge_base._search import SearchIndex, clean_query


def _index() -> SearchIndex:
    index = SearchIndex("en")
    docs = [
        ("en/refill", "Requesting a prescription refill", ("pharmacy", "rx"), ("Steps",),
         "Open Prescriptions and choose Request refill. Your pharmacy is told.", "prescriptions"),
        ("en/video", "Preparing for a video visit", ("camera", "microphone"), ("Test your camera",),
         "Join from the link in your reminder. Allow the browser to use the camera.", "visits"),
        ("en/password", "Resetting your password", ("login", "account"), ("Forgot password",),
         "Choose Forgot password on the sign in page and follow the e-mail.", "accounts"),
        ("en/bill", "Paying a bill online", ("payment", "card"), ("Payment methods",),
         "You can pay your statement by card. Insurance is billed first.", "billing"),
        ("en/insurance", "Updating your insurance card", ("coverage",), ("Photos",),
         "Take a photo of the front and back of your card.", "billing"),
        ("en/labs", "Reading your lab results", ("tests",), ("Ranges",),
         "Results appear after your doctor reviews them.", "results"),
    ]  # fmt: skip
    for key, title, tags, headings, body, category in docs:
        index.upsert(key, title=title, tags=tags, headings=headings, body=body, category=category)
    return index


def _top(index: SearchIndex, query: str) -> str | None:
    hits, _, _ = index.search(query)
    return hits[0].id if hits else None


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("perscription refil", "en/refill"),  # transposition and a missing letter
        ("pasword", "en/password"),
        ("insurence card", "en/insurance"),
        ("vidoe visit", "en/video"),
        ("presc", "en/refill"),  # the word being typed
        ("how do i reset my passw", "en/password"),
        ("telehealth", "en/video"),  # synonym: video visit
        ("rx", "en/refill"),
        ("cant sign in", "en/password"),
        ("PAYING A BILL", "en/bill"),
        ("lab results", "en/labs"),
    ],
)
def test_the_expected_article_comes_first(query: str, expected: str) -> None:
    assert _top(_index(), query) == expected


def test_short_words_get_no_typo_budget() -> None:
    index = _index()
    assert index.search("bil ")[1] == 0 or _top(index, "bil ") != "en/refill"
    assert index.search("zzz")[1] == 0


def test_a_title_match_beats_a_body_match() -> None:
    hits, _, _ = _index().search("insurance")
    assert [hit.id for hit in hits[:2]] == ["en/insurance", "en/bill"]


def test_all_words_beat_some_words() -> None:
    hits, _, _ = _index().search("camera card")
    assert hits[0].id in {"en/video", "en/insurance"}
    hits, _, _ = _index().search("photo card")
    assert hits[0].id == "en/insurance"


def test_accents_fold_in_spanish() -> None:
    index = SearchIndex("es")
    index.upsert("es/receta", title="Renovar una receta médica", tags=("farmacia",), headings=(),
                 body="Abra Recetas.", category="recetas")  # fmt: skip
    assert _top(index, "medica") == "es/receta"
    assert _top(index, "recetas") == "es/receta"
    assert _top(index, "prescripción") == "es/receta"  # Spanish synonym


def test_stop_words_alone_still_search() -> None:
    index = SearchIndex("en")
    index.upsert("en/a", title="What to do", tags=(), headings=(), body="", category="c")
    assert _top(index, "what to do") == "en/a"


def test_filters_keep_facets_of_every_category() -> None:
    hits, total, facets = _index().search("card camera", categories={"billing"})
    assert {hit.category for hit in hits} == {"billing"}
    assert total == 2
    assert {(f.category, f.count) for f in facets} >= {("billing", 2), ("visits", 1)}


def test_pagination_walks_every_hit_once() -> None:
    index = SearchIndex("en")
    for n in range(25):
        index.upsert(f"en/a{n}", title=f"Refill guide {n}", tags=(), headings=(), body="refill",
                     category="rx")  # fmt: skip
    seen: list[str] = []
    for page in range(3):
        hits, total, _ = index.search("refill", offset=page * 10, limit=10)
        assert total == 25
        seen += [hit.id for hit in hits]
    assert len(seen) == len(set(seen)) == 25


def test_updates_and_removals_apply_without_a_rebuild() -> None:
    index = _index()
    index.upsert("en/labs", title="Your test results", tags=(), headings=(), body="",
                 category="results")  # fmt: skip
    assert _top(index, "ranges") is None
    assert _top(index, "test results") == "en/labs"
    assert index.remove("en/labs") is True
    assert index.search("results")[0] == [] or all(
        hit.id != "en/labs" for hit in index.search("results")[0]
    )
    assert index.remove("en/labs") is False
    assert "en/labs" not in index


def test_removing_the_only_document_with_a_word_removes_it_from_typo_matching() -> None:
    index = _index()
    index.remove("en/labs")
    assert index.search("reuslts")[1] == 0 or all(
        hit.id != "en/labs" for hit in index.search("reuslts")[0]
    )


def test_highlights_are_escaped_html_with_marks() -> None:
    index = SearchIndex("en")
    index.upsert("en/x", title="<script>alert(1)</script> refill", tags=(), headings=(),
                 body="Ask for a refill & more.", category="rx")  # fmt: skip
    hit = index.search("refill")[0][0]
    assert hit.title_html == "&lt;script&gt;alert(1)&lt;/script&gt; <mark>refill</mark>"
    assert hit.snippet_html == "Ask for a <mark>refill</mark> &amp; more."


def test_snippet_is_the_sentence_with_most_matches() -> None:
    hit = _index().search("browser camera")[0][0]
    assert hit.snippet_html == "Allow the <mark>browser</mark> to use the <mark>camera</mark>."


def test_did_you_mean_offers_a_correction_that_matches() -> None:
    index = _index()
    assert index.search("xnsuranse")[1] == 0
    assert index.suggest("xnsuranse") == "insurance"
    assert index.suggest("qqqqqq") is None
    assert index.suggest("") is None


def test_popularity_boost_breaks_near_ties() -> None:
    index = SearchIndex("en")
    for key in ("en/a", "en/b"):
        index.upsert(key, title="Refill help", tags=(), headings=(), body="", category="rx")
    index.set_popularity("en/b", 500)
    assert index.search("refill", popularity_boost=0.2)[0][0].id == "en/b"


def test_user_synonyms_join_the_defaults() -> None:
    index = _index()
    assert _top(index, "flu jab") is None
    index.add_synonyms(["flu jab", "pharmacy"])
    assert _top(index, "flu jab") == "en/refill"


@pytest.mark.parametrize("group", [["only"], "rx, prescription", [1, 2], ["same", "Same"]])
def test_bad_synonym_groups_are_refused(group: object) -> None:
    with pytest.raises(InvalidInputError) as caught:
        SearchIndex("en").add_synonyms(group)  # type: ignore[arg-type]
    assert caught.value.field == "synonyms"


@pytest.mark.parametrize("query", ["", "   ", "\x00\x01", "?!", "x" * 10_000, "refill " * 2000])
def test_degenerate_queries_return_safely(query: str) -> None:
    hits, total, _ = _index().search(query)
    assert total == len(hits) or total > len(hits)


@pytest.mark.parametrize("query", [b"refill", None, 3, ["refill"]])
def test_a_query_that_is_not_text_is_refused_by_name(query: object) -> None:
    with pytest.raises(InvalidInputError) as caught:
        clean_query(query)
    assert caught.value.field == "query"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_text_query_returns_without_error(query: str) -> None:
    hits, total, facets = _index().search(query)
    assert total >= len(hits)
    assert sum(f.count for f in facets) == total
