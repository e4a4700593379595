"""The in-memory stores and cache: the embedded defaults, thread-safe, for one process."""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from collections.abc import Iterator
from datetime import date, timedelta
from types import TracebackType

from unified_health.knowledge_base._clock import Clock, SystemClock
from unified_health.knowledge_base._errors import InvalidInputError
from unified_health.knowledge_base._models import (
    Article,
    ArticleRecord,
    Category,
    FeedbackComment,
    SearchStat,
)
from unified_health.knowledge_base.stores._codec import (
    check_article,
    check_article_id,
    check_category,
    check_expected_version,
    conflict,
    decode_article,
    decode_category,
    encode_article,
    encode_category,
)

__all__ = ["InMemoryActivityStore", "InMemoryArticleStore", "InMemoryCache"]

MAX_COMMENTS = 200


def check_text(value: object, field: str, max_length: int = 200) -> str:
    """Return ``value`` if it is a str of at most ``max_length`` characters, else raise."""
    if not isinstance(value, str) or len(value) > max_length:
        raise InvalidInputError(field, f"must be a str of at most {max_length} characters")
    return value


def check_day(value: object, field: str) -> date:
    """Return ``value`` if it is a date (not a datetime), else raise."""
    if not isinstance(value, date) or hasattr(value, "hour"):
        raise InvalidInputError(field, "must be a datetime.date")
    return value


class _Closing:
    def close(self) -> None:
        """Nothing to release."""

    def __enter__(self) -> _Closing:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class InMemoryArticleStore(_Closing):
    """An `ArticleStore` in dicts; articles are kept as JSON, so callers never share objects.

    Examples:
        >>> from datetime import date
        >>> from unified_health.knowledge_base import Article
        >>> store = InMemoryArticleStore()
        >>> a = Article(slug="a", title="A", category="c", updated=date(2026, 1, 5))
        >>> store.put(a, expected_version=0).version
        1
        >>> store.get("en/a").article.title
        'A'
        >>> store.get("en/missing") is None
        True
    """

    def __init__(self) -> None:
        self._articles: dict[str, tuple[int, str]] = {}
        self._categories: dict[str, str] = {}
        self._lock = threading.Lock()

    def get(self, article_id: str) -> ArticleRecord | None:
        """Return the stored article, or ``None``."""
        found = self._articles.get(check_article_id(article_id))
        return None if found is None else decode_article(found[1], found[0])

    def put(self, article: Article, *, expected_version: int | None = None) -> ArticleRecord:
        """Write the article if the version check passes.

        Raises:
            ConflictError: ``expected_version`` is not the current version (0: it exists).
            InvalidInputError: ``article`` is not an `Article` or the version is not an int.
        """
        check_article(article)
        expected = check_expected_version(expected_version)
        payload = encode_article(article)
        with self._lock:
            current = self._articles.get(article.id, (0, ""))[0]
            if expected is not None and expected != current:
                raise conflict(article.id, expected, current)
            self._articles[article.id] = (current + 1, payload)
        return ArticleRecord(article=article, version=current + 1)

    def delete(self, article_id: str, *, expected_version: int | None = None) -> bool:
        """Delete the article; ``True`` if it existed. Idempotent.

        Raises:
            ConflictError: ``expected_version`` is not the current version.
        """
        check_article_id(article_id)
        expected = check_expected_version(expected_version)
        with self._lock:
            current = self._articles.get(article_id, (0, ""))[0]
            if expected is not None and expected != current:
                raise conflict(article_id, expected, current)
            return self._articles.pop(article_id, None) is not None

    def list_articles(self) -> Iterator[ArticleRecord]:
        """Yield every article once (a snapshot taken when iteration starts)."""
        for version, payload in list(self._articles.values()):
            yield decode_article(payload, version)

    def put_category(self, category: Category) -> None:
        """Create or replace a category."""
        check_category(category)
        with self._lock:
            self._categories[category.slug] = encode_category(category)

    def delete_category(self, slug: str) -> bool:
        """Delete a category; ``True`` if it existed."""
        check_text(slug, "slug")
        with self._lock:
            return self._categories.pop(slug, None) is not None

    def list_categories(self) -> list[Category]:
        """Every category."""
        return [decode_category(payload) for payload in list(self._categories.values())]


