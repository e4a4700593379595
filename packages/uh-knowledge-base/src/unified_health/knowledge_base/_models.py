"""The models of uh-knowledge-base: frozen, strict pydantic models.

Invalid input to any of them raises `InvalidInputError`.

`FrozenModel` is the base of every model a user constructs: frozen, ``extra="forbid"`` and strict
(``"yes"`` is not a bool and ``"25"`` is not an int). A broken rule raises `InvalidInputError`
naming the field and the rule; pydantic's own error, whose text echoes the value, never escapes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import date, datetime
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from unified_health.knowledge_base._errors import InvalidInputError

__all__ = [
    "Article",
    "ArticleRecord",
    "ArticleView",
    "BrokenLink",
    "Category",
    "CategoryNode",
    "FacetCount",
    "FeedbackComment",
    "FrozenModel",
    "Helpfulness",
    "SearchHit",
    "SearchResults",
    "SearchStat",
    "TocEntry",
    "ViewCount",
    "invalid_input",
]

_FROM_JSON: ContextVar[bool] = ContextVar("uh_knowledge_base_from_json", default=False)
SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
LOCALE_PATTERN = r"^[a-z]{2}(?:-[a-z]{2})?$"
_TEXT_PATTERN = r"^[^\x00-\x1f\x7f]*$"


def invalid_input(exc: ValidationError, *, prefix: str = "") -> InvalidInputError:
    """Turn pydantic's first error into an `InvalidInputError` that names field and rule only.

    Args:
        exc: The validation error.
        prefix: Dotted path to prepend to the field, for nested input.

    Returns:
        The error to raise (``raise invalid_input(exc) from None``: pydantic's message holds the
        value, so it is not kept as the cause).

    Examples:
        >>> try:
        ...     Category(slug="Not A Slug", title="Visits")
        ... except InvalidInputError as err:
        ...     print(err.field)
        slug
    """
    error = exc.errors(include_url=False, include_input=False, include_context=False)[0]
    path = ".".join(str(part) for part in (*((prefix,) if prefix else ()), *error["loc"]))
    if error["type"] == "extra_forbidden":
        rule = "unknown field"
    elif error["type"] == "string_pattern_mismatch":
        rule = "has characters or a shape that is not allowed"
    else:
        rule = str(error["msg"])
    return InvalidInputError(path or "$", rule)


class FrozenModel(BaseModel):
    """Base of the package's models: frozen, strict, unknown fields refused.

    Examples:
        >>> class Size(FrozenModel):
        ...     width: int
        >>> Size(width=3).width
        3
        >>> try:
        ...     Size(width="3")
        ... except InvalidInputError as err:
        ...     print(err)
        width: Input should be a valid integer
    """

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    def __init__(self, /, **data: Any) -> None:
        try:
            if _FROM_JSON.get():
                # Decoded JSON: strict JSON rules (an ISO date string is a date, a list is a
                # tuple), still no "yes" for True.
                type(self).__pydantic_validator__.validate_json(
                    json.dumps(data), self_instance=self, strict=True
                )
            else:
                super().__init__(**data)
        except ValidationError as exc:
            raise invalid_input(exc) from None
        except (TypeError, ValueError) as exc:
            if isinstance(exc, InvalidInputError):
                raise
            raise InvalidInputError("$", "must be JSON data") from None

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Self:
        """Validate decoded JSON into the model (ISO dates as strings, lists for tuples).

        Args:
            data: The fields.

        Returns:
            The model.

        Raises:
            InvalidInputError: A field broke a rule, or ``data`` is not a mapping.

        Examples:
            >>> Category.parse({"slug": "visits", "title": "Visits"}).order
            0
        """
        if not isinstance(data, Mapping):
            raise InvalidInputError("$", "must be a mapping")
        token = _FROM_JSON.set(True)
        try:
            return cls(**data)
        finally:
            _FROM_JSON.reset(token)


class Article(FrozenModel):
    """One help-centre article: front matter fields and a Markdown body.

    ``id`` is ``"<locale>/<slug>"``; a slug is unique per locale. ``translation_of`` names the slug
    of the article (in the default locale) that this one translates, linking the translations.

    Examples:
        >>> from datetime import date, datetime
        >>> article = Article(
        ...     slug="resetting-your-password", title="Resetting your password",
        ...     category="accounts", updated=date(2026, 1, 5), body="Choose *Forgot password*.",
        ... )
        >>> (article.id, article.status, article.translation_group)
        ('en/resetting-your-password', 'published', 'resetting-your-password')
    """

    slug: str = Field(min_length=1, max_length=120, pattern=SLUG_PATTERN)
    title: str = Field(min_length=1, max_length=200, pattern=_TEXT_PATTERN)
    category: str = Field(min_length=1, max_length=120, pattern=SLUG_PATTERN)
    tags: tuple[str, ...] = Field(default=(), max_length=30)
    locale: str = Field(default="en", pattern=LOCALE_PATTERN)
    audience: str = Field(default="patients", min_length=1, max_length=40, pattern=SLUG_PATTERN)
    status: Literal["draft", "published"] = "published"
    updated: date
    body: str = Field(default="", max_length=200_000)
    translation_of: str | None = Field(default=None, max_length=120, pattern=SLUG_PATTERN)

    @field_validator("tags", mode="before")
    @classmethod
    def _tags_as_tuple(cls, value: object) -> object:
        if isinstance(value, list):
            value = tuple(value)
        if isinstance(value, tuple):
            for tag in value:
                if not isinstance(tag, str) or not 0 < len(tag.strip()) <= 60:
                    raise ValueError("each tag must be a str of 1 to 60 characters")
            return tuple(tag.strip().lower() for tag in value)
        return value

    @property
    def id(self) -> str:
        """``"<locale>/<slug>"``, the article's key in every store."""
        return f"{self.locale}/{self.slug}"

    @property
    def translation_group(self) -> str:
        """The slug shared by an article and its translations."""
        return self.translation_of or self.slug


