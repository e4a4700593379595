"""KnowledgeBaseService as a host uses it: the issue's usage, locales, categories, analytics."""

from __future__ import annotations

import socket
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis

from unified_health.knowledge_base import (
    Article,
    Category,
    ConflictError,
    InMemoryArticleStore,
    InMemoryCache,
    InvalidInputError,
    KnowledgeBaseService,
    NotFoundError,
    PostgresArticleStore,
    RedisActivityStore,
    RedisArticleStore,
    RedisCache,
)
from unified_health.knowledge_base.testing import FakeClock, capture_logs


@pytest.fixture(scope="module")
def loaded() -> KnowledgeBaseService:
    kb = KnowledgeBaseService(storage=InMemoryArticleStore(), cache=InMemoryCache())
    kb.load_default_articles()
    return kb


def _fresh(**kwargs: Any) -> KnowledgeBaseService:
    kb = KnowledgeBaseService(storage=InMemoryArticleStore(), cache=InMemoryCache(), **kwargs)
    kb.load_default_articles()
    return kb


def test_the_usage_from_the_issue_runs() -> None:
    kb = KnowledgeBaseService(storage=InMemoryArticleStore(), cache=InMemoryCache())
    kb.load_default_articles()
    results = kb.search(query="telehealth", locale="en")
    assert results.hits
    assert "video" in results.hits[0].title.lower()
    assert all(hit.snippet_html for hit in results.hits)
    article = kb.get_article("preparing-for-a-video-visit", locale="en")
    assert '<h2 id="check-your-device">Check your device</h2>' in article.html
    assert [entry.anchor for entry in article.toc][:2] == [
        "check-your-device",
        "run-the-device-test",
    ]
    vote = kb.record_feedback(article.id, helpful=False, comment="video would not start")
    assert (vote.helpful, vote.not_helpful, vote.ratio) == (0, 1, 0.0)
    assert kb.top_articles()[0].article_id == "en/preparing-for-a-video-visit"


def test_default_articles_are_complete_and_load_idempotently() -> None:
    kb = KnowledgeBaseService()
    assert kb.load_default_articles() == len(kb.list_articles())
    assert kb.load_default_articles() == 0
    english = kb.list_articles(locale="en")
    spanish = kb.list_articles(locale="es")
    assert len(english) >= 30
    assert len(spanish) >= 3
    english_slugs = {a.slug for a in english}
    assert all(a.translation_of in english_slugs for a in spanish)
    assert kb.broken_links() == []
    leaf_categories = {c.slug for c in kb.list_categories()} - {"visits"}
    assert leaf_categories <= {a.category for a in english}
    for article in english:
        html = kb.get_article(article.slug, record_view=False).html
        assert "<script" not in html
        assert "article:" not in html


@pytest.mark.parametrize(
    ("query", "slug"),
    [
        ("perscription refill", "requesting-a-prescription-refill"),
        ("cant log in", "trouble-signing-in"),
        ("forgot pasword", "resetting-your-password"),
        ("rx refill", "requesting-a-prescription-refill"),
        ("video visit camera not working", "fixing-camera-and-microphone-problems"),
        ("how do i pay my bill", "paying-your-bill"),
        ("insurence card", "updating-your-insurance-information"),
        ("hipaa", "your-privacy-rights-under-hipaa"),
        ("screen reader", "using-the-portal-with-a-screen-reader"),
        ("lab resul", "viewing-lab-results"),
    ],
)
def test_real_questions_find_the_right_default_article(
    loaded: KnowledgeBaseService, query: str, slug: str
) -> None:
    assert loaded.search(query).hits[0].slug == slug


def test_spanish_search_and_reads_use_translations_and_fall_back(
    loaded: KnowledgeBaseService,
) -> None:
    results = loaded.search("contraseña", locale="es")
    assert (results.locale, results.fell_back) == ("es", False)
    assert results.hits[0].slug == "restablecer-su-contrasena"
    view = loaded.get_article("preparing-for-a-video-visit", locale="es", record_view=False)
    assert (view.article.locale, view.fell_back) == ("es", False)
    view = loaded.get_article("trouble-signing-in", locale="es", record_view=False)
    assert (view.article.locale, view.fell_back, view.requested_locale) == ("en", True, "es")
    english_only = loaded.search("screen reader", locale="es")
    assert (english_only.locale, english_only.fell_back) == ("en", True)


