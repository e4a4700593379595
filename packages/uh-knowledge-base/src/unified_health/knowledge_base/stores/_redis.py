"""The Redis stores and cache.

Keys (the prefix is wrapped in a hash tag, so every key of a store sits in one cluster slot)::

    {uh:knowledge_base}:v1:articles            HASH  article id -> {"v": version, "a": article}
    {uh:knowledge_base}:v1:categories          HASH  slug -> category
    {uh:knowledge_base}:v1:views:<YYYY-MM-DD>  HASH  article id -> views that day (HINCRBY)
    {uh:knowledge_base}:v1:searches:<locale>   HASH  "<n|z|c>:<query>" -> searches, no-result
                                                     searches, clicks
    {uh:knowledge_base}:v1:votes:<article id>  HASH  visitor id -> 1 (helpful) or 0
    {uh:knowledge_base}:v1:anonymous           HASH  "<article id>|<1|0>" -> anonymous votes
    {uh:knowledge_base}:v1:voted               SET   article ids with votes
    {uh:knowledge_base}:v1:comments:<id>       LIST  newest 200 comments
    {uh:knowledge_base}:v1:cache:<key>         STRING with expiry; counters without

Article writes are one Lua script each (check the version, write), atomic on a standalone server
and on Redis Cluster alike; counters are single atomic commands or MULTI/EXEC blocks.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from types import TracebackType
from typing import Any, Self

from unified_health.knowledge_base._errors import InvalidInputError, StoreUnavailableError
from unified_health.knowledge_base._logging import logger
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
from unified_health.knowledge_base.stores._memory import MAX_COMMENTS, check_day, check_text
from unified_health.knowledge_base.stores._protocol import RedisClientProtocol

__all__ = [
    "DEFAULT_PREFIX",
    "RedisActivityStore",
    "RedisArticleStore",
    "RedisCache",
    "hash_tagged",
]

DEFAULT_PREFIX = "uh:knowledge_base"

# KEYS[1] articles hash; ARGV: id, expected version (-1: any), article JSON or "" to delete.
# Returns {status, version}: status 1 written/deleted, 0 nothing to delete, -1 version conflict.
_WRITE = """
local stored = redis.call('HGET', KEYS[1], ARGV[1])
local current = 0
if stored then current = cjson.decode(stored)['v'] end
local expected = tonumber(ARGV[2])
if expected >= 0 and expected ~= current then return {-1, current} end
if ARGV[3] == '' then
  if not stored then return {0, 0} end
  redis.call('HDEL', KEYS[1], ARGV[1])
  return {1, current}
