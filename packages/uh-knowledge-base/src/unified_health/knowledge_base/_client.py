"""`KnowledgeBaseService`: articles, categories, search, views and feedback in one object.

The service keeps a catalogue of the stored articles and one search index per locale in
memory, loaded from the `ArticleStore` on first use (the constructor never touches the network)
and updated incrementally by every write made through it. Several processes sharing one store
see each other's writes after `refresh`.

Failure policy: writes (articles, categories, feedback) raise and change nothing on failure.
Reads never fail because of analytics: recording a view, a search or a click is best effort (a
failed counter is logged once per call, by id, and the read goes on) and the cache is best effort
too (an unreachable cache means rendering and searching afresh).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta
from importlib import resources
from pathlib import Path
from types import TracebackType
from typing import Any

from unified_health.knowledge_base._clock import Clock, SystemClock
from unified_health.knowledge_base._content import Renderer, dump_article, parse_article
from unified_health.knowledge_base._defaults import DEFAULT_CATEGORIES
from unified_health.knowledge_base._errors import (
    InvalidInputError,
    NotFoundError,
    StoreUnavailableError,
)
from unified_health.knowledge_base._logging import logger
from unified_health.knowledge_base._models import (
    Article,
    ArticleRecord,
    ArticleView,
    BrokenLink,
    Category,
    CategoryNode,
    FeedbackComment,
    Helpfulness,
    SearchResults,
    SearchStat,
    TocEntry,
    ViewCount,
)
from unified_health.knowledge_base._search import SearchIndex, clean_query
from unified_health.knowledge_base._text import words
from unified_health.knowledge_base.stores._codec import check_article, check_article_id
from unified_health.knowledge_base.stores._memory import (
    InMemoryActivityStore,
    InMemoryArticleStore,
)
from unified_health.knowledge_base.stores._protocol import ActivityStore, ArticleStore, Cache
from unified_health.knowledge_base.stores._redis import (
    DEFAULT_PREFIX,
    RedisActivityStore,
    RedisArticleStore,
    RedisCache,
)

__all__ = ["SUPPORTED_LOCALES", "KnowledgeBaseService"]

SUPPORTED_LOCALES = ("en", "es")
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
_GENERATION = "generation"
_MAX_PER_PAGE = 100
_MAX_PAGE = 1000


def _check_int(value: object, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInputError(field, f"must be an int from {low} to {high}")
    return value


def _check_str(value: object, field: str, max_length: int) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= max_length:
        raise InvalidInputError(field, f"must be a str of 1 to {max_length} characters")
    return value


def _normalised(query: str) -> str:
    return " ".join(words(query))[:200]


class KnowledgeBaseService:
    """A help centre: Markdown articles, categories, locales, search, views and feedback.

    Args:
        storage: Where articles and categories live (in memory by default).
        cache: Where rendered HTML and hot searches are cached; ``None`` caches nothing.
        activity: Where views, searches, clicks and votes are counted (in memory by default).
        default_locale: The locale reads and searches fall back to (``"en"``).
        synonyms: Extra synonym groups per locale, added to the health-care defaults, e.g.
            ``{"en": [["flu shot", "flu vaccine"]]}``.
        link_base: The URL path internal links ``article:<slug>`` point to.
        popularity_boost: 0 (default) ranks by relevance only; 0.2 lets views and helpful votes
            move a score by up to 20%.
        cache_ttl_seconds: How long cached HTML and searches live.
        clock: The clock (views are counted per UTC day).

    Raises:
        InvalidInputError: An argument is of the wrong type or out of range.

    Examples:
        >>> from unified_health.knowledge_base import InMemoryArticleStore, InMemoryCache
        >>> kb = KnowledgeBaseService(storage=InMemoryArticleStore(), cache=InMemoryCache())
        >>> kb.load_default_articles() > 30
        True
        >>> kb.search(query="perscription refil", locale="en").hits[0].slug
        'requesting-a-prescription-refill'
    """

    def __init__(
        self,
        storage: ArticleStore | None = None,
        cache: Cache | None = None,
        *,
        activity: ActivityStore | None = None,
        default_locale: str = "en",
        synonyms: Mapping[str, Iterable[Sequence[str]]] | None = None,
        link_base: str = "/help/",
        popularity_boost: float = 0.0,
        cache_ttl_seconds: float = 300.0,
        clock: Clock | None = None,
    ) -> None:
        if storage is not None and not isinstance(storage, ArticleStore):
            raise InvalidInputError("storage", "must implement ArticleStore")
        if cache is not None and not isinstance(cache, Cache):
            raise InvalidInputError("cache", "must implement Cache")
        if activity is not None and not isinstance(activity, ActivityStore):
            raise InvalidInputError("activity", "must implement ActivityStore")
        if default_locale not in SUPPORTED_LOCALES:
            raise InvalidInputError("default_locale", f"must be one of {SUPPORTED_LOCALES}")
        boost: object = popularity_boost
        if isinstance(boost, bool) or not isinstance(boost, int | float) or not 0 <= boost <= 1:
            raise InvalidInputError("popularity_boost", "must be a number from 0 to 1")
        ttl: object = cache_ttl_seconds
        if isinstance(ttl, bool) or not isinstance(ttl, int | float) or not ttl > 0:
            raise InvalidInputError("cache_ttl_seconds", "must be a number > 0")
        extra: dict[str, list[Sequence[str]]] = {}
        if synonyms is not None:
            if not isinstance(synonyms, Mapping):
                raise InvalidInputError("synonyms", "must map a locale to groups of words")
            for locale, groups in synonyms.items():
                if locale not in SUPPORTED_LOCALES:
                    raise InvalidInputError("synonyms", f"locales must be in {SUPPORTED_LOCALES}")
                extra[locale] = list(groups)
        self._storage: ArticleStore = storage if storage is not None else InMemoryArticleStore()
        self._cache = cache
        self._activity: ActivityStore = (
            activity if activity is not None else InMemoryActivityStore()
        )
        self._default_locale = default_locale
        self._renderer = Renderer(link_base=link_base)
        self._popularity_boost = float(popularity_boost)
        self._ttl = float(cache_ttl_seconds)
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._synonyms = extra
        for locale, groups in extra.items():  # validate the groups now, not on first search
            probe = SearchIndex(locale)
            for group in groups:
                probe.add_synonyms(group)
        self._lock = threading.RLock()
        self._loaded = False
        self._records: dict[str, ArticleRecord] = {}
        self._categories: dict[str, Category] = {}
        self._indexes: dict[str, SearchIndex] = {}
        self._owned: list[Any] = []

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        prefix: str = DEFAULT_PREFIX,
        default_locale: str = "en",
        popularity_boost: float = 0.0,
        socket_timeout: float = 2.0,
        socket_connect_timeout: float = 1.0,
    ) -> KnowledgeBaseService:
        """A service whose articles, activity and cache all live in one Redis.

        The service owns the clients it makes and closes them in `close`. Nothing connects
        until the first call.

        Args:
            url: A Redis URL, e.g. ``redis://127.0.0.1:6379/0``.
            prefix: Key prefix (wrapped in a hash tag).
            default_locale: The fallback locale.
            popularity_boost: See the constructor.
            socket_timeout: Seconds a Redis call may take.
            socket_connect_timeout: Seconds a connection attempt may take.

        Returns:
            The service.

        Raises:
            InvalidInputError: The URL or an option is invalid.

        Examples:
            >>> kb = KnowledgeBaseService.from_url("redis://127.0.0.1:6379/0", prefix="demo:kb")
            >>> isinstance(kb, KnowledgeBaseService)
            True
            >>> kb.close()
        """
        options = {
            "prefix": prefix,
            "socket_timeout": socket_timeout,
            "socket_connect_timeout": socket_connect_timeout,
        }
        storage = RedisArticleStore.from_url(url, **options)  # type: ignore[arg-type]
        activity = RedisActivityStore.from_url(url, **options)  # type: ignore[arg-type]
        cache = RedisCache.from_url(url, **options)  # type: ignore[arg-type]
        service = cls(
            storage,
            cache,
            activity=activity,
            default_locale=default_locale,
            popularity_boost=popularity_boost,
        )
        service._owned = [storage, activity, cache]
        return service

    @classmethod
    def from_env(
        cls, *, environ: Mapping[str, str] | None = None, prefix: str = DEFAULT_PREFIX
    ) -> KnowledgeBaseService:
        """A service configured from the environment.

        ``UH_KNOWLEDGE_BASE_REDIS_URL`` set: everything in that Redis (see `from_url`);
        unset: everything in memory. ``UH_KNOWLEDGE_BASE_DEFAULT_LOCALE`` picks the fallback
        locale (``en``).

        Args:
            environ: The variables to read (``os.environ`` by default).
            prefix: Key prefix for Redis.

        Returns:
            The service.

        Raises:
            InvalidInputError: A variable holds an invalid value.

        Examples:
            >>> kb = KnowledgeBaseService.from_env(environ={})
            >>> kb.search(query="refill").total
            0
        """
        env = os.environ if environ is None else environ
        locale = env.get("UH_KNOWLEDGE_BASE_DEFAULT_LOCALE", "en")
        if locale not in SUPPORTED_LOCALES:
            raise InvalidInputError(
                "UH_KNOWLEDGE_BASE_DEFAULT_LOCALE", f"must be one of {SUPPORTED_LOCALES}"
            )
        url = env.get("UH_KNOWLEDGE_BASE_REDIS_URL")
        if url:
            return cls.from_url(url, prefix=prefix, default_locale=locale)
        return cls(default_locale=locale)

    def close(self) -> None:
        """Close the stores and cache the service made itself (`from_url`); yours stay open.

        Examples:
            >>> KnowledgeBaseService().close() is None
            True
        """
        for owned in self._owned:
            owned.close()

    def __enter__(self) -> KnowledgeBaseService:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # ------------------------------------------------------------------ catalogue and index

    def _index(self, locale: str) -> SearchIndex:
        index = self._indexes.get(locale)
        if index is None:
            index = SearchIndex(locale, synonyms=self._synonyms.get(locale, ()))
            self._indexes[locale] = index
        return index

    @staticmethod
    def _document(article: Article) -> dict[str, Any]:
        return {
            "key": article.id,
            "title": article.title,
            "tags": article.tags,
            "headings": tuple(_HEADING.findall(article.body)),
            "body": article.body,
            "category": article.category,
        }

    def _ensure_loaded(self) -> None:
        if self._loaded:
            return
        with self._lock:
            if not self._loaded:
                self._load()

    def _load(self) -> None:
        records = {record.article.id: record for record in self._storage.list_articles()}
        categories = {category.slug: category for category in self._storage.list_categories()}
        indexes: dict[str, SearchIndex] = {}
        self._indexes = indexes
        by_locale: dict[str, list[dict[str, Any]]] = {}
        for record in records.values():
            if record.article.status == "published":
                by_locale.setdefault(record.article.locale, []).append(
                    self._document(record.article)
                )
        for locale, documents in by_locale.items():
            self._index(locale).upsert_many(documents)
        self._records = records
        self._categories = categories
        self._loaded = True
        logger.info("catalogue_loaded", article_count=len(records))

    def refresh(self) -> None:
        """Reload articles and categories from the store and rebuild the indexes.

        Use it when another process writes to the same store.

        Raises:
            StoreUnavailableError: The store did not answer.

        Examples:
            >>> KnowledgeBaseService().refresh() is None
            True
        """
        with self._lock:
            self._load()
        self._invalidate()

    def _invalidate(self) -> None:
        if self._cache is None:
            return
        try:
            self._cache.incr(_GENERATION)
        except StoreUnavailableError:
            logger.warning("cache_invalidation_failed")

    def _generation(self) -> str:
        if self._cache is None:
            return "0"
        try:
            return self._cache.get(_GENERATION) or "0"
        except StoreUnavailableError:
            return "0"

    def _cache_get(self, key: str) -> str | None:
        if self._cache is None:
            return None
        try:
            return self._cache.get(key)
        except StoreUnavailableError:
            return None

    def _cache_set(self, key: str, value: str) -> None:
        if self._cache is None:
            return
        try:
            self._cache.set(key, value, ttl_seconds=self._ttl)
        except StoreUnavailableError:
            logger.warning("cache_write_failed")

    # ------------------------------------------------------------------ articles

    def _check_links(self, article: Article, extra: Mapping[str, Article] | None = None) -> None:
        if article.status != "published":
            return
        for target in self._renderer.render(article.body).links:
            candidates = (f"{article.locale}/{target}", f"{self._default_locale}/{target}")
            known = any(
                (c in self._records and self._records[c].article.status == "published")
                or (extra is not None and c in extra)
                for c in candidates
            )
            if not known and target != article.slug:
                raise InvalidInputError(
                    "article.body", f"links to article:{target}, which is not published"
                )

    def _check_category(self, article: Article) -> None:
        if article.category not in self._categories:
            raise InvalidInputError("article.category", "must name an existing category")

    def _apply(self, record: ArticleRecord) -> None:
        article = record.article
        previous = self._records.get(article.id)
        self._records[article.id] = record
        if previous is not None and previous.article.locale != article.locale:
            self._index(previous.article.locale).remove(article.id)
        if article.status == "published":
            self._index(article.locale).upsert(**self._document(article))
        else:
            self._index(article.locale).remove(article.id)

    def create_article(self, article: Article) -> ArticleRecord:
        """Store a new article and index it if published.

        Args:
            article: The article; its ``locale/slug`` must be new.

        Returns:
            The stored record (version 1).

        Raises:
            ConflictError: An article with this slug exists in this locale (a duplicate slug).
            InvalidInputError: Unknown category, or a link to an article that is not published.
            StoreUnavailableError: The store did not answer; nothing changed.

        Examples:
            >>> from datetime import date
            >>> kb = KnowledgeBaseService()
            >>> kb.add_category(Category(slug="billing", title="Billing"))
            >>> kb.create_article(Article(slug="paying", title="Paying a bill",
            ...     category="billing", updated=date(2026, 1, 5))).version
            1
        """
        return self.upsert_article(article, expected_version=0)

    def upsert_article(
        self, article: Article, *, expected_version: int | None = None
    ) -> ArticleRecord:
        """Create or replace an article; the index follows at once (no rebuild).

        Args:
            article: The article.
            expected_version: ``None`` writes regardless; ``0`` only creates; ``n`` only
                replaces version ``n``.

        Returns:
            The stored record.

        Raises:
            ConflictError: The version check failed; nothing changed.
            InvalidInputError: Unknown category, or a link to an article that is not published.
            StoreUnavailableError: The store did not answer; nothing changed.

        Examples:
            >>> kb = KnowledgeBaseService()
            >>> _ = kb.load_default_articles()
            >>> record = kb.get_record("en/paying-your-bill")
            >>> kb.upsert_article(record.article.model_copy(update={"title": "Pay a bill"}),
            ...                   expected_version=record.version).version
            2
        """
        check_article(article)
        self._ensure_loaded()
        with self._lock:
            self._check_category(article)
            self._check_links(article)
            record = self._storage.put(article, expected_version=expected_version)
            self._apply(record)
        self._invalidate()
        logger.info("article_written", article_id=article.id, version=record.version)
        return record

    def import_markdown(self, text: str, *, source: str = "text") -> ArticleRecord:
        r"""Parse a Markdown file with front matter and upsert it.

        Args:
            text: The file's text.
            source: A name for the file, used in error fields.

        Returns:
            The stored record.

        Raises:
            InvalidInputError: Malformed front matter, unknown category or a broken link.

        Examples:
            >>> kb = KnowledgeBaseService()
            >>> kb.add_category(Category(slug="billing", title="Billing"))
            >>> kb.import_markdown("---\ntitle: Receipts\nslug: receipts\ncategory: billing\n"
            ...                    "updated: 2026-01-05\n---\nDownload them.").article.id
            'en/receipts'
        """
        return self.upsert_article(parse_article(text, source=source))

    def unpublish(self, article_id: str) -> ArticleRecord:
        """Mark an article as draft: it leaves search and reads at once.

        Args:
            article_id: ``"<locale>/<slug>"``.

        Returns:
            The stored record.

        Raises:
            NotFoundError: No such article.

        Examples:
            >>> kb = KnowledgeBaseService()
            >>> _ = kb.load_default_articles()
            >>> kb.unpublish("en/paying-your-bill").article.status
            'draft'
        """
        record = self.get_record(article_id)
        draft = record.article.model_copy(update={"status": "draft"})
        return self.upsert_article(draft, expected_version=record.version)

    def delete_article(self, article_id: str) -> bool:
        """Delete an article; ``True`` if it existed. Idempotent.

        Examples:
            >>> KnowledgeBaseService().delete_article("en/missing")
            False
        """
        check_article_id(article_id)
        self._ensure_loaded()
        with self._lock:
            existed = self._storage.delete(article_id)
            previous = self._records.pop(article_id, None)
            if previous is not None:
                self._index(previous.article.locale).remove(article_id)
        self._invalidate()
        return existed

    def get_record(self, article_id: str) -> ArticleRecord:
        """Return the stored article with its version, whatever its status.

        Raises:
            NotFoundError: No such article.

        Examples:
            >>> kb = KnowledgeBaseService()
            >>> _ = kb.load_default_articles()
            >>> kb.get_record("en/paying-your-bill").article.category
            'billing'
        """
        check_article_id(article_id)
        self._ensure_loaded()
        record = self._records.get(article_id)
        if record is None:
            raise NotFoundError("article", article_id)
        return record

    def list_articles(self, *, locale: str | None = None) -> list[Article]:
        """Every stored article (any status), optionally of one locale, sorted by id.

        Examples:
            >>> kb = KnowledgeBaseService()
            >>> _ = kb.load_default_articles()
            >>> len(kb.list_articles(locale="es")) >= 3
            True
        """
        self._ensure_loaded()
        return [
            r.article
            for _, r in sorted(self._records.items())
            if locale is None or r.article.locale == locale
        ]

    def _find(self, slug: str, locale: str) -> Article | None:
        direct = self._records.get(f"{locale}/{slug}")
        if direct is not None and direct.article.status == "published":
            return direct.article
        group = slug
        for record in self._records.values():
            if record.article.slug == slug and record.article.translation_of:
                group = record.article.translation_of
                break
        for record in self._records.values():
            article = record.article
            if (
                article.locale == locale
                and article.status == "published"
                and article.translation_group == group
            ):
                return article
        return None

    def translations(self, article_id: str) -> dict[str, str]:
        """The published translations of an article, by locale (itself included).

        Examples:
            >>> kb = KnowledgeBaseService()
            >>> _ = kb.load_default_articles()
            >>> kb.translations("en/preparing-for-a-video-visit")["es"]
            'es/como-prepararse-para-una-videoconsulta'
        """
        group = self.get_record(article_id).article.translation_group
        return {
            r.article.locale: r.article.id
            for r in self._records.values()
            if r.article.translation_group == group and r.article.status == "published"
        }

    def get_article(
        self,
        slug: str,
        *,
        locale: str = "en",
        record_view: bool = True,
    ) -> ArticleView:
        """Return a published article as sanitised HTML, falling back to the default locale.

        A view is counted for the article shown (best effort: a counter that fails is logged
        and the article is still returned).

        Args:
            slug: The article's slug (in any locale of its translations).
            locale: The reader's locale; unknown locales fall back to the default.
            record_view: ``False`` reads without counting a view (previews, tests).

        Returns:
            The article, its HTML and table of contents, breadcrumbs, and whether it fell back.

        Raises:
            NotFoundError: No published article has this slug in the locale or the default.
            InvalidInputError: ``slug`` or ``locale`` is not a str.

        Examples:
            >>> kb = KnowledgeBaseService()
            >>> _ = kb.load_default_articles()
            >>> view = kb.get_article("paying-your-bill", locale="fr")
            >>> (view.article.locale, view.fell_back, view.html.startswith("<"))
            ('en', True, True)
        """
        _check_str(slug, "slug", 120)
        _check_str(locale, "locale", 20)
        self._ensure_loaded()
        wanted = locale if locale in SUPPORTED_LOCALES else self._default_locale
        article = self._find(slug, wanted)
        if article is None and wanted != self._default_locale:
            article = self._find(slug, self._default_locale)
        if article is None:
            raise NotFoundError("article", f"{wanted}/{slug}" if len(slug) <= 120 else "")
        record = self._records[article.id]
        html, toc = self._rendered(record)
        if record_view:
            try:
                self._activity.add_view(article.id, self._clock.now().date())
            except StoreUnavailableError:
                logger.warning("view_not_counted", article_id=article.id)
        return ArticleView(
            article=article,
            html=html,
            toc=toc,
            requested_locale=locale,
            fell_back=article.locale != locale,
            breadcrumbs=self.breadcrumbs(article.category),
        )

    def _rendered(self, record: ArticleRecord) -> tuple[str, tuple[TocEntry, ...]]:
        digest = hashlib.sha256(record.article.body.encode()).hexdigest()[:16]
        key = f"html:{record.article.id}:{record.version}:{digest}"
        cached = self._cache_get(key)
        if cached is not None:
            try:
                data = json.loads(cached)
                return str(data["html"]), tuple(TocEntry.parse(entry) for entry in data["toc"])
            except (ValueError, KeyError, TypeError, InvalidInputError):
                logger.warning("cache_entry_unreadable", article_id=record.article.id)
        rendered = self._renderer.render(record.article.body)
        payload = {"html": rendered.html, "toc": [e.model_dump() for e in rendered.toc]}
        self._cache_set(key, json.dumps(payload))
        return rendered.html, rendered.toc

    def broken_links(self) -> list[BrokenLink]:
        """Internal links of published articles whose target is missing or not published.

        Examples:
            >>> kb = KnowledgeBaseService()
            >>> _ = kb.load_default_articles()
            >>> kb.broken_links()
            []
        """
        self._ensure_loaded()
        broken: list[BrokenLink] = []
        for article_id, record in sorted(self._records.items()):
            article = record.article
            if article.status != "published":
                continue
            broken.extend(
                BrokenLink(article_id=article_id, target=target)
                for target in self._renderer.render(article.body).links
                if self._find(target, article.locale) is None
                and self._find(target, self._default_locale) is None
            )
        return broken

    # ------------------------------------------------------------------ folders

    def import_folder(self, folder: str | os.PathLike[str]) -> int:
        """Import every ``*.md`` file under ``folder`` (recursively), all or nothing.

        Every file is parsed and checked (front matter, duplicate slugs within the folder,
        categories, links among the folder and the store) before anything is written. A store
        that has no categories yet gets the default categories first.

        Args:
            folder: The folder.

        Returns:
            How many articles were written.

        Raises:
            InvalidInputError: A file is malformed (``field`` names the file), two files share a
                locale and slug, a category is unknown or a link is broken; nothing is written.

        Examples:
            >>> import tempfile
            >>> kb = KnowledgeBaseService()
            >>> _ = kb.load_default_articles()
            >>> with tempfile.TemporaryDirectory() as folder:
            ...     exported = kb.export_folder(folder)
            ...     imported = KnowledgeBaseService().import_folder(folder)
            >>> exported == imported
            True
        """
        root = Path(folder)
        if not root.is_dir():
            raise InvalidInputError("folder", "must be an existing folder")
        parsed: dict[str, tuple[str, Article]] = {}
        for path in sorted(root.rglob("*.md")):
            name = path.relative_to(root).as_posix()
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                raise InvalidInputError(name, "must be a readable UTF-8 file") from None
            article = parse_article(text, source=name)
            if article.id in parsed:
                raise InvalidInputError(
                    name, f"duplicate slug: {parsed[article.id][0]} has the same locale and slug"
                )
            parsed[article.id] = (name, article)
        self._ensure_loaded()
        written = 0
        with self._lock:
            if not self._categories:
                for category in DEFAULT_CATEGORIES:
                    self._storage.put_category(category)
                    self._categories[category.slug] = category
            published = {
                key: article
                for key, (_, article) in parsed.items()
                if article.status == "published"
            }
            for name, article in parsed.values():
                try:
                    self._check_category(article)
                    self._check_links(article, published)
                except InvalidInputError as exc:
                    raise InvalidInputError(f"{name}.{exc.field}", exc.rule) from None
            for _, article in parsed.values():
                self._apply(self._storage.put(article))
                written += 1
        self._invalidate()
        logger.info("folder_imported", article_count=written)
        return written

    def export_folder(self, folder: str | os.PathLike[str]) -> int:
        """Write every article as ``<locale>/<slug>.md`` under ``folder``.

        Returns:
            How many files were written.

        Examples:
            >>> import tempfile
            >>> with tempfile.TemporaryDirectory() as folder:
            ...     KnowledgeBaseService().export_folder(folder)
            0
        """
        root = Path(folder)
        self._ensure_loaded()
        count = 0
        for record in list(self._records.values()):
            article = record.article
            target = root / article.locale / f"{article.slug}.md"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(dump_article(article), encoding="utf-8")
            count += 1
        return count

    def load_default_articles(self) -> int:
        """Load the shipped categories and health-care help articles; safe to run again.

        Articles already stored unchanged are left alone.

        Returns:
            How many articles were written (0 when all were already there).

        Examples:
            >>> kb = KnowledgeBaseService()
            >>> first = kb.load_default_articles()
            >>> (first >= 30, kb.load_default_articles())
            (True, 0)
        """
        self._ensure_loaded()
        articles: list[Article] = []
        base = resources.files("unified_health.knowledge_base") / "articles"
        for locale_dir in sorted(base.iterdir(), key=lambda item: item.name):
            if not locale_dir.is_dir():
                continue
            articles.extend(
                parse_article(item.read_text(encoding="utf-8"), source=item.name)
                for item in sorted(locale_dir.iterdir(), key=lambda entry: entry.name)
                if item.name.endswith(".md")
            )
        written = 0
        with self._lock:
            for category in DEFAULT_CATEGORIES:
                if self._categories.get(category.slug) != category:
                    self._storage.put_category(category)
                    self._categories[category.slug] = category
            for article in articles:
                existing = self._records.get(article.id)
                if existing is not None and existing.article == article:
                    continue
                self._apply(self._storage.put(article))
                written += 1
        if written:
            self._invalidate()
        logger.info("default_articles_loaded", article_count=written)
        return written

    # ------------------------------------------------------------------ categories

    def add_category(self, category: Category) -> None:
        """Create or replace a category; its parent must exist and no cycle may form.

        Raises:
            InvalidInputError: ``category`` is not a `Category`, its parent is unknown, or the
                parent chain would lead back to it (a cycle); nothing is written.

        Examples:
            >>> kb = KnowledgeBaseService()
            >>> kb.add_category(Category(slug="visits", title="Visits"))
            >>> kb.add_category(Category(slug="video", title="Video", parent="visits"))
            >>> try:
            ...     kb.add_category(Category(slug="visits", title="Visits", parent="video"))
            ... except InvalidInputError as err:
            ...     print(err.field, "|", err.rule)
            category.parent | would make a cycle
        """
        if not isinstance(category, Category):
            raise InvalidInputError("category", "must be a Category")
        self._ensure_loaded()
        with self._lock:
            seen = {category.slug}
            parent = category.parent
            while parent is not None:
                if parent in seen:
                    raise InvalidInputError("category.parent", "would make a cycle")
                found = self._categories.get(parent)
                if found is None:
                    raise InvalidInputError("category.parent", "must name an existing category")
                seen.add(parent)
                parent = found.parent
            self._storage.put_category(category)
            self._categories[category.slug] = category
        self._invalidate()

    def list_categories(self) -> list[Category]:
        """Every category, sorted by order then slug.

        Examples:
            >>> kb = KnowledgeBaseService()
            >>> _ = kb.load_default_articles()
            >>> kb.list_categories()[0].slug
            'getting-started'
        """
        self._ensure_loaded()
        return sorted(self._categories.values(), key=lambda c: (c.order, c.slug))

    def breadcrumbs(self, category: str, *, locale: str = "en") -> tuple[Category, ...]:
        """The path from the top category down to ``category`` (empty when unknown).

        Examples:
            >>> kb = KnowledgeBaseService()
            >>> _ = kb.load_default_articles()
            >>> [c.slug for c in kb.breadcrumbs("video-visits")]
            ['visits', 'video-visits']
        """
        self._ensure_loaded()
        path: list[Category] = []
        current = self._categories.get(category)
        while current is not None and current not in path:
            path.append(current)
            current = self._categories.get(current.parent) if current.parent else None
        return tuple(reversed(path))

    def _descendants(self, slug: str) -> set[str]:
        found = {slug}
        changed = True
        while changed:
            changed = False
            for category in self._categories.values():
                if category.parent in found and category.slug not in found:
                    found.add(category.slug)
                    changed = True
        return found

    def category_tree(self, *, locale: str = "en") -> tuple[CategoryNode, ...]:
        """The category tree with titles in ``locale`` and published-article counts.

        A node's count includes its descendants' articles.

        Examples:
            >>> kb = KnowledgeBaseService()
            >>> _ = kb.load_default_articles()
            >>> visits = next(n for n in kb.category_tree() if n.slug == "visits")
            >>> visits.count >= sum(child.count for child in visits.children)
            True
        """
        _check_str(locale, "locale", 20)
        self._ensure_loaded()
        direct: dict[str, int] = {}
        for record in self._records.values():
            article = record.article
            if article.status == "published" and article.locale == locale:
                direct[article.category] = direct.get(article.category, 0) + 1

        def build(parent: str | None) -> tuple[CategoryNode, ...]:
            nodes = []
            for category in sorted(self._categories.values(), key=lambda c: (c.order, c.slug)):
                if category.parent == parent:
                    children = build(category.slug)
                    count = direct.get(category.slug, 0) + sum(c.count for c in children)
                    nodes.append(
                        CategoryNode(
                            slug=category.slug,
                            title=category.title_for(locale),
                            count=count,
                            children=children,
                        )
                    )
            return tuple(nodes)

        return build(None)

    # ------------------------------------------------------------------ search

    def search(
        self,
        query: str,
        *,
        locale: str = "en",
        category: str | None = None,
        page: int = 1,
        per_page: int = 10,
    ) -> SearchResults:
        """Search the published articles of a locale, falling back to the default locale.

        Args:
            query: What the user typed. Empty or whitespace gives no hits; control characters
                are dropped; only the first 200 characters count.
            locale: The reader's locale. An unknown locale, or one where nothing matches,
                searches the default locale and says so (``fell_back``).
            category: Only this category and its descendants (facets still count all).
            page: 1-based page number.
            per_page: Hits per page (1 to 100).

        Returns:
            Ranked hits with highlighted titles and snippets, total, facets and, when nothing
            matched, a ``did_you_mean`` correction.

        Raises:
            InvalidInputError: ``query`` is not a str, or a paging argument is out of range.

        Examples:
            >>> kb = KnowledgeBaseService()
            >>> _ = kb.load_default_articles()
            >>> results = kb.search("telehealth", locale="en")
            >>> results.hits[0].title_html.count("<mark>") >= 1
            True
            >>> kb.search("   ").total
            0
        """
        text = clean_query(query)
        given_locale: object = locale
        if not isinstance(given_locale, str):
            raise InvalidInputError("locale", "must be a str")
        _check_int(page, "page", 1, _MAX_PAGE)
        _check_int(per_page, "per_page", 1, _MAX_PER_PAGE)
        if category is not None:
            _check_str(category, "category", 120)
        self._ensure_loaded()
        wanted = locale if locale in SUPPORTED_LOCALES else self._default_locale
        normalised = _normalised(text)
        key = f"search:{self._generation()}:{locale[:20]}:{category or ''}:{page}:{per_page}:{text}"
        cached = self._cache_get(key) if normalised else None
        results: SearchResults | None = None
        if cached is not None:
            try:
                results = SearchResults.parse(json.loads(cached))
            except (ValueError, InvalidInputError):
                results = None
        if results is None:
            results = self._search(text, locale, wanted, category, page, per_page)
            if normalised:
                self._cache_set(key, results.model_dump_json())
        if normalised and page == 1:
            try:
                self._activity.add_search(results.locale, normalised, found=results.total > 0)
            except StoreUnavailableError:
                logger.warning("search_not_counted")
        return results

    def _search(
        self,
        text: str,
        requested: str,
        locale: str,
        category: str | None,
        page: int,
        per_page: int,
    ) -> SearchResults:
        categories = self._descendants(category) if category is not None else None
        offset = (page - 1) * per_page
        searched = locale
        with self._lock:
            hits, total, facets = self._index(locale).search(
                text,
                categories=categories,
                offset=offset,
                limit=per_page,
                popularity_boost=self._popularity_boost,
            )
            if total == 0 and locale != self._default_locale:
                fallback = self._index(self._default_locale).search(
                    text,
                    categories=categories,
                    offset=offset,
                    limit=per_page,
                    popularity_boost=self._popularity_boost,
                )
                if fallback[1]:
                    hits, total, facets = fallback
                    searched = self._default_locale
            suggestion = self._index(searched).suggest(text) if total == 0 and text else None
        return SearchResults(
            query=text,
            locale=searched,
            requested_locale=requested,
            fell_back=searched != requested,
            hits=tuple(hits),
            total=total,
            page=page,
            per_page=per_page,
            facets=tuple(facets),
            did_you_mean=suggestion,
        )

    def set_popularity_from_activity(self, *, days: int = 30) -> None:
        """Feed views of the last ``days`` days and helpful votes into the popularity boost.

        Examples:
            >>> KnowledgeBaseService(popularity_boost=0.2).set_popularity_from_activity() is None
            True
        """
        _check_int(days, "days", 1, 400)
        self._ensure_loaded()
        today = self._clock.now().date()
        views = self._activity.views_between(today - timedelta(days=days - 1), today)
        votes = self._activity.votes()
        with self._lock:
            for article_id, record in self._records.items():
                popularity = views.get(article_id, 0) + votes.get(article_id, (0, 0))[0]
                self._index(record.article.locale).set_popularity(article_id, popularity)
        self._invalidate()

    # ------------------------------------------------------------------ analytics

    def record_click(self, query: str, article_id: str, *, locale: str = "en") -> None:
        """Count a click from the results of ``query`` to an article (click-through).

        Best effort: a failing counter is logged and the call returns.

        Raises:
            InvalidInputError: ``query`` is not a str or ``article_id`` is malformed.

        Examples:
            >>> kb = KnowledgeBaseService()
            >>> _ = kb.load_default_articles()
            >>> _ = kb.search("refill")
            >>> kb.record_click("refill", "en/requesting-a-prescription-refill")
            >>> kb.search_report()[0].clicks
            1
        """
        text = clean_query(query)
        check_article_id(article_id)
        normalised = _normalised(text)
        if not normalised:
            return
        wanted = locale if locale in SUPPORTED_LOCALES else self._default_locale
        try:
            self._activity.add_click(wanted, normalised)
        except StoreUnavailableError:
            logger.warning("click_not_counted", article_id=article_id)

    def search_report(self, *, locale: str = "en") -> list[SearchStat]:
        """Searches, no-result searches and clicks per normalised query, most searched first.

        Examples:
            >>> KnowledgeBaseService().search_report()
            []
        """
        _check_str(locale, "locale", 20)
        stats = self._activity.search_stats(locale)
        return sorted(stats, key=lambda s: (-s.searches, s.query))

    def content_gaps(self, *, locale: str = "en", limit: int = 20) -> list[SearchStat]:
        """Queries that found nothing, most frequent first: articles to write next.

        Examples:
            >>> kb = KnowledgeBaseService()
            >>> _ = kb.load_default_articles()
            >>> _ = kb.search("parking validation zzz")
            >>> [gap.query for gap in kb.content_gaps()]
            ['parking validation zzz']
        """
        _check_int(limit, "limit", 1, 1000)
        gaps = [s for s in self.search_report(locale=locale) if s.no_results]
        return sorted(gaps, key=lambda s: (-s.no_results, s.query))[:limit]

    def top_articles(
        self, *, days: int = 30, limit: int = 10, locale: str | None = None
    ) -> list[ViewCount]:
        """The most read articles of the last ``days`` days (today included).

        Examples:
            >>> kb = KnowledgeBaseService()
            >>> _ = kb.load_default_articles()
            >>> _ = kb.get_article("paying-your-bill")
            >>> kb.top_articles()[0].article_id
            'en/paying-your-bill'
        """
        _check_int(days, "days", 1, 400)
        _check_int(limit, "limit", 1, 1000)
        self._ensure_loaded()
        today = self._clock.now().date()
        views = self._activity.views_between(today - timedelta(days=days - 1), today)
        counts = []
        for article_id, count in views.items():
            record = self._records.get(article_id)
            if record is None or (locale is not None and record.article.locale != locale):
                continue
            counts.append(ViewCount(article_id=article_id, title=record.article.title, views=count))
        return sorted(counts, key=lambda v: (-v.views, v.article_id))[:limit]

    # ------------------------------------------------------------------ feedback

    def record_feedback(
        self,
        article_id: str,
        helpful: bool,
        *,
        comment: str | None = None,
        visitor_id: str | None = None,
    ) -> Helpfulness:
        """Record a helpful / not helpful vote, optionally with a comment.

        With a ``visitor_id``, a visitor has one vote per article and a later vote replaces
        the earlier one; without, every vote counts.

        Args:
            article_id: ``"<locale>/<slug>"`` of a stored article.
            helpful: ``True`` or ``False`` (not ``"yes"``, not 1).
            comment: Up to 2,000 characters, kept for editors and never logged.
            visitor_id: An opaque id of the visitor (not an e-mail or a name).

        Returns:
            The article's votes after this one.

        Raises:
            NotFoundError: No such article.
            InvalidInputError: ``helpful`` is not a bool, or the comment or visitor id is too
                long or not a str.

        Examples:
            >>> kb = KnowledgeBaseService()
            >>> _ = kb.load_default_articles()
            >>> article = kb.get_article("preparing-for-a-video-visit", locale="en")
            >>> kb.record_feedback(article.id, helpful=False, comment="video would not start").ratio
            0.0
        """
        given_helpful: object = helpful
        given_comment: object = comment
        if not isinstance(given_helpful, bool):
            raise InvalidInputError("helpful", "must be True or False")
        if given_comment is not None and (
            not isinstance(given_comment, str) or len(given_comment) > 2000
        ):
            raise InvalidInputError("comment", "must be a str of at most 2000 characters")
        if visitor_id is not None:
            _check_str(visitor_id, "visitor_id", 200)
        self.get_record(article_id)
        self._activity.set_vote(article_id, visitor_id, helpful)
        if comment and comment.strip():
            self._activity.add_comment(
                FeedbackComment(
                    article_id=article_id,
                    helpful=helpful,
                    comment=comment.strip(),
                    at=self._clock.now(),
                )
            )
        logger.info("feedback_recorded", article_id=article_id, helpful=helpful)
        return self.helpfulness(article_id)

    def helpfulness(self, article_id: str) -> Helpfulness:
        """The votes on an article and the share that found it helpful.

        Examples:
            >>> kb = KnowledgeBaseService()
            >>> _ = kb.load_default_articles()
            >>> kb.helpfulness("en/paying-your-bill").ratio is None
            True
        """
        check_article_id(article_id)
        helpful, unhelpful = self._activity.votes().get(article_id, (0, 0))
        total = helpful + unhelpful
        return Helpfulness(
            article_id=article_id,
            helpful=helpful,
            not_helpful=unhelpful,
            ratio=round(helpful / total, 4) if total else None,
        )

    def least_helpful(self, *, limit: int = 10, min_votes: int = 5) -> list[Helpfulness]:
        """Articles with at least ``min_votes`` votes, least helpful first.

        Examples:
            >>> KnowledgeBaseService().least_helpful()
            []
        """
        _check_int(limit, "limit", 1, 1000)
        _check_int(min_votes, "min_votes", 1, 1_000_000)
        rows = []
        for article_id, (helpful, unhelpful) in self._activity.votes().items():
            total = helpful + unhelpful
            if total >= min_votes:
                rows.append(
                    Helpfulness(
                        article_id=article_id,
                        helpful=helpful,
                        not_helpful=unhelpful,
                        ratio=round(helpful / total, 4),
                    )
                )
        return sorted(rows, key=lambda h: (h.ratio or 0.0, -h.not_helpful, h.article_id))[:limit]

    def feedback_comments(self, article_id: str, *, limit: int = 50) -> list[FeedbackComment]:
        """The newest comments left on an article, newest first.

        Examples:
            >>> kb = KnowledgeBaseService()
            >>> _ = kb.load_default_articles()
            >>> _ = kb.record_feedback("en/paying-your-bill", False, comment="no card option")
            >>> kb.feedback_comments("en/paying-your-bill")[0].comment
            'no card option'
        """
        _check_int(limit, "limit", 1, 200)
        return self._activity.comments(check_article_id(article_id), limit=limit)
