"""Articles as Markdown files: front matter, rendering, sanitising, anchors, TOC and links.

An article file is front matter between ``---`` lines, then the Markdown body::

    ---
    title: Preparing for a video visit
    slug: preparing-for-a-video-visit
    category: video-visits
    tags: [telehealth, camera, microphone]
    locale: en
    audience: patients
    status: published
    updated: 2026-01-05
    ---
    Join from the link in your reminder...

Rendering uses python-markdown with raw HTML switched off (it shows as text), then the nh3
allow-list sanitiser: no script, no event handler, no ``javascript:`` or ``data:`` URL survives.
Headings get ``id`` anchors and make the table of contents. Links to ``article:<slug>`` are
internal links: they are rewritten to ``<link_base><slug>`` and reported, so broken ones are found.
"""

from __future__ import annotations

import re
import threading
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date
from html import unescape
from typing import Any

import markdown
import nh3
from markdown.extensions import Extension
from markdown.extensions.toc import TocExtension
from markdown.treeprocessors import Treeprocessor

from unified_health.knowledge_base._errors import InvalidInputError
from unified_health.knowledge_base._models import Article, TocEntry

__all__ = ["Rendered", "Renderer", "dump_article", "parse_article"]

_FIELDS = (
    "title",
    "slug",
    "category",
    "tags",
    "locale",
    "audience",
    "status",
    "updated",
    "translation_of",
)
_REQUIRED = ("title", "slug", "category", "updated")
_KEY_LINE = re.compile(r"^([a-z_]+)\s*:\s*(.*)$")
_INTERNAL = "article:"
_ALLOWED_TAGS = {
    "a", "blockquote", "br", "code", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "li",
    "ol", "p", "pre", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
_ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    **{f"h{level}": {"id"} for level in range(1, 7)},
    "th": {"align"},
    "td": {"align"},
}
_URL_SCHEMES = {"http", "https", "mailto", "tel"}
_ANCHOR_SAFE = re.compile(r"[^a-z0-9_-]+")


