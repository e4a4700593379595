"""The public API of uh-knowledge-base.

A help centre whose search finds the answer, even misspelt: Markdown articles with front matter,
sanitised HTML, categories, locales, typo-tolerant search, views and feedback.

Examples:
    >>> from unified_health.knowledge_base import (
    ...     KnowledgeBaseService, InMemoryArticleStore, InMemoryCache)
    >>> kb = KnowledgeBaseService(storage=InMemoryArticleStore(), cache=InMemoryCache())
    >>> kb.load_default_articles() >= 30
    True
    >>> kb.search(query="cant log in", locale="en").hits[0].slug
    'trouble-signing-in'
"""

from unified_health.knowledge_base._client import SUPPORTED_LOCALES, KnowledgeBaseService
from unified_health.knowledge_base._clock import Clock, SystemClock
from unified_health.knowledge_base._content import Renderer, dump_article, parse_article
from unified_health.knowledge_base._errors import (
    ConflictError,
    InvalidInputError,
    KnowledgeBaseError,
    NotFoundError,
    StoreUnavailableError,
)
from unified_health.knowledge_base._models import (
    Article,
    ArticleRecord,
    ArticleView,
    BrokenLink,
    Category,
    CategoryNode,
    FacetCount,
    FeedbackComment,
    Helpfulness,
    SearchHit,
    SearchResults,
    SearchStat,
    TocEntry,
    ViewCount,
)
from unified_health.knowledge_base._search import DEFAULT_SYNONYMS, SearchIndex
from unified_health.knowledge_base._version import __version__
from unified_health.knowledge_base.stores import (
    ActivityStore,
    ArticleStore,
    Cache,
    InMemoryActivityStore,
    InMemoryArticleStore,
    InMemoryCache,
    PostgresArticleStore,
    RedisActivityStore,
    RedisArticleStore,
    RedisCache,
    RedisClientProtocol,
)

__all__ = [
    "ActivityStore",
    "Article",
    "ArticleRecord",
    "ArticleStore",
    "ArticleView",
    "BrokenLink",
    "Cache",
    "Category",
    "CategoryNode",
    "Clock",
    "ConflictError",
    "DEFAULT_SYNONYMS",
    "FacetCount",
    "FeedbackComment",
    "Helpfulness",
    "InMemoryActivityStore",
    "InMemoryArticleStore",
    "InMemoryCache",
    "InvalidInputError",
    "KnowledgeBaseError",
    "KnowledgeBaseService",
    "NotFoundError",
    "PostgresArticleStore",
    "RedisActivityStore",
    "RedisArticleStore",
    "RedisCache",
    "RedisClientProtocol",
    "Renderer",
    "SUPPORTED_LOCALES",
    "SearchHit",
    "SearchIndex",
    "SearchResults",
    "SearchStat",
    "StoreUnavailableError",
    "SystemClock",
    "TocEntry",
    "ViewCount",
    "__version__",
    "dump_article",
    "parse_article",
]