class InMemoryActivityStore(_Closing):
    """An `ActivityStore` in dicts: views per day, search counters and votes.

    Examples:
        >>> from datetime import date
        >>> activity = InMemoryActivityStore()
        >>> activity.add_view("en/a", date(2026, 1, 5))
        1
        >>> activity.set_vote("en/a", "visitor-1", True)
        >>> activity.set_vote("en/a", "visitor-1", False)
        >>> activity.votes()
        {'en/a': (0, 1)}
    """

    def __init__(self) -> None:
        self._views: dict[date, dict[str, int]] = {}
        self._searches: dict[tuple[str, str], list[int]] = {}
        self._votes: dict[str, dict[str, bool]] = {}
        self._anonymous: dict[str, list[int]] = {}
        self._comments: dict[str, deque[FeedbackComment]] = {}
        self._lock = threading.Lock()

    def add_view(self, article_id: str, day: date) -> int:
        """Count one view of the article on ``day``; return that day's count."""
        check_article_id(article_id)
        check_day(day, "day")
        with self._lock:
            per_day = self._views.setdefault(day, {})
            per_day[article_id] = per_day.get(article_id, 0) + 1
            return per_day[article_id]

    def views_between(self, start: date, end: date) -> dict[str, int]:
        """Views per article from ``start`` to ``end``, both included."""
        check_day(start, "start")
        check_day(end, "end")
        totals: dict[str, int] = {}
        with self._lock:
            day = start
            while day <= end:
                for article_id, count in self._views.get(day, {}).items():
                    totals[article_id] = totals.get(article_id, 0) + count
                day += timedelta(days=1)
        return totals

    def add_search(self, locale: str, query: str, *, found: bool) -> None:
        """Count one search of a normalised query, and whether it found anything."""
        check_text(locale, "locale", 10)
        check_text(query, "query")
        with self._lock:
            counts = self._searches.setdefault((locale, query), [0, 0, 0])
            counts[0] += 1
            if not found:
                counts[1] += 1

    def add_click(self, locale: str, query: str) -> None:
        """Count one click from the results of a normalised query."""
        check_text(locale, "locale", 10)
        check_text(query, "query")
        with self._lock:
            self._searches.setdefault((locale, query), [0, 0, 0])[2] += 1

    def search_stats(self, locale: str) -> list[SearchStat]:
        """Counts per normalised query of a locale."""
        check_text(locale, "locale", 10)
        with self._lock:
            return [
                SearchStat(query=query, searches=c[0], no_results=c[1], clicks=c[2])
                for (where, query), c in self._searches.items()
                if where == locale
            ]

    def set_vote(self, article_id: str, visitor_id: str | None, helpful: bool) -> None:
        """Record a vote; a visitor's later vote replaces their earlier one."""
        check_article_id(article_id)
        if visitor_id is not None:
            check_text(visitor_id, "visitor_id")
        if not isinstance(helpful, bool):
            raise InvalidInputError("helpful", "must be a bool")
        with self._lock:
            if visitor_id is None:
                self._anonymous.setdefault(article_id, [0, 0])[0 if helpful else 1] += 1
            else:
                self._votes.setdefault(article_id, {})[visitor_id] = helpful

    def add_comment(self, comment: FeedbackComment) -> None:
        """Keep a comment (the newest 200 per article are kept)."""
        if not isinstance(comment, FeedbackComment):
            raise InvalidInputError("comment", "must be a FeedbackComment")
        with self._lock:
            self._comments.setdefault(comment.article_id, deque(maxlen=MAX_COMMENTS)).appendleft(
                comment
            )

    def votes(self) -> dict[str, tuple[int, int]]:
        """(helpful, not helpful) per article that has votes."""
        with self._lock:
            result: dict[str, tuple[int, int]] = {}
            for article_id in set(self._votes) | set(self._anonymous):
                named = self._votes.get(article_id, {})
                helpful = sum(1 for vote in named.values() if vote)
                anonymous = self._anonymous.get(article_id, [0, 0])
                result[article_id] = (
                    helpful + anonymous[0],
                    len(named) - helpful + anonymous[1],
                )
            return result

    def comments(self, article_id: str, *, limit: int = 50) -> list[FeedbackComment]:
        """The newest comments on an article, newest first."""
        check_article_id(article_id)
        with self._lock:
            return list(self._comments.get(article_id, ()))[: max(limit, 0)]


class InMemoryCache(_Closing):
    """A `Cache` in a dict with expiry (by the injected clock) and a size bound (LRU).

    Args:
        max_entries: Entries kept before the least recently used go.
        clock: The clock that decides expiry.

    Examples:
        >>> cache = InMemoryCache()
        >>> cache.set("k", "v", ttl_seconds=60)
        >>> (cache.get("k"), cache.get("other"), cache.incr("generation"))
        ('v', None, 1)
    """

    def __init__(self, *, max_entries: int = 10_000, clock: Clock | None = None) -> None:
        given: object = max_entries
        if isinstance(given, bool) or not isinstance(given, int) or given < 1:
            raise InvalidInputError("max_entries", "must be an int >= 1")
        self._max = max_entries
        self._clock = clock or SystemClock()
        self._entries: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._counters: dict[str, int] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> str | None:
        """Return the cached value, or ``None`` when missing or expired."""
        check_text(key, "key", 1000)
        with self._lock:
            if key in self._counters:
                return str(self._counters[key])
            found = self._entries.get(key)
            if found is None:
                return None
            if found[0] <= self._clock.monotonic():
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return found[1]

    def set(self, key: str, value: str, *, ttl_seconds: float) -> None:
        """Cache ``value`` for ``ttl_seconds``."""
        check_text(key, "key", 1000)
        if not isinstance(value, str):
            raise InvalidInputError("value", "must be a str")
        if isinstance(ttl_seconds, bool) or not isinstance(ttl_seconds, int | float):
            raise InvalidInputError("ttl_seconds", "must be a number > 0")
        if not ttl_seconds > 0:
            raise InvalidInputError("ttl_seconds", "must be a number > 0")
        with self._lock:
            self._entries[key] = (self._clock.monotonic() + ttl_seconds, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)

    def incr(self, key: str) -> int:
        """Add one to a counter and return it; `get` reads it as a decimal string."""
        check_text(key, "key", 1000)
        with self._lock:
            self._entries.pop(key, None)
            self._counters[key] = self._counters.get(key, 0) + 1
            return self._counters[key]