@pytest.mark.parametrize("locale", ["fr", "xx-yy", "<script>", ""])
def test_an_unknown_locale_falls_back_to_the_default_and_says_so(
    loaded: KnowledgeBaseService, locale: str
) -> None:
    results = loaded.search("refill", locale=locale)
    assert (results.locale, results.requested_locale, results.fell_back) == ("en", locale, True)
    assert results.total > 0


@pytest.mark.parametrize("query", ["", "   \t\n", "\x00\x07", "a" * 10_000, "🙂" * 300])
def test_degenerate_queries_give_a_safe_result(loaded: KnowledgeBaseService, query: str) -> None:
    results = loaded.search(query)
    assert results.total >= 0
    assert len(results.query) <= 200


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"query": b"refill"}, "query"),
        ({"query": None}, "query"),
        ({"query": "refill", "page": 0}, "page"),
        ({"query": "refill", "page": "2"}, "page"),
        ({"query": "refill", "per_page": 101}, "per_page"),
        ({"query": "refill", "per_page": True}, "per_page"),
        ({"query": "refill", "locale": 3}, "locale"),
        ({"query": "refill", "category": ""}, "category"),
    ],
)
def test_wrong_search_arguments_name_the_field(
    loaded: KnowledgeBaseService, kwargs: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        loaded.search(**kwargs)
    assert caught.value.field == field


def test_category_filter_includes_subcategories_and_facets_count_all(
    loaded: KnowledgeBaseService,
) -> None:
    everything = loaded.search("video visit")
    visits = loaded.search("video visit", category="visits")
    assert {hit.category for hit in visits.hits} <= {"visits", "video-visits", "appointments"}
    assert visits.facets == everything.facets
    assert loaded.search("video visit", category="no-such-category").total == 0


def test_pages_walk_the_results(loaded: KnowledgeBaseService) -> None:
    first = loaded.search("account", per_page=3)
    second = loaded.search("account", per_page=3, page=2)
    assert first.total == second.total > 3
    assert not {h.id for h in first.hits} & {h.id for h in second.hits}


def test_did_you_mean_when_nothing_matches(loaded: KnowledgeBaseService) -> None:
    results = loaded.search("insrnc")
    assert results.total == 0
    assert results.did_you_mean == "insurance"


def test_writes_update_search_without_a_rebuild_and_invalidate_the_cache() -> None:
    kb = _fresh()
    assert all(hit.slug != "parking" for hit in kb.search("parking validation").hits)
    record = kb.create_article(
        Article(slug="parking", title="Parking validation at the clinic", category="visits",
                updated=date(2026, 1, 5), body="Bring your ticket to the front desk.")
    )  # fmt: skip
    assert kb.search("parking validation").hits[0].slug == "parking"
    html = kb.get_article("parking").html
    kb.upsert_article(
        record.article.model_copy(update={"body": "Scan your ticket at the kiosk."}),
        expected_version=1,
    )
    assert kb.get_article("parking").html != html
    assert "kiosk" in kb.search("kiosk").hits[0].snippet_html
    kb.unpublish("en/parking")
    assert all(hit.slug != "parking" for hit in kb.search("parking validation").hits)
    with pytest.raises(NotFoundError):
        kb.get_article("parking")
    assert kb.delete_article("en/parking") is True
    assert kb.delete_article("en/parking") is False


def test_a_duplicate_slug_is_a_conflict_and_changes_nothing() -> None:
    kb = _fresh()
    before = kb.get_record("en/paying-your-bill")
    with pytest.raises(ConflictError):
        kb.create_article(before.article.model_copy(update={"title": "Another"}))
    assert kb.get_record("en/paying-your-bill") == before
    assert kb.search("paying your bill").hits[0].title == before.article.title


def test_broken_links_and_unknown_categories_are_refused_on_write() -> None:
    kb = _fresh()
    article = Article(slug="new", title="New", category="billing", updated=date(2026, 1, 5),
                      body="See [this](article:does-not-exist).")  # fmt: skip
    with pytest.raises(InvalidInputError) as caught:
        kb.create_article(article)
    assert caught.value.field == "article.body"
    with pytest.raises(InvalidInputError) as caught:
        kb.create_article(article.model_copy(update={"body": "", "category": "nope"}))
    assert caught.value.field == "article.category"
    assert kb.search("new").total == 0 or all(h.slug != "new" for h in kb.search("new").hits)


def test_unpublishing_a_target_shows_up_in_the_broken_link_report() -> None:
    kb = _fresh()
    kb.unpublish("en/trouble-signing-in")
    broken = {(b.article_id, b.target) for b in kb.broken_links()}
    assert ("en/resetting-your-password", "trouble-signing-in") in broken


def test_hostile_markdown_is_stored_but_served_inert() -> None:
    kb = _fresh()
    kb.import_markdown(
        "---\ntitle: Hostile\nslug: hostile\ncategory: billing\nupdated: 2026-01-05\n---\n"
        "<script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)>"
    )
    assert kb.get_article("hostile").html == (
        '<p>&lt;script&gt;alert(1)&lt;/script&gt; <a rel="noopener noreferrer">x</a> '
        "&lt;img src=x onerror=alert(1)&gt;</p>"
    )


def test_category_hierarchy_ordering_breadcrumbs_and_cycles() -> None:
    kb = _fresh()
    tree = kb.category_tree(locale="es")
    assert [node.slug for node in tree][:3] == ["getting-started", "visits", "prescriptions"]
    visits = tree[1]
    assert visits.title == "Consultas y citas"
    assert [c.slug for c in visits.children] == ["video-visits", "appointments"]
    english = {n.slug: n for n in kb.category_tree()}
    assert english["visits"].count == sum(c.count for c in english["visits"].children) > 0
    assert [c.slug for c in kb.breadcrumbs("insurance")] == ["billing", "insurance"]
    assert kb.breadcrumbs("unknown") == ()
    with pytest.raises(InvalidInputError) as caught:
        kb.add_category(Category(slug="billing", title="Billing", parent="insurance"))
    assert caught.value.rule == "would make a cycle"
    with pytest.raises(InvalidInputError):
        kb.add_category(Category(slug="self", title="Self", parent="self"))
    assert [c.slug for c in kb.breadcrumbs("insurance")] == ["billing", "insurance"]


def test_views_per_day_and_top_articles_over_a_period() -> None:
    clock = FakeClock()
    kb = _fresh(clock=clock)
    kb.get_article("paying-your-bill")
    clock.advance(timedelta(days=10).total_seconds())
    kb.get_article("trouble-signing-in")
    kb.get_article("trouble-signing-in")
    kb.get_article("paying-your-bill", record_view=False)
    assert [(v.article_id, v.views) for v in kb.top_articles(days=30)] == [
        ("en/trouble-signing-in", 2),
        ("en/paying-your-bill", 1),
    ]
    assert [v.article_id for v in kb.top_articles(days=1)] == ["en/trouble-signing-in"]


def test_search_report_content_gaps_and_click_through() -> None:
    kb = _fresh()
    kb.search("refill")
    kb.search("Refill ")
    kb.search("refill", page=2)  # later pages are not new searches
    kb.search("covid booster qqqq zzzz")
    kb.record_click("refill", "en/requesting-a-prescription-refill")
    report = {s.query: (s.searches, s.no_results, s.clicks) for s in kb.search_report()}
    assert report["refill"] == (2, 0, 1)
    assert [gap.query for gap in kb.content_gaps()] == ["covid booster qqqq zzzz"]


def test_feedback_one_vote_per_visitor_ratio_and_least_helpful() -> None:
    kb = _fresh()
    kb.record_feedback("en/paying-your-bill", True, visitor_id="v1")
    kb.record_feedback("en/paying-your-bill", True, visitor_id="v2")
    changed = kb.record_feedback("en/paying-your-bill", False, visitor_id="v1")
    assert (changed.helpful, changed.not_helpful, changed.ratio) == (1, 1, 0.5)
    for n in range(3):
        kb.record_feedback("en/trouble-signing-in", False, visitor_id=f"v{n}",
                           comment="still locked out" if n == 0 else None)  # fmt: skip
    kb.record_feedback("en/trouble-signing-in", True, visitor_id="v9")
    worst = kb.least_helpful(min_votes=2)
    assert [(h.article_id, h.ratio) for h in worst] == [
        ("en/trouble-signing-in", 0.25),
        ("en/paying-your-bill", 0.5),
    ]
    assert [c.comment for c in kb.feedback_comments("en/trouble-signing-in")] == [
        "still locked out"
    ]


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "field"),
    [
        (("en/paying-your-bill", "yes"), {}, InvalidInputError, "helpful"),
        (("en/paying-your-bill", 1), {}, InvalidInputError, "helpful"),
        (("en/paying-your-bill", True), {"comment": "x" * 2001}, InvalidInputError, "comment"),
        (("en/paying-your-bill", True), {"visitor_id": ""}, InvalidInputError, "visitor_id"),
        (("paying-your-bill", True), {}, InvalidInputError, "article_id"),
        (("en/no-such-article", True), {}, NotFoundError, None),
    ],
)
def test_bad_feedback_is_refused_and_nothing_is_counted(
    args: tuple[Any, ...], kwargs: dict[str, Any], error: type[Exception], field: str | None
) -> None:
    kb = _fresh()
    with pytest.raises(error) as caught:
        kb.record_feedback(*args, **kwargs)
    if field is not None:
        assert getattr(caught.value, "field", None) == field
    assert kb.least_helpful(min_votes=1) == []


