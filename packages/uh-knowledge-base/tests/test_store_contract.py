"""The store contracts, run against every implementation.

`ArticleStore`: in memory, on real Redis and on real PostgreSQL. `ActivityStore` and `Cache`: in
memory and on real Redis.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
import redis

from unified_health.knowledge_base import (
    ActivityStore,
    Article,
    ArticleStore,
    Cache,
    Category,
    ConflictError,
    FeedbackComment,
    InMemoryActivityStore,
    InMemoryArticleStore,
    InMemoryCache,
    InvalidInputError,
    PostgresArticleStore,
    RedisActivityStore,
    RedisArticleStore,
    RedisCache,
)
from unified_health.knowledge_base.testing import FakeClock


def _article(slug: str = "paying-a-bill", **changes: Any) -> Article:
    fields: dict[str, Any] = {
        "slug": slug,
        "title": "Paying a bill",
        "category": "billing",
        "tags": ("payment",),
        "updated": date(2026, 1, 5),
        "body": "## Steps\n\nOpen **Billing**.",
    }
    fields.update(changes)
    return Article(**fields)


@pytest.fixture(params=["memory", "redis", "postgres"])
def store(request: pytest.FixtureRequest) -> Iterator[ArticleStore]:
    if request.param == "memory":
        yield InMemoryArticleStore()
    elif request.param == "redis":
        client: redis.Redis = request.getfixturevalue("redis_client")
        prefix: str = request.getfixturevalue("redis_prefix")
        with RedisArticleStore(client, prefix=prefix) as redis_store:
            yield redis_store
    else:
        connection = request.getfixturevalue("postgres_connection")
        postgres_store = PostgresArticleStore(connection)
        postgres_store.migrate()
        postgres_store.migrate()  # idempotent
        yield postgres_store


@pytest.fixture(params=["memory", "redis"])
def activity(request: pytest.FixtureRequest) -> Iterator[ActivityStore]:
    if request.param == "memory":
        yield InMemoryActivityStore()
        return
    client: redis.Redis = request.getfixturevalue("redis_client")
    prefix: str = request.getfixturevalue("redis_prefix")
    with RedisActivityStore(client, prefix=prefix) as redis_activity:
        yield redis_activity


@pytest.fixture(params=["memory", "redis"])
def cache(request: pytest.FixtureRequest) -> Iterator[Cache]:
    if request.param == "memory":
        yield InMemoryCache()
        return
    client: redis.Redis = request.getfixturevalue("redis_client")
    prefix: str = request.getfixturevalue("redis_prefix")
    with RedisCache(client, prefix=prefix) as redis_cache:
        yield redis_cache


# ---------------------------------------------------------------- ArticleStore


def test_a_new_article_starts_at_version_one_and_reads_back_equal(store: ArticleStore) -> None:
    article = _article(tags=("payment", "card"), translation_of="paying")
    record = store.put(article, expected_version=0)
    assert record.version == 1
    found = store.get("en/paying-a-bill")
    assert found is not None
    assert found == record
    assert found.article == article


def test_each_write_adds_one_to_the_version(store: ArticleStore) -> None:
    store.put(_article())
    store.put(_article(title="Pay a bill"))
    third = store.put(_article(title="Paying bills"), expected_version=2)
    assert third.version == 3
    found = store.get("en/paying-a-bill")
    assert found is not None
    assert (found.version, found.article.title) == (3, "Paying bills")


def test_a_duplicate_slug_or_stale_version_is_a_conflict_and_writes_nothing(
    store: ArticleStore,
) -> None:
    store.put(_article())
    with pytest.raises(ConflictError, match="exists"):
        store.put(_article(title="Other"), expected_version=0)
    with pytest.raises(ConflictError, match="version 1"):
        store.put(_article(title="Other"), expected_version=4)
    with pytest.raises(ConflictError):
        store.delete("en/paying-a-bill", expected_version=5)
    found = store.get("en/paying-a-bill")
    assert found is not None
    assert (found.version, found.article.title) == (1, "Paying a bill")


def test_the_same_slug_in_another_locale_is_another_article(store: ArticleStore) -> None:
    store.put(_article(), expected_version=0)
    store.put(_article(locale="es", title="Pagar una factura"), expected_version=0)
    assert {r.article.id for r in store.list_articles()} == {"en/paying-a-bill", "es/paying-a-bill"}


def test_delete_is_idempotent(store: ArticleStore) -> None:
    store.put(_article())
    assert store.delete("en/paying-a-bill", expected_version=1) is True
    assert store.delete("en/paying-a-bill") is False
    assert store.get("en/paying-a-bill") is None
    assert store.put(_article(), expected_version=0).version == 1


def test_list_articles_yields_each_article_once(store: ArticleStore) -> None:
    for index in range(1100):
        store.put(_article(f"article-{index}"))
    ids = [record.article.id for record in store.list_articles()]
    assert sorted(ids) == sorted(f"en/article-{index}" for index in range(1100))


def test_categories_round_trip(store: ArticleStore) -> None:
    parent = Category(slug="billing", title="Billing", order=2, titles={"es": "Facturación"})
    child = Category(slug="insurance", title="Insurance", parent="billing")
    store.put_category(parent)
    store.put_category(child)
    store.put_category(child.model_copy(update={"order": 3}))
    assert sorted(store.list_categories(), key=lambda c: c.slug) == [
        parent,
        child.model_copy(update={"order": 3}),
    ]
    assert store.delete_category("insurance") is True
    assert store.delete_category("insurance") is False
    assert store.list_categories() == [parent]


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda s: s.put({"slug": "x"}), "article"),
        (lambda s: s.put(_article(), expected_version=-1), "expected_version"),
        (lambda s: s.put(_article(), expected_version=True), "expected_version"),
        (lambda s: s.get("paying-a-bill"), "article_id"),
        (lambda s: s.get(7), "article_id"),
        (lambda s: s.delete("en/Bad Id"), "article_id"),
        (lambda s: s.put_category({"slug": "x"}), "category"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(
    store: ArticleStore, call: Any, field: str
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        call(store)
    assert caught.value.field == field
    assert list(store.list_articles()) == []


def test_concurrent_creates_of_one_article_have_one_winner(store: ArticleStore) -> None:
    outcomes: list[str] = []
    barrier = threading.Barrier(12)

    def create(worker: int) -> None:
        barrier.wait()
        try:
            store.put(_article(title=f"Writer {worker}"), expected_version=0)
            outcomes.append("won")
        except ConflictError:
            outcomes.append("lost")

    threads = [threading.Thread(target=create, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["lost"] * 11 + ["won"]


# ---------------------------------------------------------------- ActivityStore


def test_views_are_counted_per_article_per_day(activity: ActivityStore) -> None:
    day = date(2026, 1, 5)
    assert activity.add_view("en/a", day) == 1
    assert activity.add_view("en/a", day) == 2
    activity.add_view("en/a", date(2026, 1, 6))
    activity.add_view("en/b", date(2026, 1, 7))
    assert activity.views_between(day, date(2026, 1, 6)) == {"en/a": 3}
    assert activity.views_between(day, date(2026, 1, 7)) == {"en/a": 3, "en/b": 1}
    assert activity.views_between(date(2026, 2, 1), date(2026, 2, 3)) == {}


def test_concurrent_views_are_all_counted(activity: ActivityStore) -> None:
    day = date(2026, 1, 5)

    def read() -> None:
        for _ in range(50):
            activity.add_view("en/a", day)

    threads = [threading.Thread(target=read) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert activity.views_between(day, day) == {"en/a": 400}


def test_searches_no_results_and_clicks_are_counted(activity: ActivityStore) -> None:
    activity.add_search("en", "refill", found=True)
    activity.add_search("en", "refill", found=True)
    activity.add_search("en", "parking", found=False)
    activity.add_click("en", "refill")
    activity.add_search("es", "receta", found=True)
    stats = {s.query: (s.searches, s.no_results, s.clicks) for s in activity.search_stats("en")}
    assert stats == {"refill": (2, 0, 1), "parking": (1, 1, 0)}


def test_one_vote_per_visitor_which_they_can_change(activity: ActivityStore) -> None:
    activity.set_vote("en/a", "visitor-1", True)
    activity.set_vote("en/a", "visitor-2", True)
    activity.set_vote("en/a", "visitor-1", False)
    activity.set_vote("en/a", None, False)
    activity.set_vote("en/a", None, True)
    activity.set_vote("en/b", None, True)
    assert activity.votes() == {"en/a": (2, 2), "en/b": (1, 0)}


def test_comments_are_kept_newest_first_and_capped(activity: ActivityStore) -> None:
    at = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    for n in range(205):
        activity.add_comment(
            FeedbackComment(article_id="en/a", helpful=n % 2 == 0, comment=f"note {n}", at=at)
        )
    newest = activity.comments("en/a", limit=2)
    assert [c.comment for c in newest] == ["note 204", "note 203"]
    assert len(activity.comments("en/a", limit=500)) == 200
    assert activity.comments("en/b") == []


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda a: a.add_view("a", date(2026, 1, 5)), "article_id"),
        (lambda a: a.add_view("en/a", datetime(2026, 1, 5, tzinfo=UTC)), "day"),
        (lambda a: a.add_view("en/a", "2026-01-05"), "day"),
        (lambda a: a.set_vote("en/a", "v", "yes"), "helpful"),
        (lambda a: a.set_vote("en/a", "v", 1), "helpful"),
        (lambda a: a.set_vote("en/a", "v" * 201, True), "visitor_id"),
        (lambda a: a.add_search("en", b"refill", found=True), "query"),
    ],
)
def test_activity_bad_input_names_the_field(activity: ActivityStore, call: Any, field: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        call(activity)
    assert caught.value.field == field
    assert activity.votes() == {}


# ---------------------------------------------------------------- Cache


def test_cache_keeps_values_and_counts(cache: Cache) -> None:
    assert cache.get("html:en/a") is None
    cache.set("html:en/a", "<p>é</p>", ttl_seconds=60)
    assert cache.get("html:en/a") == "<p>é</p>"
    assert [cache.incr("generation") for _ in range(3)] == [1, 2, 3]
    assert cache.get("generation") == "3"


@pytest.mark.parametrize("ttl", [0, -1, True, "60"])
def test_cache_refuses_a_bad_ttl(cache: Cache, ttl: object) -> None:
    with pytest.raises(InvalidInputError) as caught:
        cache.set("k", "v", ttl_seconds=ttl)  # type: ignore[arg-type]
    assert caught.value.field == "ttl_seconds"
    assert cache.get("k") is None


def test_in_memory_cache_expires_by_its_clock_and_evicts_the_least_recent() -> None:
    clock = FakeClock()
    cache = InMemoryCache(max_entries=2, clock=clock)
    cache.set("a", "1", ttl_seconds=10)
    cache.set("b", "2", ttl_seconds=100)
    clock.advance(11)
    assert (cache.get("a"), cache.get("b")) == (None, "2")
    cache.set("c", "3", ttl_seconds=100)
    cache.set("d", "4", ttl_seconds=100)
    assert (cache.get("b"), cache.get("c"), cache.get("d")) == (None, "3", "4")
