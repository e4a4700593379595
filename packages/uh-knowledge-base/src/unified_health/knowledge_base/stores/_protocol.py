"""What the stores must do, and the Redis commands the Redis stores use.

Three protocols, each with its own contract (held by one test suite run against every
implementation, see ``tests/test_store_contract.py``):

`ArticleStore` (the system of record; in memory, Redis, PostgreSQL):

- ``put`` with ``expected_version=None`` writes unconditionally; ``0`` writes only a new article;
  ``n`` writes only over version ``n``. Anything else raises `ConflictError` and changes nothing.
  Every successful write returns the record with its version one higher than before.
- ``delete`` is idempotent and honours ``expected_version`` the same way.
- ``list_articles`` yields every article once, in no particular order.
- Categories are stored beside the articles, by slug.

`ActivityStore` (views, searches, clicks and feedback; in memory and Redis): counters are atomic,
one vote per visitor per article (a second vote replaces the first), comments capped per article.

`Cache` (rendered HTML and hot searches; in memory and Redis): ``get``/``set`` with a TTL and an
atomic ``incr`` the service uses as a generation number to invalidate on change.

A store that cannot reach its backend raises `StoreUnavailableError`, never a driver error.
Invalid input raises `InvalidInputError` before anything is written.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any, Protocol, runtime_checkable

from unified_health.knowledge_base._models import (
    Article,
    ArticleRecord,
    Category,
    FeedbackComment,
    SearchStat,
)

__all__ = ["ActivityStore", "ArticleStore", "Cache", "RedisClientProtocol"]


@runtime_checkable
class ArticleStore(Protocol):
    """Articles by id (``"<locale>/<slug>"``) with optimistic concurrency, and categories.

    Examples:
        >>> from unified_health.knowledge_base import InMemoryArticleStore
        >>> isinstance(InMemoryArticleStore(), ArticleStore)
        True
    """

    def get(self, article_id: str) -> ArticleRecord | None:
        """Return the stored article, or ``None``."""
        ...

    def put(self, article: Article, *, expected_version: int | None = None) -> ArticleRecord:
        """Write the article if the version check passes; return the new record."""
        ...

    def delete(self, article_id: str, *, expected_version: int | None = None) -> bool:
        """Delete the article; ``True`` if it existed."""
        ...

    def list_articles(self) -> Iterator[ArticleRecord]:
        """Yield every stored article once."""
        ...

    def put_category(self, category: Category) -> None:
        """Create or replace a category."""
        ...

    def delete_category(self, slug: str) -> bool:
        """Delete a category; ``True`` if it existed."""
        ...

    def list_categories(self) -> list[Category]:
        """Every category."""
        ...

    def close(self) -> None:
        """Release what the store opened itself (never an injected client)."""
        ...


@runtime_checkable
class ActivityStore(Protocol):
    """Views per article per day, searches, clicks and feedback votes.

    Examples:
        >>> from unified_health.knowledge_base import InMemoryActivityStore
        >>> isinstance(InMemoryActivityStore(), ActivityStore)
        True
    """

    def add_view(self, article_id: str, day: date) -> int:
        """Count one view of the article on ``day``; return that day's count."""
        ...

    def views_between(self, start: date, end: date) -> dict[str, int]:
        """Views per article from ``start`` to ``end``, both included."""
        ...

    def add_search(self, locale: str, query: str, *, found: bool) -> None:
        """Count one search of a normalised query, and whether it found anything."""
        ...

    def add_click(self, locale: str, query: str) -> None:
        """Count one click from the results of a normalised query to an article."""
        ...

    def search_stats(self, locale: str) -> list[SearchStat]:
        """Counts per normalised query of a locale."""
        ...

    def set_vote(self, article_id: str, visitor_id: str | None, helpful: bool) -> None:
        """Record a vote; a visitor's later vote replaces their earlier one."""
        ...

    def add_comment(self, comment: FeedbackComment) -> None:
        """Keep a comment (the newest 200 per article are kept)."""
        ...

    def votes(self) -> dict[str, tuple[int, int]]:
        """(helpful, not helpful) per article that has votes."""
        ...

    def comments(self, article_id: str, *, limit: int = 50) -> list[FeedbackComment]:
        """The newest comments on an article, newest first."""
        ...

    def close(self) -> None:
        """Release what the store opened itself."""
        ...


@runtime_checkable
class Cache(Protocol):
    """A string cache with expiry and an atomic counter.

    Examples:
        >>> from unified_health.knowledge_base import InMemoryCache
        >>> isinstance(InMemoryCache(), Cache)
        True
    """

    def get(self, key: str) -> str | None:
        """Return the cached value, or ``None`` when missing or expired."""
        ...

    def set(self, key: str, value: str, *, ttl_seconds: float) -> None:
        """Cache ``value`` for ``ttl_seconds``."""
        ...

    def incr(self, key: str) -> int:
        """Add one to a counter (which never expires) and return it."""
        ...

    def close(self) -> None:
        """Release what the cache opened itself."""
        ...


@runtime_checkable
class RedisClientProtocol(Protocol):
    """The Redis commands the package uses; ``redis.Redis`` or any compatible client has them.

    Examples:
        >>> import redis
        >>> isinstance(redis.Redis(), RedisClientProtocol)
        True
    """

    def eval(self, script: str, numkeys: int, *keys_and_args: Any) -> Any:
        """Run a Lua script."""
        ...

    def hget(self, name: str, key: str) -> Any:
        """Read one field of a hash."""
        ...

    def hgetall(self, name: str) -> Any:
        """Read a whole hash."""
        ...

    def hscan(self, name: str, cursor: int = 0, match: Any = None, count: int | None = None) -> Any:
        """Page through a hash."""
        ...

    def pipeline(self, transaction: bool = True, shard_hint: Any = None) -> Any:
        """Batch commands (MULTI/EXEC when ``transaction``)."""
        ...

    def get(self, name: str) -> Any:
        """Read a string."""
        ...

    def close(self) -> None:
        """Close the client's connections."""
        ...
