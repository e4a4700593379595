"""The public API of uh-knowledge-base."""

from unified_health.knowledge_base._clock import Clock, SystemClock
from unified_health.knowledge_base._content import Renderer, dump_article, parse_article
from unified_health.knowledge_base._errors import InvalidInputError, KnowledgeBaseError
from unified_health.knowledge_base._models import Article
from unified_health.knowledge_base._version import __version__

__all__ = [
    "Article",
    "Clock",
    "InvalidInputError",
    "KnowledgeBaseError",
    "Renderer",
    "SystemClock",
    "__version__",
    "dump_article",
    "parse_article",
]