def test_comments_and_queries_never_reach_the_logs() -> None:
    kb = _fresh()
    with capture_logs() as events:
        kb.search("Jane Doe refill")
        kb.record_feedback("en/paying-your-bill", False, comment="Jane Doe 555-0100")
    assert "Jane" not in repr(events)


def test_import_and_export_a_folder(tmp_path: Path) -> None:
    kb = _fresh()
    assert kb.export_folder(tmp_path) == len(kb.list_articles())
    other = KnowledgeBaseService()
    assert other.import_folder(tmp_path) == len(kb.list_articles())
    assert other.list_articles() == kb.list_articles()
    assert other.search("perscription refill").hits[0].slug == "requesting-a-prescription-refill"


def test_a_folder_with_a_bad_file_imports_nothing(tmp_path: Path) -> None:
    good = (
        "---\ntitle: A\nslug: a\ncategory: billing\nupdated: 2026-01-05\n---\nSee [b](article:b)."
    )
    (tmp_path / "a.md").write_text(good)
    (tmp_path / "b.md").write_text(good.replace("slug: a", "slug: b").replace("(article:b)", ""))
    (tmp_path / "copy-of-a.md").write_text(good)
    kb = KnowledgeBaseService()
    with pytest.raises(InvalidInputError) as caught:
        kb.import_folder(tmp_path)
    assert caught.value.field == "copy-of-a.md"
    assert "duplicate slug" in caught.value.rule
    assert kb.list_articles() == []
    (tmp_path / "copy-of-a.md").unlink()
    (tmp_path / "broken.md").write_text(good.replace("slug: a", "slug: c").replace(":b)", ":z)"))
    with pytest.raises(InvalidInputError) as caught:
        kb.import_folder(tmp_path)
    assert caught.value.field == "broken.md.article.body"
    (tmp_path / "broken.md").write_text("---\ntitle: no end\n")
    with pytest.raises(InvalidInputError) as caught:
        kb.import_folder(tmp_path)
    assert caught.value.field == "broken.md.front_matter"
    assert kb.list_articles() == []
    (tmp_path / "broken.md").unlink()
    assert kb.import_folder(tmp_path) == 2


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"storage": "redis://x"}, "storage"),
        ({"cache": {}}, "cache"),
        ({"activity": object()}, "activity"),
        ({"default_locale": "fr"}, "default_locale"),
        ({"popularity_boost": 2}, "popularity_boost"),
        ({"popularity_boost": True}, "popularity_boost"),
        ({"cache_ttl_seconds": 0}, "cache_ttl_seconds"),
        ({"synonyms": {"en": [["only-one"]]}}, "synonyms"),
        ({"synonyms": {"fr": [["a", "b"]]}}, "synonyms"),
        ({"link_base": "help"}, "link_base"),
    ],
)
def test_bad_construction_names_the_field(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        KnowledgeBaseService(**kwargs)
    assert caught.value.field == field


def test_user_synonyms_extend_the_defaults() -> None:
    kb = _fresh(synonyms={"en": [["flu shot", "vaccine", "immunisation"]]})
    assert kb.search("flu shot").hits[0].slug == "requesting-a-copy-of-your-records"


def _dead_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_reads_survive_a_dead_activity_store_and_cache() -> None:
    dead = f"redis://127.0.0.1:{_dead_port()}/0"
    kb = KnowledgeBaseService(
        activity=RedisActivityStore.from_url(dead), cache=RedisCache.from_url(dead)
    )
    kb.load_default_articles()
    with capture_logs() as events:
        assert kb.search("refill").total > 0
        assert kb.get_article("paying-your-bill").article.slug == "paying-your-bill"
    names = {event["event"] for event in events}
    assert {"search_not_counted", "view_not_counted"} <= names


def test_from_env_without_redis_is_in_memory_and_with_redis_shares_state(
    redis_url: str, redis_prefix: str
) -> None:
    assert KnowledgeBaseService.from_env(environ={}).search("refill").total == 0
    with pytest.raises(InvalidInputError) as caught:
        KnowledgeBaseService.from_env(environ={"UH_KNOWLEDGE_BASE_DEFAULT_LOCALE": "fr"})
    assert caught.value.field == "UH_KNOWLEDGE_BASE_DEFAULT_LOCALE"
    env = {"UH_KNOWLEDGE_BASE_REDIS_URL": redis_url}
    with KnowledgeBaseService.from_env(environ=env, prefix=redis_prefix) as writer:
        assert writer.load_default_articles() > 30
        writer.get_article("paying-your-bill")
    with KnowledgeBaseService.from_env(environ=env, prefix=redis_prefix) as reader:
        assert reader.load_default_articles() == 0
        assert (
            reader.search("perscription refil").hits[0].slug == "requesting-a-prescription-refill"
        )
        assert reader.top_articles()[0].article_id == "en/paying-your-bill"


@pytest.fixture
def redis_backed(redis_client: redis.Redis, redis_prefix: str) -> KnowledgeBaseService:
    return KnowledgeBaseService(
        RedisArticleStore(redis_client, prefix=redis_prefix),
        RedisCache(redis_client, prefix=redis_prefix),
        activity=RedisActivityStore(redis_client, prefix=redis_prefix),
    )


def test_a_second_process_sees_writes_after_refresh(
    redis_backed: KnowledgeBaseService, redis_client: redis.Redis, redis_prefix: str
) -> None:
    redis_backed.load_default_articles()
    other = KnowledgeBaseService(
        RedisArticleStore(redis_client, prefix=redis_prefix),
        RedisCache(redis_client, prefix=redis_prefix),
    )
    assert other.search("kiosk").total == 0
    record = redis_backed.get_record("en/paying-your-bill")
    redis_backed.upsert_article(record.article.model_copy(update={"body": "Use the kiosk."}))
    other.refresh()
    assert other.search("kiosk").hits[0].slug == "paying-your-bill"


def test_the_service_over_postgres(postgres_connection: Any) -> None:
    store = PostgresArticleStore(postgres_connection)
    store.migrate()
    kb = KnowledgeBaseService(store, InMemoryCache())
    assert kb.load_default_articles() > 30
    again = KnowledgeBaseService(PostgresArticleStore(postgres_connection))
    assert again.load_default_articles() == 0
    assert again.search("cant log in").hits[0].slug == "trouble-signing-in"