end
redis.call('HSET', KEYS[1], ARGV[1], '{"v":' .. (current + 1) .. ',"a":' .. ARGV[3] .. '}')
return {1, current + 1}
"""


def hash_tagged(prefix: str) -> str:
    """Wrap ``prefix`` in a Redis Cluster hash tag unless it already holds one.

    Args:
        prefix: The configured key prefix.

    Returns:
        The prefix every key starts with.

    Raises:
        InvalidInputError: The prefix is empty or not a str.

    Examples:
        >>> hash_tagged("myapp:knowledge_base")
        '{myapp:knowledge_base}'
        >>> hash_tagged("{tenant-7}:knowledge_base")
        '{tenant-7}:knowledge_base'
    """
    given: object = prefix
    if not isinstance(given, str) or not given.strip():
        raise InvalidInputError("prefix", "must be a non-empty str")
    opening = prefix.find("{")
    if opening >= 0 and prefix.find("}", opening) > opening + 1:
        return prefix
    return "{" + prefix + "}"


def _driver_errors() -> tuple[type[BaseException], ...]:
    try:
        import redis
    except ImportError:  # pragma: no cover - only without the redis extra
        return (OSError,)
    return (redis.RedisError, OSError)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class _RedisBase:
    def __init__(self, client: RedisClientProtocol, *, prefix: str = DEFAULT_PREFIX) -> None:
        if isinstance(client, str | bytes) or not isinstance(client, RedisClientProtocol):
            raise InvalidInputError(
                "client",
                f"must be a Redis client; for a URL use {type(self).__name__}.from_url(url)",
            )
        self._client = client
        self._owns_client = False
        self.key_prefix = f"{hash_tagged(prefix)}:v1"
        self._errors = _driver_errors()

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        prefix: str = DEFAULT_PREFIX,
        socket_timeout: float = 2.0,
        socket_connect_timeout: float = 1.0,
    ) -> Self:
        """Create one on a new client that it owns and closes in `close`.

        No connection is made until the first call, so this never blocks on a dead server;
        the first call to one fails within ``socket_connect_timeout``.

        Args:
            url: A Redis URL, e.g. ``redis://127.0.0.1:6379/0``.
            prefix: Key prefix.
            socket_timeout: Seconds a Redis call may take.
            socket_connect_timeout: Seconds a connection attempt may take.

        Returns:
            The store or cache.

        Raises:
            InvalidInputError: The URL or a timeout is invalid.

        Examples:
            >>> store = RedisArticleStore.from_url("redis://127.0.0.1:6379/0")
            >>> store.key_prefix
            '{uh:knowledge_base}:v1'
            >>> store.close()
        """
        try:
            import redis
        except ImportError:
            raise ImportError(
                "from_url needs the redis extra: pip install 'uh-knowledge-base[redis]'"
            ) from None

        given: object = url
        if not isinstance(given, str):
            raise InvalidInputError("url", "must be a str")
        timeouts: tuple[tuple[str, object], ...] = (
            ("socket_timeout", socket_timeout),
            ("socket_connect_timeout", socket_connect_timeout),
        )
        for name, value in timeouts:
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise InvalidInputError(name, "must be a number of seconds > 0")
        try:
            client = redis.Redis.from_url(
                url, socket_timeout=socket_timeout, socket_connect_timeout=socket_connect_timeout
            )
        except ValueError:
            raise InvalidInputError("url", "must be a redis://, rediss:// or unix:// URL") from None
        made = cls(client, prefix=prefix)
        made._owns_client = True
        return made

    def _unavailable(self, operation: str, exc: BaseException) -> StoreUnavailableError:
        logger.warning("store_call_failed", operation=operation, error_class=type(exc).__name__)
        return StoreUnavailableError(f"redis {operation} failed ({type(exc).__name__})")

    def _call(self, operation: str, command: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except self._errors as exc:
            raise self._unavailable(operation, exc) from exc

    def close(self) -> None:
        """Close the client if this object created it (`from_url`); an injected one stays open."""
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class RedisArticleStore(_RedisBase):
    """An `ArticleStore` on Redis, standalone or cluster.

    Args:
        client: Your Redis client (``redis.Redis()`` or compatible); never closed by the store.
        prefix: Key prefix; wrapped in a hash tag (``{...}``) unless it already holds one.

    Raises:
        InvalidInputError: ``client`` is not a Redis client (for a URL, use `from_url`).

    Examples:
        >>> import redis
        >>> RedisArticleStore(redis.Redis(), prefix="myapp:kb").articles_key
        '{myapp:kb}:v1:articles'
    """

    def __init__(self, client: RedisClientProtocol, *, prefix: str = DEFAULT_PREFIX) -> None:
        super().__init__(client, prefix=prefix)
        self.articles_key = f"{self.key_prefix}:articles"
        self.categories_key = f"{self.key_prefix}:categories"

    def get(self, article_id: str) -> ArticleRecord | None:
        """Return the stored article, or ``None``.

        Raises:
            StoreUnavailableError: Redis did not answer.
        """
        check_article_id(article_id)
        stored = self._call("get", self._client.hget, self.articles_key, article_id)
        if stored is None:
            return None
        envelope = json.loads(stored)
        return decode_article(envelope["a"], int(envelope["v"]))

    def _write(self, article_id: str, expected: int | None, payload: str) -> tuple[int, int]:
        status, version = self._call(
            "write",
            self._client.eval,
            _WRITE,
            1,
            self.articles_key,
            article_id,
            -1 if expected is None else expected,
            payload,
        )
        if status == -1:
            raise conflict(article_id, expected if expected is not None else -1, int(version))
        return int(status), int(version)

    def put(self, article: Article, *, expected_version: int | None = None) -> ArticleRecord:
        """Write the article if the version check passes (atomic).

        Raises:
            ConflictError: ``expected_version`` is not the current version (0: it exists).
            InvalidInputError: ``article`` is not an `Article` or the version is not an int.
            StoreUnavailableError: Redis did not answer.
        """
        check_article(article)
        expected = check_expected_version(expected_version)
        _, version = self._write(article.id, expected, encode_article(article))
        return ArticleRecord(article=article, version=version)

    def delete(self, article_id: str, *, expected_version: int | None = None) -> bool:
        """Delete the article; ``True`` if it existed. Idempotent.

        Raises:
            ConflictError: ``expected_version`` is not the current version.
            StoreUnavailableError: Redis did not answer.
        """
        check_article_id(article_id)
        expected = check_expected_version(expected_version)
        status, _ = self._write(article_id, expected, "")
        return status == 1

    def list_articles(self) -> Iterator[ArticleRecord]:
        """Yield every article once, paging through Redis with ``HSCAN``.

        Raises:
            StoreUnavailableError: Redis did not answer.
        """
        cursor = 0
        seen: set[str] = set()
        while True:
            cursor, page = self._call(
                "list", self._client.hscan, self.articles_key, cursor, count=500
            )
            for raw_key, stored in page.items():
                key = _text(raw_key)
                if key in seen:  # HSCAN may repeat a field while the hash is rehashed
                    continue
                seen.add(key)
                envelope = json.loads(stored)
                yield decode_article(envelope["a"], int(envelope["v"]))
            if int(cursor) == 0:
                return

    def put_category(self, category: Category) -> None:
        """Create or replace a category."""
        check_category(category)
        self._call(
            "put_category",
            self._client.eval,
            "return redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])",
            1,
            self.categories_key,
            category.slug,
            encode_category(category),
        )

    def delete_category(self, slug: str) -> bool:
        """Delete a category; ``True`` if it existed."""
        check_text(slug, "slug")
        removed = self._call(
            "delete_category",
            self._client.eval,
            "return redis.call('HDEL', KEYS[1], ARGV[1])",
            1,
            self.categories_key,
            slug,
        )
        return bool(removed)

    def list_categories(self) -> list[Category]:
        """Every category."""
        stored = self._call("list_categories", self._client.hgetall, self.categories_key)
        return [decode_category(value) for value in stored.values()]


class RedisActivityStore(_RedisBase):
    """An `ActivityStore` on Redis: every counter is one atomic command.

    Args:
        client: Your Redis client; never closed by the store.
        prefix: Key prefix; wrapped in a hash tag unless it already holds one.

    Examples:
        >>> import redis
        >>> from datetime import date
        >>> RedisActivityStore(redis.Redis(), prefix="myapp:kb").views_key(date(2026, 1, 5))
        '{myapp:kb}:v1:views:2026-01-05'
    """

    def views_key(self, day: date) -> str:
        """The hash of one day's views."""
        return f"{self.key_prefix}:views:{day.isoformat()}"

    def _incr(self, operation: str, key: str, field: str) -> int:
        script = "return redis.call('HINCRBY', KEYS[1], ARGV[1], 1)"
        return int(self._call(operation, self._client.eval, script, 1, key, field))

    def add_view(self, article_id: str, day: date) -> int:
        """Count one view of the article on ``day`` (HINCRBY); return that day's count."""
        check_article_id(article_id)
        check_day(day, "day")
        return self._incr("add_view", self.views_key(day), article_id)

    def views_between(self, start: date, end: date) -> dict[str, int]:
        """Views per article from ``start`` to ``end``, both included (at most 400 days)."""
        check_day(start, "start")
        check_day(end, "end")
        if (end - start).days > 400:
            raise InvalidInputError("end", "must be at most 400 days after start")
        pipe = self._client.pipeline(transaction=False)
        day = start
        while day <= end:
            pipe.hgetall(self.views_key(day))
            day += timedelta(days=1)
        totals: dict[str, int] = {}
        for page in self._call("views_between", pipe.execute):
            for raw_key, count in page.items():
                key = _text(raw_key)
                totals[key] = totals.get(key, 0) + int(count)
        return totals

    def _searches_key(self, locale: str) -> str:
        return f"{self.key_prefix}:searches:{locale}"

    def add_search(self, locale: str, query: str, *, found: bool) -> None:
        """Count one search of a normalised query, and whether it found anything."""
        check_text(locale, "locale", 10)
        check_text(query, "query")
        pipe = self._client.pipeline(transaction=True)
        pipe.hincrby(self._searches_key(locale), f"n:{query}", 1)
        if not found:
            pipe.hincrby(self._searches_key(locale), f"z:{query}", 1)
        self._call("add_search", pipe.execute)

    def add_click(self, locale: str, query: str) -> None:
        """Count one click from the results of a normalised query."""
        check_text(locale, "locale", 10)
        check_text(query, "query")
        self._incr("add_click", self._searches_key(locale), f"c:{query}")

    def search_stats(self, locale: str) -> list[SearchStat]:
        """Counts per normalised query of a locale."""
        check_text(locale, "locale", 10)
        stored = self._call("search_stats", self._client.hgetall, self._searches_key(locale))
        counts: dict[str, list[int]] = {}
        for raw_key, value in stored.items():
            kind, _, query = _text(raw_key).partition(":")
            slot = {"n": 0, "z": 1, "c": 2}.get(kind)
            if slot is not None:
                counts.setdefault(query, [0, 0, 0])[slot] = int(value)
        return [
            SearchStat(query=query, searches=c[0], no_results=c[1], clicks=c[2])
            for query, c in counts.items()
        ]

    def set_vote(self, article_id: str, visitor_id: str | None, helpful: bool) -> None:
        """Record a vote; a visitor's later vote replaces their earlier one (MULTI/EXEC)."""
        check_article_id(article_id)
        if visitor_id is not None:
            check_text(visitor_id, "visitor_id")
        if not isinstance(helpful, bool):
            raise InvalidInputError("helpful", "must be a bool")
        pipe = self._client.pipeline(transaction=True)
        if visitor_id is None:
            field = f"{article_id}|{1 if helpful else 0}"
            pipe.hincrby(f"{self.key_prefix}:anonymous", field, 1)
        else:
            pipe.hset(f"{self.key_prefix}:votes:{article_id}", visitor_id, 1 if helpful else 0)
        pipe.sadd(f"{self.key_prefix}:voted", article_id)
        self._call("set_vote", pipe.execute)

    def add_comment(self, comment: FeedbackComment) -> None:
        """Keep a comment (the newest 200 per article are kept)."""
        if not isinstance(comment, FeedbackComment):
            raise InvalidInputError("comment", "must be a FeedbackComment")
        key = f"{self.key_prefix}:comments:{comment.article_id}"
        pipe = self._client.pipeline(transaction=True)
        pipe.lpush(key, comment.model_dump_json())
        pipe.ltrim(key, 0, MAX_COMMENTS - 1)
        self._call("add_comment", pipe.execute)

    def votes(self) -> dict[str, tuple[int, int]]:
        """(helpful, not helpful) per article that has votes."""
        pipe = self._client.pipeline(transaction=False)
        pipe.smembers(f"{self.key_prefix}:voted")
        pipe.hgetall(f"{self.key_prefix}:anonymous")
        voted, anonymous = self._call("votes", pipe.execute)
        ids = sorted(_text(item) for item in voted)
        pipe = self._client.pipeline(transaction=False)
        for article_id in ids:
            pipe.hvals(f"{self.key_prefix}:votes:{article_id}")
        named = self._call("votes", pipe.execute) if ids else []
        result: dict[str, tuple[int, int]] = {}
        for article_id, values in zip(ids, named, strict=True):
            helpful = sum(1 for value in values if _text(value) == "1")
            result[article_id] = (helpful, len(values) - helpful)
        for raw_key, count in anonymous.items():
            article_id, _, kind = _text(raw_key).rpartition("|")
            helpful, unhelpful = result.get(article_id, (0, 0))
            if kind == "1":
                helpful += int(count)
            else:
                unhelpful += int(count)
            result[article_id] = (helpful, unhelpful)
        return result

    def comments(self, article_id: str, *, limit: int = 50) -> list[FeedbackComment]:
        """The newest comments on an article, newest first."""
        check_article_id(article_id)
        if limit <= 0:
            return []
        key = f"{self.key_prefix}:comments:{article_id}"
        script = "return redis.call('LRANGE', KEYS[1], 0, ARGV[1])"
        stored = self._call("comments", self._client.eval, script, 1, key, limit - 1)
        return [FeedbackComment.parse(json.loads(item)) for item in stored]


