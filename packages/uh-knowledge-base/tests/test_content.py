"""Front matter, rendering and sanitising: no hostile Markdown reaches the page as live HTML."""

from __future__ import annotations

from datetime import date
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from unified_health.knowledge_base import Article, InvalidInputError, Renderer
from unified_health.knowledge_base._content import dump_article, parse_article

ALLOWED_TAGS = {
    "a", "blockquote", "br", "code", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "li",
    "ol", "p", "pre", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRS = {"href", "title", "id", "rel", "align"}

# Classic vectors, written as an author (or an attacker with author rights) might paste them.
XSS_VECTORS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<body onload=alert(1)>",
    "<iframe src='javascript:alert(1)'></iframe>",
    "<a href='javascript:alert(1)'>click</a>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](java\tscript:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](&#x6A;avascript:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](vbscript:msgbox(1))",
    "[click]( javascript:alert(1))",
    "<javascript:alert(1)>",
    "![x](javascript:alert(1))",
    '![x](x" onerror="alert(1))',
    '[x](https://ok.example "title" onmouseover="alert(1)")',
    "[x][ref]\n\n[ref]: javascript:alert(1)",
    "<div style='background:url(javascript:alert(1))'>x</div>",
    "<style>body{background:red}</style>",
    "<link rel=stylesheet href=//evil.example/x.css>",
    "<meta http-equiv=refresh content='0;url=javascript:alert(1)'>",
    "<object data='javascript:alert(1)'></object>",
    "<embed src='javascript:alert(1)'>",
    "<form action='javascript:alert(1)'><input type=submit></form>",
    "<math><mi xlink:href='javascript:alert(1)'>x</mi></math>",
    "<details open ontoggle=alert(1)>",
    "<video><source onerror=alert(1)></video>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<<script>script>alert(1)<</script>/script>",
    "<!--<script>alert(1)</script>-->",
    "<![CDATA[<script>alert(1)</script>]]>",
    "`<script>alert(1)</script>`",
    "```\n<script>alert(1)</script>\n```",
    "> <img src=x onerror=alert(1)>",
    "# Heading <img src=x onerror=alert(1)>",
    "| a |\n|---|\n| <script>alert(1)</script> |",
    '<a href="#" onclick="alert(1)">x</a>',
    '[x](https://ok.example/"><script>alert(1)</script>)',
    "<base href='javascript:alert(1)//'>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
]


class _Inspector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.attrs: set[str] = set()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        for name, value in attrs:
            self.attrs.add(name)
            if name == "href":
                self.hrefs.append(value or "")


def assert_safe(html: str) -> None:
    inspector = _Inspector()
    inspector.feed(html)
    assert inspector.tags <= ALLOWED_TAGS, inspector.tags - ALLOWED_TAGS
    assert inspector.attrs <= ALLOWED_ATTRS, inspector.attrs - ALLOWED_ATTRS
    for href in inspector.hrefs:
        scheme = href.split(":", 1)[0].strip().lower() if ":" in href.split("/", 1)[0] else ""
        assert scheme in {"", "http", "https", "mailto", "tel"}, href


@pytest.mark.parametrize("vector", XSS_VECTORS)
def test_every_xss_vector_comes_out_inert(vector: str) -> None:
    html = Renderer().render(f"Before.\n\n{vector}\n\nAfter.").html
    assert_safe(html)
    assert "<script" not in html.lower()
    assert "After." in html


def test_raw_html_is_shown_as_text_not_dropped() -> None:
    html = Renderer().render("Press <kbd>Enter</kbd> to send.").html
    assert html == "<p>Press &lt;kbd&gt;Enter&lt;/kbd&gt; to send.</p>"


@settings(max_examples=150, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(list("<>\"'=/:;&#[]()!`*_ \nascriptjvonerrlimgdt1")), max_size=120
    )
)
def test_any_markdown_renders_to_allowed_tags_and_attributes(body: str) -> None:
    assert_safe(Renderer().render(body).html)


