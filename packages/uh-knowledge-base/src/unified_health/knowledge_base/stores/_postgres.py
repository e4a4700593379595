"""The PostgreSQL `ArticleStore` (psycopg 3), over your connection or pool.

Tables (created by `PostgresArticleStore.migrate`, idempotent; the names start with
``table_prefix``, ``uh_kb_`` by default)::

    uh_kb_articles    id text PRIMARY KEY, locale text, slug text, version integer, data jsonb,
                      updated_at timestamptz
    uh_kb_categories  slug text PRIMARY KEY, data jsonb

Every write is one statement whose ``WHERE`` or ``ON CONFLICT`` clause does the version check,
so concurrent writers cannot both win.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any

from unified_health.knowledge_base._errors import InvalidInputError, StoreUnavailableError
from unified_health.knowledge_base._logging import logger
from unified_health.knowledge_base._models import Article, ArticleRecord, Category
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
from unified_health.knowledge_base.stores._memory import check_text

__all__ = ["PostgresArticleStore"]

_PREFIX = re.compile(r"^[a-z_][a-z0-9_]{0,30}$")


def _driver_errors() -> tuple[type[BaseException], ...]:
    try:
        import psycopg
    except ImportError:  # pragma: no cover - only without the postgres extra
        return (OSError,)
    return (psycopg.OperationalError, psycopg.InterfaceError, OSError)


def _statements(articles: str, categories: str) -> dict[str, Any]:
    """Every statement, with the table names quoted as identifiers (never as text)."""
    from psycopg import sql

    names = {
        "articles": sql.Identifier(articles),
        "categories": sql.Identifier(categories),
        "locale_index": sql.Identifier(f"{articles}_locale"),
    }
    texts = {
        "create_articles": "CREATE TABLE IF NOT EXISTS {articles} (id text PRIMARY KEY,"
        " locale text NOT NULL, slug text NOT NULL, version integer NOT NULL,"
        " data jsonb NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())",
        "create_index": "CREATE INDEX IF NOT EXISTS {locale_index} ON {articles} (locale)",
        "create_categories": "CREATE TABLE IF NOT EXISTS {categories}"
        " (slug text PRIMARY KEY, data jsonb NOT NULL)",
        "get": "SELECT data, version FROM {articles} WHERE id = %s",
        "version": "SELECT version FROM {articles} WHERE id = %s",
        "upsert": "INSERT INTO {articles} (id, locale, slug, version, data)"
        " VALUES (%s, %s, %s, 1, %s::jsonb) ON CONFLICT (id) DO UPDATE"
        " SET version = {articles}.version + 1, data = EXCLUDED.data, updated_at = now()"
        " RETURNING version",
        "create": "INSERT INTO {articles} (id, locale, slug, version, data)"
        " VALUES (%s, %s, %s, 1, %s::jsonb) ON CONFLICT (id) DO NOTHING RETURNING version",
        "replace": "UPDATE {articles} SET version = version + 1, data = %s::jsonb,"
        " updated_at = now() WHERE id = %s AND version = %s RETURNING version",
        "delete": "DELETE FROM {articles} WHERE id = %s",
        "delete_version": "DELETE FROM {articles} WHERE id = %s AND version = %s",
        "list": "SELECT id, data, version FROM {articles} WHERE id > %s ORDER BY id LIMIT 500",
        "put_category": "INSERT INTO {categories} (slug, data) VALUES (%s, %s::jsonb)"
        " ON CONFLICT (slug) DO UPDATE SET data = EXCLUDED.data",
        "delete_category": "DELETE FROM {categories} WHERE slug = %s",
        "list_categories": "SELECT data FROM {categories}",
    }
    return {key: sql.SQL(text).format(**names) for key, text in texts.items()}


class PostgresArticleStore:
    """An `ArticleStore` on PostgreSQL over a psycopg 3 connection or connection pool.

    Pass an open ``psycopg.Connection`` (autocommit or not: each call runs in its own
    transaction block) or a ``psycopg_pool.ConnectionPool`` (a connection is borrowed per call).
    The store never closes what it was given. Call `migrate` once before use.

    Args:
        connection: Your connection or pool.
        table_prefix: Prefix of the table names (lower-case letters, digits and ``_``).

    Raises:
        InvalidInputError: ``connection`` is neither a connection nor a pool, or the prefix is
            not a plain identifier.

    Examples:
        >>> import psycopg
        >>> PostgresArticleStore(psycopg.Connection, table_prefix="help_").articles_table
        'help_articles'
    """

    def __init__(self, connection: Any, *, table_prefix: str = "uh_kb_") -> None:
        is_pool = callable(getattr(connection, "connection", None))
        is_connection = callable(getattr(connection, "cursor", None)) and callable(
            getattr(connection, "transaction", None)
        )
        if isinstance(connection, str | bytes) or not (is_pool or is_connection):
            raise InvalidInputError("connection", "must be a psycopg connection or connection pool")
        given: object = table_prefix
        if not isinstance(given, str) or not _PREFIX.match(table_prefix):
            raise InvalidInputError("table_prefix", "must be lower-case letters, digits and _")
        self._target = connection
        self._is_pool = is_pool and not is_connection
        # One connection is one session: threads sharing it take turns, a pool lends each its own.
        self._connection_lock = threading.Lock()
        self.articles_table = f"{table_prefix}articles"
        self.categories_table = f"{table_prefix}categories"
        self._errors = _driver_errors()
        self._sql = _statements(self.articles_table, self.categories_table)

    @contextmanager
    def _cursor(self, operation: str) -> Iterator[Any]:
        try:
            if self._is_pool:
                with self._target.connection() as conn, conn.transaction(), conn.cursor() as cur:
                    yield cur
            else:
                with (
                    self._connection_lock,
                    self._target.transaction(),
                    self._target.cursor() as cur,
                ):
                    yield cur
        except self._errors as exc:
            logger.warning("store_call_failed", operation=operation, error_class=type(exc).__name__)
            raise StoreUnavailableError(
                f"postgres {operation} failed ({type(exc).__name__})"
            ) from exc

    def migrate(self) -> None:
        """Create the tables and index if they are missing; safe to run any number of times.

        Raises:
            StoreUnavailableError: PostgreSQL did not answer.
        """
        with self._cursor("migrate") as cur:
            cur.execute(self._sql["create_articles"])
            cur.execute(self._sql["create_index"])
            cur.execute(self._sql["create_categories"])
        logger.info("store_migrated", table=self.articles_table)

    def get(self, article_id: str) -> ArticleRecord | None:
        """Return the stored article, or ``None``.

        Raises:
            StoreUnavailableError: PostgreSQL did not answer.
        """
        check_article_id(article_id)
        with self._cursor("get") as cur:
            cur.execute(self._sql["get"], (article_id,))
            row = cur.fetchone()
        return None if row is None else decode_article(row[0], int(row[1]))

    def _current(self, cur: Any, article_id: str) -> int:
        cur.execute(self._sql["version"], (article_id,))
        row = cur.fetchone()
        return 0 if row is None else int(row[0])

    def put(self, article: Article, *, expected_version: int | None = None) -> ArticleRecord:
        """Write the article if the version check passes (one statement).

        Raises:
            ConflictError: ``expected_version`` is not the current version (0: it exists).
            InvalidInputError: ``article`` is not an `Article` or the version is not an int.
            StoreUnavailableError: PostgreSQL did not answer.
        """
        check_article(article)
        expected = check_expected_version(expected_version)
        payload = encode_article(article)
        values = (article.id, article.locale, article.slug, payload)
        with self._cursor("put") as cur:
            if expected is None:
                cur.execute(self._sql["upsert"], values)
            elif expected == 0:
                cur.execute(self._sql["create"], values)
            else:
                cur.execute(self._sql["replace"], (payload, article.id, expected))
            row = cur.fetchone()
            if row is None:
                current = self._current(cur, article.id)
                raise conflict(article.id, expected if expected is not None else -1, current)
        return ArticleRecord(article=article, version=int(row[0]))

    def delete(self, article_id: str, *, expected_version: int | None = None) -> bool:
        """Delete the article; ``True`` if it existed. Idempotent.

        Raises:
            ConflictError: ``expected_version`` is not the current version.
            StoreUnavailableError: PostgreSQL did not answer.
        """
        check_article_id(article_id)
        expected = check_expected_version(expected_version)
        with self._cursor("delete") as cur:
            if expected is None:
                cur.execute(self._sql["delete"], (article_id,))
                return bool(cur.rowcount)
            current = self._current(cur, article_id)
            if expected != current:
                raise conflict(article_id, expected, current)
            if current == 0:
                return False
            cur.execute(self._sql["delete_version"], (article_id, expected))
            if not cur.rowcount:
                raise conflict(article_id, expected, self._current(cur, article_id))
            return True

    def list_articles(self) -> Iterator[ArticleRecord]:
        """Yield every article once, 500 rows at a time (keyset paging by id).

        Raises:
            StoreUnavailableError: PostgreSQL did not answer.
        """
        after = ""
        while True:
            with self._cursor("list") as cur:
                cur.execute(self._sql["list"], (after,))
                rows = cur.fetchall()
            for row in rows:
                yield decode_article(row[1], int(row[2]))
            if len(rows) < 500:
                return
            after = rows[-1][0]

    def put_category(self, category: Category) -> None:
        """Create or replace a category."""
        check_category(category)
        with self._cursor("put_category") as cur:
            cur.execute(self._sql["put_category"], (category.slug, encode_category(category)))

    def delete_category(self, slug: str) -> bool:
        """Delete a category; ``True`` if it existed."""
        check_text(slug, "slug")
        with self._cursor("delete_category") as cur:
            cur.execute(self._sql["delete_category"], (slug,))
            return bool(cur.rowcount)

    def list_categories(self) -> list[Category]:
        """Every category."""
        with self._cursor("list_categories") as cur:
            cur.execute(self._sql["list_categories"])
            rows = cur.fetchall()
        return [
            decode_category(row[0] if isinstance(row[0], dict) else json.loads(row[0]))
            for row in rows
        ]

    def close(self) -> None:
        """Nothing to release: the connection or pool is yours."""

    def __enter__(self) -> PostgresArticleStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
