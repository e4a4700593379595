"""Checks and encoding shared by every store, so all of them refuse the same input."""

from __future__ import annotations

import json
import re
from typing import Any

from unified_health.knowledge_base._errors import ConflictError, InvalidInputError
from unified_health.knowledge_base._models import Article, ArticleRecord, Category

__all__ = [
    "check_article",
    "check_article_id",
    "check_category",
    "check_expected_version",
    "conflict",
    "decode_article",
    "decode_category",
    "encode_article",
    "encode_category",
]

_ARTICLE_ID = re.compile(r"^[a-z]{2}(?:-[a-z]{2})?/[a-z0-9]+(?:-[a-z0-9]+)*$")


def check_article_id(article_id: object, field: str = "article_id") -> str:
    """Return ``article_id`` if it looks like ``"<locale>/<slug>"``, else raise."""
    if not isinstance(article_id, str) or len(article_id) > 130:
        raise InvalidInputError(field, "must be a str '<locale>/<slug>'")
    if not _ARTICLE_ID.match(article_id):
        raise InvalidInputError(field, "must look like '<locale>/<slug>'")
    return article_id


def check_article(article: object) -> Article:
    """Return ``article`` if it is an `Article`, else raise."""
    if not isinstance(article, Article):
        raise InvalidInputError("article", "must be an Article")
    return article


def check_category(category: object) -> Category:
    """Return ``category`` if it is a `Category`, else raise."""
    if not isinstance(category, Category):
        raise InvalidInputError("category", "must be a Category")
    return category


def check_expected_version(expected: object) -> int | None:
    """Return ``expected`` if it is ``None`` or a non-negative int, else raise."""
    if expected is None:
        return None
    if isinstance(expected, bool) or not isinstance(expected, int) or expected < 0:
        raise InvalidInputError("expected_version", "must be None or an int >= 0")
    return expected


def conflict(article_id: str, expected: int, current: int) -> ConflictError:
    """The error for a failed version check (ids and numbers only)."""
    if expected == 0:
        return ConflictError(f"article {article_id!r} exists already (version {current})")
    return ConflictError(
        f"article {article_id!r} is at version {current}, the write expected {expected}"
    )


def encode_article(article: Article) -> str:
    """The article as compact JSON."""
    return json.dumps(article.model_dump(mode="json"), separators=(",", ":"), sort_keys=True)


def decode_article(payload: str | bytes | dict[str, Any], version: int) -> ArticleRecord:
    """Rebuild a stored article from its JSON."""
    data = payload if isinstance(payload, dict) else json.loads(payload)
    return ArticleRecord(article=Article.parse(data), version=version)


def encode_category(category: Category) -> str:
    """The category as compact JSON."""
    return json.dumps(category.model_dump(mode="json"), separators=(",", ":"), sort_keys=True)


def decode_category(payload: str | bytes | dict[str, Any]) -> Category:
    """Rebuild a stored category from its JSON."""
    data = payload if isinstance(payload, dict) else json.loads(payload)
    return Category.parse(data)