class ArticleRecord(FrozenModel):
    """An article as stored, with its version (one higher after every write).

    Examples:
        >>> from datetime import date, datetime
        >>> a = Article(slug="a", title="A", category="c", updated=date(2026, 1, 1))
        >>> ArticleRecord(article=a, version=1).version
        1
    """

    article: Article
    version: int = Field(ge=1)


class Category(FrozenModel):
    """A category of the help centre; ``parent`` makes a hierarchy, ``order`` sorts siblings.

    ``titles`` holds translated titles by locale; ``title`` is used when a locale has none.

    Examples:
        >>> Category(slug="video-visits", title="Video visits", parent="visits").parent
        'visits'
    """

    slug: str = Field(min_length=1, max_length=120, pattern=SLUG_PATTERN)
    title: str = Field(min_length=1, max_length=200, pattern=_TEXT_PATTERN)
    parent: str | None = Field(default=None, max_length=120, pattern=SLUG_PATTERN)
    order: int = Field(default=0, ge=-1_000_000, le=1_000_000)
    titles: dict[str, str] = Field(default_factory=dict)

    def title_for(self, locale: str) -> str:
        """Return the title in ``locale``, else the default title.

        Examples:
            >>> billing = Category(slug="billing", title="Billing", titles={"es": "Facturación"})
            >>> billing.title_for("es")
            'Facturación'
        """
        return self.titles.get(locale, self.title)


class CategoryNode(FrozenModel):
    """One node of a category tree: the category, its published-article count and children.

    ``count`` includes the articles of every descendant.

    Examples:
        >>> node = CategoryNode(slug="billing", title="Billing", count=3, children=())
        >>> node.count
        3
    """

    slug: str
    title: str
    count: int
    children: tuple[CategoryNode, ...]


