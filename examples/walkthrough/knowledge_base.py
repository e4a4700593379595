"""uh-knowledge-base: the default help articles searched with typos, read in Spanish, rated."""

from __future__ import annotations

import re
from collections.abc import Callable

from unified_health.knowledge_base import InMemoryArticleStore, InMemoryCache, KnowledgeBaseService


def _text(html: str) -> str:
    """Show highlights as [brackets] in a terminal."""
    return re.sub(r"</?mark>", lambda m: "]" if m.group().startswith("</") else "[", html)


def run(say: Callable[[str], None]) -> None:
    """Load the shipped articles and show search, locale fallback, feedback and reports."""
    kb = KnowledgeBaseService(storage=InMemoryArticleStore(), cache=InMemoryCache())
    loaded = kb.load_default_articles()
    say(f"loaded {loaded} default articles in {len(kb.list_categories())} categories")
    for query in ("perscription refil", "cant log in", "telehealth"):
        results = kb.search(query)
        top = results.hits[0]
        say(f'"{query}": {results.total} hits, first "{top.title}"')
        say(f"    {_text(top.snippet_html)}")
    missing = kb.search("insrnc")
    say(f'"insrnc": {missing.total} hits, did you mean "{missing.did_you_mean}"?')
    view = kb.get_article("trouble-signing-in", locale="es")
    say(f"Spanish reader asks for trouble-signing-in: shown in {view.article.locale} "
        f"(fell back: {view.fell_back}), {len(view.toc)} sections")  # fmt: skip
    spanish = kb.get_article("resetting-your-password", locale="es")
    say(f'Spanish translation found: "{spanish.article.title}"')
    vote = kb.record_feedback(view.id, helpful=False, comment="still locked out", visitor_id="v-1")
    say(f"feedback on {view.id}: {vote.helpful} helpful, {vote.not_helpful} not helpful")
    say(f"most read today: {kb.top_articles()[0].article_id}")
    say(f"content gaps: {[gap.query for gap in kb.content_gaps()]}")