class RedisCache(_RedisBase):
    """A `Cache` on Redis (``SET ... PX`` and ``INCR``), shared by every process.

    Args:
        client: Your Redis client; never closed by the cache.
        prefix: Key prefix; wrapped in a hash tag unless it already holds one.

    Examples:
        >>> import redis
        >>> RedisCache(redis.Redis(), prefix="myapp:kb").cache_key("html:en/a")
        '{myapp:kb}:v1:cache:html:en/a'
    """

    def cache_key(self, key: str) -> str:
        """The Redis key of a cache entry."""
        return f"{self.key_prefix}:cache:{key}"

    def get(self, key: str) -> str | None:
        """Return the cached value, or ``None`` when missing or expired."""
        check_text(key, "key", 1000)
        stored = self._call("cache_get", self._client.get, self.cache_key(key))
        return None if stored is None else _text(stored)

    def set(self, key: str, value: str, *, ttl_seconds: float) -> None:
        """Cache ``value`` for ``ttl_seconds``."""
        check_text(key, "key", 1000)
        if not isinstance(value, str):
            raise InvalidInputError("value", "must be a str")
        if isinstance(ttl_seconds, bool) or not isinstance(ttl_seconds, int | float):
            raise InvalidInputError("ttl_seconds", "must be a number > 0")
        if not ttl_seconds > 0:
            raise InvalidInputError("ttl_seconds", "must be a number > 0")
        self._call(
            "cache_set",
            self._client.eval,
            "return redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])",
            1,
            self.cache_key(key),
            value,
            max(int(ttl_seconds * 1000), 1),
        )

    def incr(self, key: str) -> int:
        """Add one to a counter and return it (``INCR``)."""
        check_text(key, "key", 1000)
        script = "return redis.call('INCR', KEYS[1])"
        return int(self._call("cache_incr", self._client.eval, script, 1, self.cache_key(key)))