class TocEntry(FrozenModel):
    """A heading of a rendered article: level, anchor id and text.

    Examples:
        >>> TocEntry(level=2, anchor="before-you-start", text="Before you start").anchor
        'before-you-start'
    """

    level: int
    anchor: str
    text: str


class ArticleView(FrozenModel):
    """An article ready to show: sanitised HTML, table of contents, and where it came from.

    ``fell_back`` is true when the requested locale had no translation and the default locale's
    article is shown instead; ``requested_locale`` says what was asked for.

    Examples:
        >>> from datetime import date, datetime
        >>> a = Article(slug="a", title="A", category="c", updated=date(2026, 1, 1))
        >>> view = ArticleView(article=a, html="<p>x</p>", toc=(), requested_locale="es",
        ...                    fell_back=True, breadcrumbs=())
        >>> (view.id, view.fell_back)
        ('en/a', True)
    """

    article: Article
    html: str
    toc: tuple[TocEntry, ...]
    requested_locale: str
    fell_back: bool
    breadcrumbs: tuple[Category, ...]

    @property
    def id(self) -> str:
        """The shown article's id."""
        return self.article.id


class SearchHit(FrozenModel):
    """One search result: the article, its score, and safe HTML with ``<mark>`` highlights.

    Examples:
        >>> SearchHit(id="en/a", slug="a", title="A", title_html="<mark>A</mark>",
        ...           category="c", snippet_html="", score=1.5).title_html
        '<mark>A</mark>'
    """

    id: str
    slug: str
    title: str
    title_html: str
    category: str
    snippet_html: str
    score: float


class FacetCount(FrozenModel):
    """How many matching articles sit in one category.

    Examples:
        >>> FacetCount(category="billing", count=4).count
        4
    """

    category: str
    count: int


class SearchResults(FrozenModel):
    """A page of search results with facets, total, and the locale actually searched.

    ``did_you_mean`` is a corrected query when nothing matched and a correction does.

    Examples:
        >>> SearchResults(query="", locale="en", requested_locale="en", fell_back=False,
        ...               hits=(), total=0, page=1, per_page=10, facets=(), did_you_mean=None).total
        0
    """

    query: str
    locale: str
    requested_locale: str
    fell_back: bool
    hits: tuple[SearchHit, ...]
    total: int
    page: int
    per_page: int
    facets: tuple[FacetCount, ...]
    did_you_mean: str | None


class Helpfulness(FrozenModel):
    """Votes on one article and the share that found it helpful (``None`` before any vote).

    Examples:
        >>> Helpfulness(article_id="en/a", helpful=3, not_helpful=1, ratio=0.75).ratio
        0.75
    """

    article_id: str
    helpful: int
    not_helpful: int
    ratio: float | None


class SearchStat(FrozenModel):
    """How often a normalised query was searched, found nothing, and led to a click.

    Examples:
        >>> SearchStat(query="covid test", searches=4, no_results=4, clicks=0).no_results
        4
    """

    query: str
    searches: int
    no_results: int
    clicks: int


class BrokenLink(FrozenModel):
    """An internal link whose target article does not exist or is not published.

    Examples:
        >>> BrokenLink(article_id="en/a", target="missing-page").target
        'missing-page'
    """

    article_id: str
    target: str


class FeedbackComment(FrozenModel):
    """A comment left with a vote (free text: shown to editors, never logged).

    Examples:
        >>> from datetime import UTC, datetime
        >>> FeedbackComment(article_id="en/a", helpful=False, comment="video froze",
        ...                 at=datetime(2026, 1, 5, tzinfo=UTC)).helpful
        False
    """

    article_id: str
    helpful: bool
    comment: str
    at: datetime


class ViewCount(FrozenModel):
    """How many times an article was read in a period.

    Examples:
        >>> ViewCount(article_id="en/a", title="A", views=12).views
        12
    """

    article_id: str
    title: str
    views: int