def test_headings_get_anchors_and_make_the_toc() -> None:
    rendered = Renderer().render(
        "## Before you start\n\ntext\n\n### Camera & microphone\n\n## Before you start"
    )
    assert [(e.level, e.anchor, e.text) for e in rendered.toc] == [
        (2, "before-you-start", "Before you start"),
        (3, "camera-microphone", "Camera & microphone"),
        (2, "before-you-start_1", "Before you start"),
    ]
    assert '<h3 id="camera-microphone">' in rendered.html


def test_internal_links_are_rewritten_and_reported() -> None:
    rendered = Renderer(link_base="/kb/").render(
        "See [refills](article:refills) and [lab results](article:lab-results#reading)."
    )
    assert rendered.links == ("refills", "lab-results")
    assert 'href="/kb/refills"' in rendered.html
    assert 'href="/kb/lab-results#reading"' in rendered.html


def test_ordinary_links_keep_safe_schemes() -> None:
    html = (
        Renderer().render("[call](tel:+15551234567) [site](https://example.org) [top](#top)").html
    )
    assert 'href="tel:+15551234567"' in html
    assert 'href="https://example.org"' in html
    assert 'href="#top"' in html


@pytest.mark.parametrize("link_base", ["help", "", 3, '/x"onload=1'])
def test_a_bad_link_base_is_refused(link_base: object) -> None:
    with pytest.raises(InvalidInputError) as caught:
        Renderer(link_base=link_base)  # type: ignore[arg-type]
    assert caught.value.field == "link_base"


def test_render_refuses_a_non_string_body() -> None:
    with pytest.raises(InvalidInputError) as caught:
        Renderer().render(b"<script>")  # type: ignore[arg-type]
    assert caught.value.field == "body"


GOOD = """---
title: Requesting a refill
slug: requesting-a-refill
category: prescriptions
tags: [refill, pharmacy, "rx"]
locale: en
audience: patients
status: published
updated: 2026-02-01
---
## Steps

Open **Prescriptions**.
"""


def test_front_matter_parses_every_field() -> None:
    article = parse_article(GOOD)
    assert article == Article(
        slug="requesting-a-refill",
        title="Requesting a refill",
        category="prescriptions",
        tags=("refill", "pharmacy", "rx"),
        locale="en",
        audience="patients",
        status="published",
        updated=date(2026, 2, 1),
        body="## Steps\n\nOpen **Prescriptions**.",
    )
    assert parse_article(dump_article(article)) == article


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("no front matter", "refill.md.front_matter"),
        ("---\ntitle: x\n", "refill.md.front_matter"),
        ("---\njust words\n---\n", "refill.md.front_matter"),
        (GOOD.replace("audience: patients", "colour: blue"), "refill.md.colour"),
        (GOOD.replace("updated: 2026-02-01", "updated: yesterday"), "refill.md.updated"),
        (GOOD.replace("slug: requesting-a-refill\n", ""), "refill.md.slug"),
        (GOOD.replace("slug: requesting-a-refill", "slug: Bad Slug!"), "refill.md.slug"),
        (GOOD.replace("status: published", "status: live"), "refill.md.status"),
        (GOOD.replace("locale: en", "locale: english"), "refill.md.locale"),
        (GOOD.replace('tags: [refill, pharmacy, "rx"]', "tags: [refill"), "refill.md.tags"),
        (GOOD.replace("locale: en", "title: again"), "refill.md.title"),
    ],
)
def test_malformed_front_matter_names_the_file_and_key(text: str, field: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse_article(text, source="refill.md")
    assert caught.value.field == field
    assert caught.value.__cause__ is None


def test_the_value_is_never_echoed_in_errors() -> None:
    secret = "Jane Doe 123-45-6789"
    with pytest.raises(InvalidInputError) as caught:
        parse_article(GOOD.replace("slug: requesting-a-refill", f"slug: {secret}"))
    assert secret not in str(caught.value)


def test_articles_are_frozen_and_strict() -> None:
    article = parse_article(GOOD)
    with pytest.raises(ValueError, match="frozen"):
        article.title = "x"  # type: ignore[misc]
    with pytest.raises(InvalidInputError) as caught:
        Article(slug="a", title="A", category="c", updated="2026-01-01")  # type: ignore[arg-type]
    assert caught.value.field == "updated"