def _scalar(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def parse_article(text: str, *, source: str = "text") -> Article:
    """Parse a Markdown file with front matter into an `Article`.

    Args:
        text: The whole file.
        source: A name for the file, used only in error fields (e.g. ``"billing/faq.md"``).

    Returns:
        The article (not yet stored).

    Raises:
        InvalidInputError: The front matter is missing, malformed, names an unknown key, lacks a
            required key, or a value breaks a rule; ``field`` says which (``"<source>.<key>"``).

    Examples:
        >>> article = parse_article('''---
        ... title: Paying a bill
        ... slug: paying-a-bill
        ... category: billing
        ... tags: [payment, card]
        ... updated: 2026-01-05
        ... ---
        ... Open **Billing**.''')
        >>> (article.id, article.tags, article.body)
        ('en/paying-a-bill', ('payment', 'card'), 'Open **Billing**.')
    """
    given: object = text
    if not isinstance(given, str):
        raise InvalidInputError(source, "must be a str")
    lines = text.replace("\r\n", "\n").split("\n")
    if not lines or lines[0].strip() != "---":
        raise InvalidInputError(f"{source}.front_matter", "must start with a line '---'")
    try:
        end = next(i for i, line in enumerate(lines[1:], 1) if line.strip() == "---")
    except StopIteration:
        raise InvalidInputError(f"{source}.front_matter", "must end with a line '---'") from None
    fields: dict[str, Any] = {}
    for number, line in enumerate(lines[1:end], 2):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _KEY_LINE.match(line)
        if match is None:
            raise InvalidInputError(f"{source}.front_matter", f"line {number} is not 'key: value'")
        key, raw = match.group(1), match.group(2)
        if key not in _FIELDS:
            raise InvalidInputError(f"{source}.{key}", "unknown front matter key")
        if key in fields:
            raise InvalidInputError(f"{source}.{key}", "appears twice")
        if key == "tags":
            inner = raw.strip()
            if inner.startswith("[") != inner.endswith("]"):
                raise InvalidInputError(f"{source}.tags", "must be a [list, of, tags]")
            inner = inner.strip("[]")
            fields[key] = [_scalar(tag) for tag in inner.split(",") if tag.strip()]
        elif key == "updated":
            try:
                fields[key] = date.fromisoformat(_scalar(raw))
            except ValueError:
                raise InvalidInputError(f"{source}.updated", "must be a date YYYY-MM-DD") from None
        else:
            fields[key] = _scalar(raw)
    for key in _REQUIRED:
        if key not in fields:
            raise InvalidInputError(f"{source}.{key}", "is required in the front matter")
    body = "\n".join(lines[end + 1 :]).strip("\n")
    try:
        return Article(**fields, body=body)
    except InvalidInputError as exc:
        raise InvalidInputError(f"{source}.{exc.field}", exc.rule) from None


def dump_article(article: Article) -> str:
    """Write an article as a Markdown file with front matter (the inverse of `parse_article`).

    Args:
        article: The article.

    Returns:
        The file's text.

    Examples:
        >>> from datetime import date
        >>> a = Article(slug="a", title="A", category="c", updated=date(2026, 1, 5), body="Hi")
        >>> parse_article(dump_article(a)) == a
        True
    """
    lines = ["---", f"title: {article.title}", f"slug: {article.slug}"]
    lines.append(f"category: {article.category}")
    if article.tags:
        lines.append("tags: [" + ", ".join(article.tags) + "]")
    lines += [
        f"locale: {article.locale}",
        f"audience: {article.audience}",
        f"status: {article.status}",
        f"updated: {article.updated.isoformat()}",
    ]
    if article.translation_of:
        lines.append(f"translation_of: {article.translation_of}")
    lines += ["---", article.body, ""]
    return "\n".join(lines)


@dataclass(frozen=True)
class Rendered:
    """The result of rendering one article body.

    Attributes:
        html: Sanitised HTML.
        toc: The headings, in order.
        links: Slugs of the articles this body links to with ``article:<slug>``.
    """

    html: str
    toc: tuple[TocEntry, ...]
    links: tuple[str, ...]


def _safe_href(href: str) -> bool:
    """Allow only relative URLs and the allowed schemes, however the scheme is disguised."""
    squeezed = re.sub(r"[\s\x00-\x1f\x7f]+", "", unescape(href)).lower()
    head = re.split(r"[/?#]", squeezed, maxsplit=1)[0]
    if ":" not in head:
        return True
    scheme = head.split(":", 1)[0]
    return scheme in _URL_SCHEMES or f"{scheme}:" == _INTERNAL


class _LinkCollector(Treeprocessor):
    def __init__(self, md: markdown.Markdown, link_base: str) -> None:
        super().__init__(md)
        self.link_base = link_base
        self.links: list[str] = []

    def run(self, root: ET.Element) -> None:
        self.links = []
        for element in root.iter("a"):
            href = element.get("href", "")
            if not _safe_href(href):
                element.attrib.pop("href", None)
                continue
            if href.lower().startswith(_INTERNAL):
                target, _, anchor = href[len(_INTERNAL) :].partition("#")
                self.links.append(target)
                element.set("href", self.link_base + target + (f"#{anchor}" if anchor else ""))


class _Safety(Extension):
    def __init__(self, link_base: str) -> None:
        super().__init__()
        self.link_base = link_base
        self.collector: _LinkCollector | None = None

    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 - python-markdown API
        # Raw HTML is never passed through: block and inline HTML become escaped text.
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")
        md.inlinePatterns.deregister("entity")
        self.collector = _LinkCollector(md, self.link_base)
        md.treeprocessors.register(self.collector, "uh_links", 1)


def _slugify(value: str, separator: str) -> str:
    text = unescape(value).lower()
    return _ANCHOR_SAFE.sub(separator, text).strip(separator)[:80] or "section"


def _flatten(tokens: list[dict[str, Any]], out: list[TocEntry]) -> None:
    for token in tokens:
        anchor = _ANCHOR_SAFE.sub("-", str(token["id"]).lower())
        text = unescape(re.sub(r"<[^>]*>", "", str(token["name"])))
        out.append(TocEntry(level=int(token["level"]), anchor=anchor, text=text))
        _flatten(token["children"], out)


class Renderer:
    r"""Renders article bodies to safe HTML; thread-safe, reusable.

    Args:
        link_base: The URL path that internal links ``article:<slug>`` point to.

    Examples:
        >>> renderer = Renderer(link_base="/help/")
        >>> out = renderer.render("## Joining\n\nSee [refills](article:refills). <b>")
        >>> print(out.html)
        <h2 id="joining">Joining</h2>
        <p>See <a href="/help/refills" rel="noopener noreferrer">refills</a>. &lt;b&gt;</p>
        >>> (out.toc[0].anchor, out.links)
        ('joining', ('refills',))
    """

    def __init__(self, *, link_base: str = "/help/") -> None:
        given: object = link_base
        if not isinstance(given, str) or not link_base.startswith("/") or '"' in link_base:
            raise InvalidInputError("link_base", "must be a URL path starting with '/'")
        self._link_base = link_base
        self._local = threading.local()
        self._cleaner = nh3.Cleaner(
            tags=_ALLOWED_TAGS,
            attributes=_ALLOWED_ATTRIBUTES,
            url_schemes=_URL_SCHEMES,
            strip_comments=True,
            link_rel="noopener noreferrer",
        )

    def _markdown(self) -> tuple[markdown.Markdown, _Safety]:
        made: tuple[markdown.Markdown, _Safety] | None = getattr(self._local, "md", None)
        if made is None:
            safety = _Safety(self._link_base)
            md = markdown.Markdown(
                extensions=[
                    "tables",
                    "fenced_code",
                    "sane_lists",
                    TocExtension(slugify=_slugify, toc_depth="2-4", anchorlink=False),
                    safety,
                ],
                output_format="html",
            )
            made = (md, safety)
            self._local.md = made
        return made

    def render(self, body: str) -> Rendered:
        """Render a Markdown body to sanitised HTML with heading anchors and a TOC.

        Args:
            body: The Markdown text.

        Returns:
            The HTML, the table of contents and the internal link targets.

        Raises:
            InvalidInputError: ``body`` is not a str.

        Examples:
            >>> Renderer().render("[x](javascript:alert(1))").html
            '<p><a rel="noopener noreferrer">x</a></p>'
        """
        given: object = body
        if not isinstance(given, str):
            raise InvalidInputError("body", "must be a str")
        md, safety = self._markdown()
        md.reset()
        html = md.convert(body.replace("\x00", ""))
        toc: list[TocEntry] = []
        _flatten(getattr(md, "toc_tokens", []), toc)
        links = tuple(safety.collector.links) if safety.collector is not None else ()
        return Rendered(html=self._cleaner.clean(html), toc=tuple(toc), links=links)
